"""Login, logout, ``/me`` and the agent admin API against a real server on both databases."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from chatdesk.clock import utcnow
from tests.support.server import LiveServer, start_live_server

PASSWORD = "correct horse battery"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_login_returns_a_bearer_token_that_identifies_the_agent(
    live_server: LiveServer,
) -> None:
    agent_id = await live_server.create_agent(
        email="anna@example.com", name="Anna", languages=["cs", "en"], departments=["sales"]
    )
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await _login(client, "anna@example.com")
        assert response.status_code == 200
        body = response.json()
        assert datetime.fromisoformat(body["expires_at"]) > utcnow()
        client.cookies.clear()  # prove the header alone is enough
        me = await client.get("/api/v1/auth/me", headers=_bearer(body["token"]))
    assert me.status_code == 200
    assert me.json() == {
        "id": agent_id,
        "email": "anna@example.com",
        "name": "Anna",
        "role": "agent",
        "languages": ["cs", "en"],
        "departments": ["sales"],
        "max_chats": 3,
        "status": "offline",
        "auto_accept": False,
    }


async def test_login_sets_a_strict_http_only_cookie_that_authenticates(
    live_server: LiveServer,
) -> None:
    await live_server.create_agent(email="anna@example.com")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await _login(client, "anna@example.com")
        cookie = response.headers["set-cookie"]
        me = await client.get("/api/v1/auth/me")  # no header: the cookie jar sends it
    assert cookie.startswith(f"chatdesk_session={response.json()['token']};")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= attributes
    assert f"max-age={live_server.settings.agent_token_ttl_s}" in attributes
    assert "secure" not in attributes  # plain http here; https requests get Secure
    assert me.status_code == 200


async def test_login_email_is_case_insensitive(live_server: LiveServer) -> None:
    await live_server.create_agent(email="Anna@Example.com")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await _login(client, "  ANNA@example.COM ")
    assert response.status_code == 200


async def test_unknown_email_and_wrong_password_get_the_same_401(live_server: LiveServer) -> None:
    await live_server.create_agent(email="anna@example.com")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        wrong_password = await _login(client, "anna@example.com", "not the password")
        unknown_email = await _login(client, "nobody@example.com")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert "set-cookie" not in wrong_password.headers


async def test_requests_without_a_valid_token_are_401(live_server: LiveServer) -> None:
    assert live_server.runtime is not None
    visitor_token, _ = live_server.runtime.signer.issue("visitor", "v1", now=utcnow(), ttl_s=60)
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        missing = await client.get("/api/v1/auth/me")
        garbage = await client.get("/api/v1/auth/me", headers=_bearer("garbage.token"))
        visitor = await client.get("/api/v1/auth/me", headers=_bearer(visitor_token))
        agents = await client.get("/api/v1/agents")
    assert [r.status_code for r in (missing, garbage, visitor, agents)] == [401] * 4


async def test_logout_revokes_the_token_and_clears_the_cookie(live_server: LiveServer) -> None:
    await live_server.create_agent(email="anna@example.com")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        token = (await _login(client, "anna@example.com")).json()["token"]
        other_login = (await _login(client, "anna@example.com")).json()["token"]
        logout = await client.post("/api/v1/auth/logout", headers=_bearer(token))
        assert logout.status_code == 204
        assert "chatdesk_session=" in logout.headers["set-cookie"]
        assert "max-age=0" in logout.headers["set-cookie"].lower()
        client.cookies.clear()
        revoked = await client.get("/api/v1/auth/me", headers=_bearer(token))
        still_valid = await client.get("/api/v1/auth/me", headers=_bearer(other_login))
        again = await client.post("/api/v1/auth/logout", headers=_bearer(token))
    assert revoked.status_code == 401
    assert still_valid.status_code == 200
    assert again.status_code == 204


async def test_logout_through_the_cookie_ends_that_session(live_server: LiveServer) -> None:
    await live_server.create_agent(email="anna@example.com")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        token = (await _login(client, "anna@example.com")).json()["token"]
        assert (await client.post("/api/v1/auth/logout")).status_code == 204
        assert "chatdesk_session" not in client.cookies
        revoked = await client.get("/api/v1/auth/me", headers=_bearer(token))
    assert revoked.status_code == 401


async def test_expired_token_is_refused(database_url: str, server_env: dict[str, Any]) -> None:
    async with start_live_server(
        database_url=database_url, **{**server_env, "agent_token_ttl_s": 1}
    ) as server:
        await server.create_agent(email="anna@example.com")
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            token = (await _login(client, "anna@example.com")).json()["token"]
            client.cookies.clear()
            await asyncio.sleep(2.1)  # outlive the 1 s lifetime (tokens count whole seconds)
            expired = await client.get("/api/v1/auth/me", headers=_bearer(token))
    assert expired.status_code == 401
    assert "log in again" in expired.json()["detail"]


@pytest.fixture
async def team(live_server: LiveServer) -> dict[str, str]:
    """Tokens of an agent, a supervisor and an admin."""
    tokens = {}
    for role in ("agent", "supervisor", "admin"):
        await live_server.create_agent(email=f"{role}@example.com", name=role.title(), role=role)
        tokens[role] = await live_server.login(f"{role}@example.com")
    return tokens


NEW_AGENT = {
    "email": "New@Example.com",
    "name": "New Agent",
    "password": "a long enough password",
    "languages": ["pl", "en"],
    "departments": ["support"],
    "max_chats": 4,
}


@pytest.mark.parametrize("role", ["agent", "supervisor"])
async def test_only_admins_may_create_agents(
    live_server: LiveServer, team: dict[str, str], role: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.post(
            "/api/v1/admin/agents", json=NEW_AGENT, headers=_bearer(team[role])
        )
        listing = await client.get("/api/v1/admin/agents", headers=_bearer(team[role]))
    assert response.status_code == listing.status_code == 403


async def test_admin_creates_an_agent_who_can_log_in(
    live_server: LiveServer, team: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        created = await client.post(
            "/api/v1/admin/agents", json=NEW_AGENT, headers=_bearer(team["admin"])
        )
        duplicate = await client.post(
            "/api/v1/admin/agents",
            json={**NEW_AGENT, "email": "new@example.com"},
            headers=_bearer(team["admin"]),
        )
        login = await _login(client, "new@example.com", NEW_AGENT["password"])  # type: ignore[arg-type]
        team_view = await client.get("/api/v1/agents", headers=_bearer(team["agent"]))
    assert created.status_code == 201
    body = created.json()
    assert body["email"] == "new@example.com"
    assert (body["languages"], body["departments"], body["max_chats"]) == (
        ["pl", "en"],
        ["support"],
        4,
    )
    assert duplicate.status_code == 409
    assert login.status_code == 200
    listed = {a["id"]: a for a in team_view.json()}
    assert set(listed[body["id"]]) == {
        "id",
        "name",
        "role",
        "status",
        "languages",
        "departments",
        "max_chats",
        "connected",
        "active_chats",
        "pending_offers",
    }
    assert "email" not in listed[body["id"]]
    assert len(listed) == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "nope"}, "invalid email"),
        ({"languages": ["de"]}, "unsupported language"),
        ({"max_chats": 0}, "max_chats"),
        ({"password": "short"}, "at least 8"),
    ],
)
async def test_admin_agent_creation_validates_like_the_cli(
    live_server: LiveServer, team: dict[str, str], change: dict[str, Any], message: str
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.post(
            "/api/v1/admin/agents", json={**NEW_AGENT, **change}, headers=_bearer(team["admin"])
        )
    assert response.status_code == 400
    assert message in response.json()["detail"]


async def test_disabled_agent_is_logged_out_and_cannot_log_in(
    live_server: LiveServer, team: dict[str, str]
) -> None:
    agent_id = live_server.agents["agent@example.com"]
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        forbidden = await client.post(
            f"/api/v1/admin/agents/{agent_id}/disable", headers=_bearer(team["supervisor"])
        )
        disabled = await client.post(
            f"/api/v1/admin/agents/{agent_id}/disable", headers=_bearer(team["admin"])
        )
        old_token = await client.get("/api/v1/auth/me", headers=_bearer(team["agent"]))
        login = await _login(client, "agent@example.com")
        unknown = await client.post(
            f"/api/v1/admin/agents/{'0' * 32}/disable", headers=_bearer(team["admin"])
        )
        team_view = await client.get("/api/v1/agents", headers=_bearer(team["admin"]))
    assert forbidden.status_code == 403
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True
    assert old_token.status_code == 401
    assert login.status_code == 403
    assert unknown.status_code == 404
    assert agent_id not in {a["id"] for a in team_view.json()}


async def test_admin_cannot_disable_their_own_account(
    live_server: LiveServer, team: dict[str, str]
) -> None:
    admin_id = live_server.agents["admin@example.com"]
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.post(
            f"/api/v1/admin/agents/{admin_id}/disable", headers=_bearer(team["admin"])
        )
        me = await client.get("/api/v1/auth/me", headers=_bearer(team["admin"]))
    assert response.status_code == 400
    assert me.status_code == 200

"""Recovery: after the server is killed (SIGKILL) and started again on the same database,
queued, offered, assigned and pending conversations are rebuilt from storage and routing
continues where it was (point 9)."""

from __future__ import annotations

from pathlib import Path

import httpx

from chatdesk.accounts import service as accounts
from chatdesk.clock import utcnow
from chatdesk.storage import db
from chatdesk.storage import tables as t
from tests.conftest import DEMO_FAQ
from tests.support.clients import WsClient, agent, visitor
from tests.support.server import ServerProcess, spawn_server


async def _create_agent(database_url: str, email: str, *, max_chats: int) -> str:
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            account = await accounts.create_agent(
                session,
                email=email,
                name="Ann",
                password="correct horse battery",
                languages=["en"],
                max_chats=max_chats,
                now=utcnow(),
            )
            return account.id
    finally:
        await engine.dispose()


async def _states(database_url: str, *ids: str) -> list[tuple[str, str | None, str | None]]:
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            out = []
            for conversation_id in ids:
                row = await session.get(t.Conversation, conversation_id)
                assert row is not None
                out.append((row.state, row.agent_id, row.offered_to))
            return out
    finally:
        await engine.dispose()


async def _console(server: ServerProcess) -> WsClient:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/api/v1/auth/login", json={"email": "a@x.test", "password": "correct horse battery"}
        )
        response.raise_for_status()
    console, _ = await agent(server.ws_url, response.json()["token"])
    return console


async def test_routing_state_survives_a_killed_server_and_continues(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "CHATDESK_DATABASE_URL": database_url,
        "CHATDESK_FAQ_DIR": str(DEMO_FAQ),
        "CHATDESK_SECRET_KEY": "test-secret-key-0123456789abcdef",
        "CHATDESK_OFFER_TIMEOUT_S": "120",  # the offer must still be open after the restart
        "CHATDESK_PRESENCE_GRACE_S": "60",  # the agent's chats survive the outage
    }
    if not database_url.startswith("sqlite"):
        from tests.support.server import upgrade_database

        await upgrade_database(database_url)
    server = await spawn_server(tmp_path=tmp_path, env=env)
    try:
        # Pending first, while nobody is online.
        pending, welcome = await visitor(server.ws_url)
        pending_id = welcome["conversation_id"]
        await pending.send({"type": "handoff"})
        await pending.expect("offline")
        await pending.send({"type": "leave_message", "email": "e@x.test", "text": "call me"})
        await pending.expect("message", lambda f: f["author"] == "system")
        await pending.close()
        await _create_agent(database_url, "a@x.test", max_chats=2)
        console = await _console(server)
        await console.send({"type": "status", "status": "online"})
        await console.expect("status")
        served, welcome = await visitor(server.ws_url)
        served_id = welcome["conversation_id"]
        await served.send({"type": "handoff"})
        await console.expect("offer", lambda f: f["conversation_id"] == served_id)
        await console.send({"type": "accept", "conversation_id": served_id})
        await console.expect("assigned")
        offered, welcome = await visitor(server.ws_url)
        offered_id = welcome["conversation_id"]
        await offered.send({"type": "handoff"})
        await console.expect("offer", lambda f: f["conversation_id"] == offered_id)
        queued, welcome = await visitor(server.ws_url)
        queued_id = welcome["conversation_id"]
        await queued.send({"type": "handoff"})
        await queued.expect("queued")
        before = await _states(database_url, pending_id, served_id, offered_id, queued_id)
        server.kill()
    finally:
        server.terminate()
    agent_id = before[1][1]
    assert before == [
        ("pending", None, None),
        ("assigned", agent_id, None),
        ("offered", None, agent_id),
        ("queued", None, None),
    ]
    assert await _states(database_url, pending_id, served_id, offered_id, queued_id) == before

    server = await spawn_server(tmp_path=tmp_path, env=env)
    try:
        console = await _console(server)
        welcome = console.received[-1]
        assert [c["id"] for c in welcome["conversations"]] == [served_id]
        offer = await console.expect("offer")  # the open offer is shown again
        assert offer["conversation_id"] == offered_id
        await console.send({"type": "accept", "conversation_id": offered_id})
        await console.expect("assigned", lambda f: f["conversation_id"] == offered_id)
        # Closing a chat frees a seat: the conversation queued before the crash is offered.
        await console.send({"type": "close", "conversation_id": served_id})
        offer = await console.expect("offer", lambda f: f["conversation_id"] == queued_id)
        assert offer["conversation_id"] == queued_id
        await console.send({"type": "accept", "conversation_id": pending_id})
        error = await console.expect("error")  # both seats are taken (offer counts)
        assert error["code"] == "illegal_state"
        await console.send({"type": "close", "conversation_id": offered_id})
        await console.send({"type": "accept", "conversation_id": pending_id})
        await console.expect("assigned", lambda f: f["conversation_id"] == pending_id)
        states = await _states(database_url, pending_id, served_id, offered_id, queued_id)
        assert [s[0] for s in states] == ["assigned", "closed", "closed", "offered"]
        await console.close()
        for client in (served, offered, queued):
            await client.close()
    finally:
        server.terminate()

"""The accounts service on SQLite and PostgreSQL: one test body, both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatdesk.accounts import service as accounts
from chatdesk.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from chatdesk.storage import db
from chatdesk.storage.tables import Agent

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    try:
        yield db.session_factory(engine)
    finally:
        await engine.dispose()


async def _create(
    sessions: async_sessionmaker[AsyncSession], email: str = "Anna@Example.com", **overrides: object
) -> accounts.AgentAccount:
    fields: dict[str, object] = {
        "email": email,
        "name": "Anna",
        "password": PASSWORD,
        "languages": ["cs", "en"],
        "departments": ["sales"],
        "now": NOW,
    }
    fields.update(overrides)
    async with sessions() as session:
        return await accounts.create_agent(session, **fields)  # type: ignore[arg-type]


async def test_created_agent_is_listed_with_a_lowercased_email(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(sessions, role="supervisor", max_chats=5, auto_accept=True)
    assert created.email == "anna@example.com"
    async with sessions() as session:
        listed = await accounts.list_agents(session)
        fetched = await accounts.get_agent(session, created.id)
    assert listed == [created]
    assert fetched == created
    assert created.role == "supervisor"
    assert created.languages == ("cs", "en")
    assert created.departments == ("sales",)
    assert (created.max_chats, created.auto_accept, created.disabled) == (5, True, False)
    assert created.status == "offline"


async def test_password_is_stored_as_an_argon2_hash(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _create(sessions)
    async with sessions() as session:
        stored = (await session.execute(select(Agent.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_email_differing_only_in_case_is_a_conflict(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _create(sessions, "anna@example.com")
    with pytest.raises(ConflictError, match="already exists"):
        await _create(sessions, "ANNA@example.COM")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "invalid email"),
        ({"name": "   "}, "name"),
        ({"languages": ["de"]}, "unsupported language"),
        ({"languages": []}, "at least one language"),
        ({"max_chats": 0}, "max_chats"),
        ({"max_chats": 51}, "max_chats"),
        ({"password": "short"}, "at least 8"),
        ({"role": "owner"}, "invalid role"),
        ({"departments": ["sales,support"]}, "invalid department"),
    ],
)
async def test_invalid_agent_fields_are_refused_with_a_clear_message(
    sessions: async_sessionmaker[AsyncSession], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequestError, match=message):
        await _create(sessions, **overrides)
    async with sessions() as session:
        assert await accounts.list_agents(session) == []


async def test_regional_language_codes_mean_the_base_language(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(sessions, languages=["cs-CZ", "CS", "en_GB"])
    assert created.languages == ("cs", "en")


async def test_authenticate_opens_a_session_that_identifies_the_agent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(sessions)
    async with sessions() as session:
        agent, session_id, expires_at = await accounts.authenticate(
            session, email="ANNA@example.com", password=PASSWORD, now=NOW, ttl_s=600
        )
    assert agent == created
    assert expires_at == NOW + timedelta(seconds=600)
    async with sessions() as session:
        found = await accounts.agent_for_session(
            session, agent_id=created.id, session_id=session_id, now=NOW
        )
    assert found == created


async def test_unknown_email_and_wrong_password_fail_identically(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _create(sessions)
    async with sessions() as session:
        with pytest.raises(UnauthorizedError) as wrong_password:
            await accounts.authenticate(
                session, email="anna@example.com", password="wrong password", now=NOW, ttl_s=60
            )
        with pytest.raises(UnauthorizedError) as unknown_email:
            await accounts.authenticate(
                session, email="nobody@example.com", password=PASSWORD, now=NOW, ttl_s=60
            )
    assert wrong_password.value.message == unknown_email.value.message


async def test_session_expires_after_its_ttl(sessions: async_sessionmaker[AsyncSession]) -> None:
    created = await _create(sessions)
    async with sessions() as session:
        _, session_id, _ = await accounts.authenticate(
            session, email=created.email, password=PASSWORD, now=NOW, ttl_s=60
        )
        with pytest.raises(UnauthorizedError, match="expired"):
            await accounts.agent_for_session(
                session, agent_id=created.id, session_id=session_id, now=NOW + timedelta(seconds=60)
            )


async def test_logout_revokes_only_that_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(sessions)
    async with sessions() as session:
        _, first, _ = await accounts.authenticate(
            session, email=created.email, password=PASSWORD, now=NOW, ttl_s=600
        )
        _, second, _ = await accounts.authenticate(
            session, email=created.email, password=PASSWORD, now=NOW, ttl_s=600
        )
        await accounts.logout(session, session_id=first, now=NOW)
        await accounts.logout(session, session_id=first, now=NOW)  # idempotent
    async with sessions() as session:
        with pytest.raises(UnauthorizedError, match="logged out"):
            await accounts.agent_for_session(
                session, agent_id=created.id, session_id=first, now=NOW
            )
        assert await accounts.agent_for_session(
            session, agent_id=created.id, session_id=second, now=NOW
        )


async def test_session_of_another_agent_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    anna = await _create(sessions)
    piotr = await _create(sessions, "piotr@example.com")
    async with sessions() as session:
        _, session_id, _ = await accounts.authenticate(
            session, email=anna.email, password=PASSWORD, now=NOW, ttl_s=600
        )
        with pytest.raises(UnauthorizedError):
            await accounts.agent_for_session(
                session, agent_id=piotr.id, session_id=session_id, now=NOW
            )


async def test_disabling_an_agent_revokes_sessions_and_blocks_login(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    created = await _create(sessions)
    async with sessions() as session:
        _, session_id, _ = await accounts.authenticate(
            session, email=created.email, password=PASSWORD, now=NOW, ttl_s=600
        )
        disabled = await accounts.disable_agent(session, email="ANNA@example.com", now=NOW)
    assert disabled.disabled
    async with sessions() as session:
        with pytest.raises(UnauthorizedError):
            await accounts.agent_for_session(
                session, agent_id=created.id, session_id=session_id, now=NOW
            )
        with pytest.raises(ForbiddenError, match="disabled"):
            await accounts.authenticate(
                session, email=created.email, password=PASSWORD, now=NOW, ttl_s=600
            )
        with pytest.raises(UnauthorizedError):  # the wrong password still says nothing more
            await accounts.authenticate(
                session, email=created.email, password="not it at all", now=NOW, ttl_s=600
            )


async def test_disabling_unknown_agents_is_not_found(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(NotFoundError):
            await accounts.disable_agent(session, email="nobody@example.com", now=NOW)
        with pytest.raises(NotFoundError):
            await accounts.disable_agent_by_id(session, agent_id="0" * 32, now=NOW)


async def test_demo_agents_are_created_once_and_their_logins_work(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        first = await accounts.ensure_demo_agents(session, now=NOW)
    async with sessions() as session:
        second = await accounts.ensure_demo_agents(session, now=NOW)
        agents = await accounts.list_agents(session)
    assert first == second
    assert len(agents) == len(first) == 4
    assert {a.role for a in agents} == {"agent", "supervisor", "admin"}
    email, password = first[0]
    async with sessions() as session:
        agent, _, _ = await accounts.authenticate(
            session, email=email, password=password, now=NOW, ttl_s=60
        )
    assert agent.email == email


async def test_disabled_demo_agent_is_not_offered_as_a_login(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        logins = await accounts.ensure_demo_agents(session, now=NOW)
        await accounts.disable_agent(session, email=logins[0][0], now=NOW)
        again = await accounts.ensure_demo_agents(session, now=NOW)
    assert again == logins[1:]

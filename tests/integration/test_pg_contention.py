"""Real PostgreSQL contention: a unit of work that loses a deadlock or a serialisation
failure is re-run by ``db.run_transaction``, and its effects are stored (and published)
exactly once.

Each test makes the conflict happen for certain: the transactions involved wait for one
another at the right points (events, or ``pg_blocking_pids``), never for a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chatdesk.clock import new_id, utcnow
from chatdesk.conversations.texts import system_text
from chatdesk.storage import db
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t
from tests.integration.flows import migrated_engine
from tests.support.clients import visitor
from tests.support.server import start_live_server

pytestmark = pytest.mark.postgres

Work = Callable[[AsyncSession], Awaitable[int]]


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine(postgres_url) as engine:
        yield engine


async def _agent(session: AsyncSession, name: str, *, status: str = "online") -> str:
    agent_id = new_id()
    session.add(
        t.Agent(
            id=agent_id,
            email=f"{name}@x.test",
            name=name,
            password_hash="unused",
            status=status,
            created_at=utcnow(),
        )
    )
    await session.flush()
    return agent_id


async def _conversation(session: AsyncSession) -> str:
    visitor_id = await repo.create_visitor(session, now=utcnow(), lang="en", page_url=None)
    await session.flush()  # no ORM relationship tells the flush that visitors come first
    conversation = await repo.create_conversation(
        session, visitor_id=visitor_id, lang="en", department=None, page_url=None, now=utcnow()
    )
    return conversation.id


def _counted(attempts: list[str], name: str, work: Work) -> Work:
    async def counted(session: AsyncSession) -> int:
        attempts.append(name)
        return await work(session)

    return counted


async def test_the_loser_of_a_real_deadlock_is_rerun_and_both_units_apply_once(
    engine: AsyncEngine,
) -> None:
    """Agent -> conversation against conversation -> agent (the order chatdesk avoids):
    each holds its first row until the other has too, so PostgreSQL must abort one."""
    sessions = db.session_factory(engine)
    async with sessions() as session, session.begin():
        agent_id = await _agent(session, "ann")
        conversation_id = await _conversation(session)
    agent_locked, conversation_locked = asyncio.Event(), asyncio.Event()

    async def bump_agent(session: AsyncSession) -> None:
        await session.execute(
            update(t.Agent)
            .where(t.Agent.id == agent_id)
            .values(expired_offers_in_row=t.Agent.expired_offers_in_row + 1)
        )

    async def bump_conversation(session: AsyncSession) -> None:
        await session.execute(
            update(t.Conversation)
            .where(t.Conversation.id == conversation_id)
            .values(priority=t.Conversation.priority + 1)
        )

    async def agent_then_conversation(session: AsyncSession) -> int:
        await bump_agent(session)
        agent_locked.set()
        await conversation_locked.wait()  # already set on a re-run
        await bump_conversation(session)
        return 1

    async def conversation_then_agent(session: AsyncSession) -> int:
        await bump_conversation(session)
        conversation_locked.set()
        await agent_locked.wait()
        await bump_agent(session)
        return 2

    attempts: list[str] = []
    results = await asyncio.gather(
        db.run_transaction(sessions, _counted(attempts, "a", agent_then_conversation)),
        db.run_transaction(sessions, _counted(attempts, "c", conversation_then_agent)),
    )

    assert list(results) == [1, 2]
    assert sorted(attempts) in (["a", "a", "c"], ["a", "c", "c"])  # one loser, run twice
    async with sessions() as session:
        agent = await session.get(t.Agent, agent_id)
        conversation = await session.get(t.Conversation, conversation_id)
    assert agent is not None and agent.expired_offers_in_row == 2
    assert conversation is not None and conversation.priority == 2


async def test_a_serialization_failure_is_rerun_and_the_rerun_sees_the_winner(
    engine: AsyncEngine,
) -> None:
    """Write skew under SERIALIZABLE: two agents each go away only if both are online.
    Both read "two online", both write; PostgreSQL aborts one, whose re-run reads one."""
    sessions = db.session_factory(engine)
    async with sessions() as session, session.begin():
        ids = [await _agent(session, "ann"), await _agent(session, "bob")]
    serializable = async_sessionmaker(
        engine.execution_options(isolation_level="SERIALIZABLE"), expire_on_commit=False
    )
    have_read = {agent_id: asyncio.Event() for agent_id in ids}

    def go_away_if_covered(agent_id: str, other_id: str) -> Work:
        async def work(session: AsyncSession) -> int:
            online = (
                await session.execute(
                    select(func.count()).select_from(t.Agent).where(t.Agent.status == "online")
                )
            ).scalar_one()
            have_read[agent_id].set()
            await have_read[other_id].wait()  # both read before either writes
            if online < 2:
                return 0
            await session.execute(
                update(t.Agent).where(t.Agent.id == agent_id).values(status="away")
            )
            return 1

        return work

    attempts: list[str] = []
    results = await asyncio.gather(
        db.run_transaction(
            serializable, _counted(attempts, "ann", go_away_if_covered(ids[0], ids[1]))
        ),
        db.run_transaction(
            serializable, _counted(attempts, "bob", go_away_if_covered(ids[1], ids[0]))
        ),
    )

    assert sorted(results) == [0, 1]  # the re-run saw the other one go away
    assert len(attempts) == 3
    async with sessions() as session:
        statuses = sorted(
            (await session.execute(select(t.Agent.status).where(t.Agent.id.in_(ids)))).scalars()
        )
    assert statuses == ["away", "online"]


async def _blocked_by(conn: asyncpg.Connection, query_part: str) -> bool:
    """Some other backend waits for a lock ``conn`` holds, running ``query_part``."""
    # Activity is read from a snapshot kept until the transaction ends: take a fresh one.
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    count = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE $2",
        conn.get_server_pid(),
        f"%{query_part}%",
    )
    return bool(count)


async def test_leave_message_that_loses_a_deadlock_is_stored_and_published_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture, server_env: dict[str, Any]
) -> None:
    """A foreign transaction locks the conversation, then the visitor's row: the reverse of
    leave_message's order. leave_message (visitor, then conversation) is the one PostgreSQL
    aborts (the foreign session waits far longer before it looks for deadlocks); it runs
    again once the foreign transaction committed, and everything is stored once."""
    caplog.set_level(logging.INFO, logger="chatdesk.storage.db")
    async with start_live_server(database_url=postgres_url, **server_env) as server:
        client, welcome = await visitor(server.ws_url, lang="en")
        conversation_id, visitor_id = welcome["conversation_id"], welcome["visitor_id"]
        url = make_url(postgres_url)
        foreign = await asyncpg.connect(
            host=url.host, port=url.port or 5432, user=url.username, database=url.database
        )
        try:
            async with foreign.transaction():
                await foreign.execute("SET LOCAL deadlock_timeout = '10min'")
                await foreign.execute(
                    "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE", conversation_id
                )
                await client.send(
                    {"type": "leave_message", "email": "eva@shop.test", "text": "Call me"}
                )
                # Until leave_message holds the visitor's row and waits for ours (the server
                # has no event to await for that; this is a sync point, not a timing).
                while not await _blocked_by(foreign, "FROM conversations"):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                await foreign.execute(
                    "UPDATE visitors SET page_url = 'http://shop.test/cart' WHERE id = $1",
                    visitor_id,
                )
        finally:
            await foreign.close()
        system = await client.expect("message", lambda f: f["author"] == "system")
        assert system["text"] == system_text("message_left", "en", email="eva@shop.test")
        # A round trip after it: every frame published before has arrived by its echo.
        await client.send({"type": "message", "client_id": "after", "text": "thanks"})
        await client.expect("message", lambda f: f.get("client_id") == "after")
        await client.close()

        reruns = [r for r in caplog.records if "leave_message" in r.getMessage()]
        assert len(reruns) == 1
        # seq 1 published once (after the commit that succeeded), seq 2 (the left message,
        # not published) caught up from the database, seq 3 the echo: each arrived once.
        assert [f["seq"] for f in client.received if f["type"] == "message"] == [1, 2, 3]
        engine = db.create_engine(postgres_url)
        try:
            async with db.session_factory(engine)() as session:
                left = (await session.execute(select(t.LeftMessage))).scalars().all()
                messages = await repo.messages_after(session, conversation_id, 0)
                events = await repo.events_of(session, conversation_id)
                stored_visitor = await session.get(t.Visitor, visitor_id)
        finally:
            await engine.dispose()
    assert [(m.email, m.text) for m in left] == [("eva@shop.test", "Call me")]
    assert [(m.seq, m.author.value, m.text) for m in messages] == [
        (1, "system", system["text"]),
        (2, "visitor", "Call me"),
        (3, "visitor", "thanks"),
    ]
    assert [kind for kind, _, _ in events] == ["went_pending"]
    assert stored_visitor is not None
    assert (stored_visitor.email, stored_visitor.page_url) == (
        "eva@shop.test",
        "http://shop.test/cart",
    )

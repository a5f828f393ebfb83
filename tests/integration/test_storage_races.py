"""Races on the storage layer, on SQLite and PostgreSQL: two tabs of one visitor starting a
conversation at once, the group committer's one-by-one fallback, a single message's commit
that loses a real PostgreSQL deadlock, and what the conversation's row lock lets through.

Every race is made certain, never hoped for: a foreign transaction holds the lock the racers
need until each of them has reached it (seen through SQLAlchemy's statement events or
``pg_blocking_pids``), never for a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import await_

from chatdesk.clock import new_id, utcnow
from chatdesk.conversations.model import Author, State
from chatdesk.conversations.values import NewMessage
from chatdesk.storage import db
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t
from chatdesk.storage.batch import Appended, append_batch
from chatdesk.storage.message_writer import MessageWriter
from tests.integration.flows import migrated_engine
from tests.support.clients import visitor
from tests.support.server import LiveServer, upgrade_database

SENDER = "visitor:v1"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    async with migrated_engine(database_url) as engine:
        yield engine


async def _conversation(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions() as session, session.begin():
        visitor_id = await repo.create_visitor(session, now=utcnow(), lang="en", page_url=None)
        await session.flush()  # no ORM relationship tells the flush that visitors come first
        conversation = await repo.create_conversation(
            session, visitor_id=visitor_id, lang="en", department=None, page_url=None, now=utcnow()
        )
    return conversation.id


def _message(conversation_id: str, text_: str, **fields: Any) -> NewMessage:
    return NewMessage(
        conversation_id=conversation_id,
        author=Author.VISITOR,
        sender=SENDER,
        author_name="",
        text=text_,
        **fields,
    )


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for a condition that another backend reaches without telling us (a sync
    point polled on the database, not a timing)."""
    while not await condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


# -- two tabs start a new conversation at once ------------------------------------------


async def _hold_visitor(connection: AsyncConnection, visitor_id: str) -> None:
    """Hold the visitor's row as strongly as a foreign writer can: PostgreSQL ``FOR UPDATE``
    (it also holds back inserts referencing the visitor), SQLite the database's write lock."""
    await connection.begin()
    if connection.dialect.name == "postgresql":
        await connection.execute(
            select(t.Visitor.id).where(t.Visitor.id == visitor_id).with_for_update()
        )
    else:
        await connection.execute(
            update(t.Visitor).where(t.Visitor.id == visitor_id).values(last_seen_at=utcnow())
        )


async def test_two_tabs_starting_at_once_share_one_new_conversation(
    live_server: LiveServer,
) -> None:
    """Both tabs find the conversation closed and start one while a foreign transaction
    holds the visitor; once each has issued its first write, the foreign one lets go. The
    visitor's row serialises them: the second tab gets the first tab's conversation."""
    assert live_server.runtime is not None
    service = live_server.runtime.conversations
    server_engine = live_server.runtime.engine
    client, hello = await visitor(live_server.ws_url)
    visitor_id = hello["visitor_id"]
    await client.send({"type": "close"})
    await client.expect("closed")
    await client.close()

    tabs: list[asyncio.Task[Any]] = []
    writing: set[asyncio.Task[Any]] = set()
    both_writing = asyncio.Event()

    def on_statement(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        task = asyncio.current_task()
        if task in tabs and statement.startswith(("INSERT", "UPDATE")):
            writing.add(task)
            if len(writing) == len(tabs):
                both_writing.set()

    foreign_engine = db.create_engine(live_server.settings.database_url)
    event.listen(server_engine.sync_engine, "before_cursor_execute", on_statement)
    try:
        async with foreign_engine.connect() as foreign:
            await _hold_visitor(foreign, visitor_id)
            tabs.extend(
                asyncio.create_task(
                    service.start_new_conversation(
                        visitor_id=visitor_id, lang="en", department=None, page_url=None
                    )
                )
                for _ in range(2)
            )
            await both_writing.wait()
            await foreign.rollback()
        started = await asyncio.gather(*tabs)
    finally:
        event.remove(server_engine.sync_engine, "before_cursor_execute", on_statement)
        await foreign_engine.dispose()

    assert started[0].id == started[1].id
    assert started[0].id != hello["conversation_id"]
    async with db.session_factory(server_engine)() as session:
        states = (
            await session.execute(
                select(t.Conversation.state).where(t.Conversation.visitor_id == visitor_id)
            )
        ).scalars()
        assert sorted(states) == sorted([State.BOT.value, State.CLOSED.value])


# -- the group committer ----------------------------------------------------------------


async def _writing(sessions: async_sessionmaker[AsyncSession], *items: NewMessage) -> list[Any]:
    """Queue ``items`` before the writer runs (so they form one batch); each outcome, in
    order: the ``Appended`` or the exception that failed it."""
    writer = MessageWriter(sessions, clock=utcnow)
    stores = [asyncio.create_task(writer.store(item)) for item in items]
    await asyncio.sleep(0)  # every store is queued before the writer takes its first batch
    runner = asyncio.create_task(writer.run())
    outcomes = await asyncio.gather(*stores, return_exceptions=True)
    await writer.stop()
    await runner
    return list(outcomes)


async def test_a_bad_message_fails_alone_and_the_rest_of_its_batch_is_stored_once(
    engine: AsyncEngine,
) -> None:
    """A message that cannot be stored fails its whole group commit; the fallback commits
    the batch one by one, so only that message fails and the others are stored once."""
    sessions = db.session_factory(engine)
    conversation_id = await _conversation(sessions)
    unstorable = _message(conversation_id, "bad", bot={"not json": object()})
    good = _message(conversation_id, "hello", client_id="c1")
    resent = _message(conversation_id, "hello", client_id="c1")

    bad_outcome, first, again = await _writing(sessions, unstorable, good, resent)
    (resent_later,) = await _writing(sessions, resent)

    assert isinstance(bad_outcome, StatementError)
    assert isinstance(first, Appended) and first.created
    for echo in (again, resent_later):
        assert isinstance(echo, Appended) and not echo.created
        assert echo.message == first.message
    async with sessions() as session:
        stored = await repo.messages_after(session, conversation_id)
    assert [(m.seq, m.text, m.client_id) for m in stored] == [(1, "hello", "c1")]


async def _pg_connect(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database=parsed.database
    )


async def _waits(observer: asyncpg.Connection, pid: int) -> bool:
    return bool(await observer.fetchval("SELECT cardinality(pg_blocking_pids($1)) > 0", pid))


def _pause_before_first(
    engine: AsyncEngine, statement_start: str, go: asyncio.Event
) -> tuple[asyncio.Event, Callable[..., None]]:
    """Hold the first statement beginning with ``statement_start`` on ``engine`` until
    ``go`` is set (its transaction keeps every lock it took so far). Returns an event set
    once that statement is reached, and the listener (for ``event.remove``)."""
    reached = asyncio.Event()

    def before(*args: Any) -> None:
        if not reached.is_set() and str(args[2]).lstrip().startswith(statement_start):
            reached.set()
            await_(go.wait())  # inside SQLAlchemy's greenlet: waits without blocking the loop

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return reached, before


@pytest.mark.postgres
async def test_a_single_message_that_loses_a_deadlock_is_rerun_and_stored_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A foreign transaction stores the same ``client_id`` (uncommitted), then wants the
    conversation's row, which the writer holds; the writer's insert then waits for the
    foreign row: a real deadlock. The writer's commit of one message (the unit its
    one-by-one fallback commits) loses it; the re-run finds the foreign message and
    answers with it, so the ``client_id`` is stored once.

    The writer is held just before its insert until the foreign transaction waits for it,
    so the cycle is closed when the writer starts its wait, and PostgreSQL's one deadlock
    check (``deadlock_timeout`` into that wait) finds it, whatever the machine's speed."""
    caplog.set_level(logging.INFO, logger="chatdesk.storage.db")
    await upgrade_database(postgres_url)
    engine = db.create_engine(postgres_url)
    sessions = db.session_factory(engine)
    conversation_id = await _conversation(sessions)
    foreign_id = new_id()
    go = asyncio.Event()
    at_insert, listener = _pause_before_first(engine, "INSERT INTO messages", go)
    foreign, observer = await _pg_connect(postgres_url), await _pg_connect(postgres_url)
    try:
        foreign_tx = foreign.transaction()
        await foreign_tx.start()
        await foreign.execute("SET LOCAL deadlock_timeout = '10min'")  # the writer loses
        await foreign.execute(
            "INSERT INTO messages (id, conversation_id, seq, author, sender, author_name,"
            " text, client_id, created_at) VALUES ($1, $2, 1, 'visitor', $3, '', 'hello',"
            " 'c1', now())",
            foreign_id,
            conversation_id,
            SENDER,
        )
        writing = asyncio.create_task(
            _writing(sessions, _message(conversation_id, "hello", client_id="c1"))
        )
        await at_insert.wait()  # the writer holds the conversation's row
        foreign_update = asyncio.create_task(
            foreign.execute("UPDATE conversations SET last_seq = 1 WHERE id = $1", conversation_id)
        )
        await _until(lambda: _waits(observer, foreign.get_server_pid()))
        go.set()
        await foreign_update  # the writer lost the deadlock and let go of the row
        await foreign_tx.commit()
        (appended,) = await writing
    finally:
        go.set()
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
        await foreign.close()
        await observer.close()
    try:
        async with sessions() as session:
            stored = await repo.messages_after(session, conversation_id)
    finally:
        await engine.dispose()

    assert isinstance(appended, Appended)
    assert not appended.created and appended.message.id == foreign_id
    assert [(m.id, m.seq) for m in stored] == [(foreign_id, 1)]
    reruns = [r for r in caplog.records if "MessageWriter._commit" in r.getMessage()]
    assert len(reruns) == 1


# -- what the conversation's row lock lets through --------------------------------------


async def _key_share(connection: asyncpg.Connection, conversation_id: str) -> bool:
    """Whether a foreign key check on the conversation (``FOR KEY SHARE``) would go
    through at once."""
    async with connection.transaction():
        try:
            await connection.execute(
                "SELECT 1 FROM conversations WHERE id = $1 FOR KEY SHARE NOWAIT", conversation_id
            )
        except asyncpg.LockNotAvailableError:
            return False
    return True


async def _excludes_writers(connection: asyncpg.Connection, conversation_id: str) -> bool:
    """Whether another writer of the conversation (``FOR NO KEY UPDATE``) would wait."""
    async with connection.transaction():
        try:
            await connection.execute(
                "SELECT 1 FROM conversations WHERE id = $1 FOR NO KEY UPDATE NOWAIT",
                conversation_id,
            )
        except asyncpg.LockNotAvailableError:
            return True
    return False


@pytest.mark.postgres
async def test_the_conversation_lock_lets_references_in_and_keeps_writers_out(
    postgres_url: str,
) -> None:
    """``lock_conversation`` and the group commit hold the conversation against every
    other writer, yet other transactions may insert its events and messages meanwhile."""
    await upgrade_database(postgres_url)
    engine = db.create_engine(postgres_url)
    sessions = db.session_factory(engine)
    foreign = await _pg_connect(postgres_url)
    try:
        conversation_id = await _conversation(sessions)
        async with sessions() as session, session.begin():
            assert await repo.lock_conversation(session, conversation_id) is not None
            assert await _key_share(foreign, conversation_id)
            assert await _excludes_writers(foreign, conversation_id)
            await foreign.execute(
                "INSERT INTO conversation_events (conversation_id, type, actor, data,"
                " created_at) VALUES ($1, 'noted', '', '{}', now())",
                conversation_id,
            )
        async with sessions() as session, session.begin():
            await append_batch(session, [_message(conversation_id, "hi")], now=utcnow())
            assert await _key_share(foreign, conversation_id)
            assert await _excludes_writers(foreign, conversation_id)
        async with sessions() as session:
            events = await repo.events_of(session, conversation_id)
            count = (await session.execute(text("SELECT count(*) FROM messages"))).scalar_one()
    finally:
        await foreign.close()
        await engine.dispose()
    assert [kind for kind, _, _ in events] == ["noted"]
    assert count == 1

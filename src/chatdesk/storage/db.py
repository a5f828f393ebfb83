"""Database engine, sessions, transactions and schema upgrades (Alembic), for SQLite and
PostgreSQL.

``run_transaction`` runs a unit of work in a session and transaction of its own (every
write transaction of the conversation service and the router goes through it): on
PostgreSQL a transaction can lose a deadlock or a serialisation conflict, and is then run
again from the start. The lock order that keeps deadlocks rare is written down next to it.

SQLite runs in WAL mode with ``synchronous=NORMAL``: a committed transaction survives a crash
of the server process (not necessarily a power loss), which is the durability the design asks
for, at a fraction of the cost of a full fsync per commit. Foreign keys are switched on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_POOL_SIZE = 20
SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers queue behind the group committer instead of failing


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine with the per-backend settings chatdesk relies on."""
    if url.startswith("sqlite"):
        # Each aiosqlite connection is a thread: keep enough open that bursts of readers
        # reuse them instead of starting (and ending) threads per request.
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# PostgreSQL aborts one of two transactions that wait on each other (deadlock_detected) or
# that cannot be serialised; the standard answer is to run the loser again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# The loser of a deadlock starts again behind the winner's locks, so its second attempt
# almost always goes through; a third covers a second collision under a burst.
TRANSACTION_ATTEMPTS = 3
# Upper bound of the random pause before attempt n+1 (times n): long enough that two
# losers of the same collision do not start again in lockstep, short against the one
# second PostgreSQL waits (deadlock_timeout) before it even detects a deadlock.
RETRY_BACKOFF_S = 0.02

# Lock order (PostgreSQL row locks; docs/architecture.md, "Transactions and lock order").
# A transaction that holds more than one row lock takes them in this order:
#
#   1. agents: the agent's row first (``Router._lock_agent``: capacity is counted under
#      it); several agents in one transaction in ascending id (the ORM flushes by key);
#   2. the visitor's row (``touch_visitor``: it also serialises a visitor's tabs);
#   3. conversations (``lock_conversation``); several in ascending id (the message
#      writer's ``SELECT … ORDER BY id FOR NO KEY UPDATE``, ``Router._update_conversations``);
#   4. a conversation's own rows: messages, events, bot misses, left messages.
#
# Routing therefore locks agent -> conversation, and ``ConversationService.apply`` locks
# conversation -> its event and system message, inside the caller's transaction when there
# is one. Nothing holds a conversation while it waits for an agent or a visitor. Mind the
# implicit locks: setting ``conversations.agent_id`` makes PostgreSQL key-share-lock that
# agent's row (the foreign key check), so only a transaction that already holds that agent
# (accept, transfer, takeover) may do it. Inserting a conversation's row (a message, an
# event) key-share-locks the conversation, which waits only for a ``FOR UPDATE`` holder
# (``lock_conversation`` and the writer lock ``FOR NO KEY UPDATE``, which lets it pass);
# ``feedback`` does so after updating one message, which no such holder ever waits for.
# A deadlock that is left (e.g. against statements run outside chatdesk) is what
# ``run_transaction`` re-runs.


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialisation failure: the whole transaction may simply be re-run."""
    while exc is not None:
        code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if code in RETRYABLE_SQLSTATES:
            return True
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return False


async def run_transaction(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """Run ``work`` in one transaction of a session of its own and return its result once
    committed; a transaction that loses a deadlock or a serialisation failure is rolled
    back and ``work`` runs again from the start, in a fresh session (a short random pause
    first), up to ``TRANSACTION_ATTEMPTS`` times. Any other error propagates at once.

    The caller's obligation: ``work`` only reads and writes through the session it is
    given, since it may run more than once. Publishing, waking the router, timers and
    acknowledgements belong after this returns, i.e. after the commit that succeeded.
    """
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            async with sessions() as session, session.begin():
                return await work(session)
        except DBAPIError as exc:
            if attempt == TRANSACTION_ATTEMPTS or not is_retryable(exc):
                raise
            log.info(
                "%s lost a deadlock or serialisation conflict (attempt %d); running it again",
                getattr(work, "__qualname__", work),
                attempt,
            )
        await asyncio.sleep(random.uniform(0, RETRY_BACKOFF_S * attempt))
    raise AssertionError("unreachable")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (idempotent)."""

    def run(connection: Connection) -> None:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(run)


def upgrade_sync(url: str) -> None:
    """``chatdesk db upgrade``: a fresh event loop, one engine, the upgrade, disposal."""

    async def main() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(main())

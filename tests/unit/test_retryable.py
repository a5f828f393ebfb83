"""Which database errors mean "run the transaction again", and what ``run_transaction``
does with them (on a real SQLite database; real PostgreSQL deadlocks and serialisation
failures are provoked in tests/integration/test_pg_contention.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatdesk.errors import IllegalStateError
from chatdesk.storage import db
from chatdesk.storage.db import is_retryable, run_transaction


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class _Wrapped(Exception):
    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


def _db_error(sqlstate: str) -> DBAPIError:
    """What SQLAlchemy raises for a driver error carrying ``sqlstate``."""
    return DBAPIError("UPDATE …", None, _DriverError(sqlstate))


def test_deadlock_and_serialization_failure_are_retryable_through_wrappers() -> None:
    assert is_retryable(_Wrapped(_DriverError("40P01")))
    wrapped = _Wrapped(Exception("adapter"))
    wrapped.__cause__ = _DriverError("40001")
    assert is_retryable(wrapped)


def test_other_errors_are_not_retryable() -> None:
    assert not is_retryable(_Wrapped(_DriverError("23505")))  # unique violation
    assert not is_retryable(ValueError("nope"))


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'retry.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE items (name TEXT NOT NULL)"))
    try:
        yield db.session_factory(engine)
    finally:
        await engine.dispose()


async def _names(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(text("SELECT name FROM items"))).scalars())


@pytest.mark.parametrize(
    "error", [IllegalStateError("refused"), _db_error("23505")], ids=["domain", "unique"]
)
async def test_a_non_retryable_error_propagates_at_once_and_stores_nothing(
    sessions: async_sessionmaker[AsyncSession], error: Exception
) -> None:
    calls = 0

    async def work(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(text("INSERT INTO items VALUES ('half-done')"))
        raise error

    with pytest.raises(type(error)) as raised:
        await run_transaction(sessions, work)
    assert raised.value is error
    assert calls == 1
    assert await _names(sessions) == []


async def test_a_lost_deadlock_reruns_the_whole_unit_in_a_fresh_session(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    seen: list[AsyncSession] = []

    async def work(session: AsyncSession) -> str:
        seen.append(session)
        await session.execute(
            text("INSERT INTO items VALUES (:name)"), {"name": f"attempt {len(seen)}"}
        )
        if len(seen) == 1:
            raise _db_error("40P01")
        return "committed"

    assert await run_transaction(sessions, work) == "committed"
    assert len(seen) == 2
    assert seen[0] is not seen[1]
    assert await _names(sessions) == ["attempt 2"]  # the first attempt was rolled back


async def test_it_gives_up_after_transaction_attempts_with_the_last_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    errors: list[DBAPIError] = []

    async def work(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO items VALUES ('never')"))
        errors.append(_db_error("40001"))
        raise errors[-1]

    with pytest.raises(DBAPIError) as raised:
        await run_transaction(sessions, work)
    assert len(errors) == db.TRANSACTION_ATTEMPTS
    assert raised.value is errors[-1]
    assert await _names(sessions) == []

"""Group commit for messages: many appends share one transaction, each caller awaits its own.

Persistence is the per-message cost (one commit each would cap SQLite at ~2,300 messages/s),
so appends queue here and one task commits them in batches. A caller's acknowledgement
follows the commit that stored its message, so an acknowledged message survives a crash of
the process. A failing batch is retried item by item, so one bad message fails alone; a
transaction that loses a PostgreSQL deadlock is run again (``db.run_transaction``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatdesk.conversations.values import NewMessage, StoredMessage
from chatdesk.errors import ChatdeskError
from chatdesk.storage import db
from chatdesk.storage.batch import Appended, Outcome, append_batch

log = logging.getLogger(__name__)

MAX_BATCH = 512  # bounds one transaction's size and the latency of the last message in it
MAX_QUEUE = 20_000  # back-pressure: appenders wait once this many are outstanding


@dataclass(slots=True)
class _Pending:
    message: NewMessage
    future: asyncio.Future[Appended]


class MessageWriter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue(MAX_QUEUE)
        self.batches = 0
        self.messages = 0

    async def store(self, message: NewMessage) -> Appended:
        """Store ``message``; returns it with its seq and its conversation once committed.

        Raises the ``ChatdeskError`` that refused it (missing conversation, unexpected state).
        """
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(message, future))
        return await future

    async def append(self, message: NewMessage) -> tuple[StoredMessage, bool]:
        """``store`` for callers that need only the message and whether it is new."""
        appended = await self.store(message)
        return appended.message, appended.created

    async def run(self) -> None:
        """Commit queued appends until ``stop()``; owned by the runtime."""
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._commit(batch)
            if stop:
                return

    async def stop(self) -> None:
        """Let everything queued so far commit, then end ``run``."""
        await self._queue.put(None)

    async def _commit(self, batch: list[_Pending]) -> None:
        """One transaction for ``batch`` (re-run by ``db.run_transaction`` when it loses a
        deadlock, the fallback's single messages too), then each caller's outcome.

        A re-run starts from the database again, so a ``client_id`` that another
        transaction stored meanwhile is answered with that message, never stored twice.
        """
        now = self._clock()
        messages = [pending.message for pending in batch]

        async def append(session: AsyncSession) -> list[Outcome]:
            return await append_batch(session, messages, now=now)

        try:
            outcomes = await db.run_transaction(self._sessions, append)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            log.warning("batch of %d messages failed; retrying one by one", len(batch))
            for pending in batch:
                await self._commit([pending])
            return
        self.batches += 1
        self.messages += len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, ChatdeskError):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)

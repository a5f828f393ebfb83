"""Group commit for messages: many appends share one transaction, each caller awaits its own.

Persistence is the per-message cost (one commit each would cap SQLite at ~2,300 messages/s),
so appends queue here and one task commits them in batches. A caller's acknowledgement
follows the commit that stored its message, so an acknowledged message survives a crash of
the process. A failing batch is retried item by item, so one bad message fails alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatdesk.conversations.values import NewMessage, StoredMessage
from chatdesk.storage.repositories import append_messages

log = logging.getLogger(__name__)

MAX_BATCH = 512  # bounds one transaction's size and the latency of the last message in it
MAX_QUEUE = 20_000  # back-pressure: appenders wait once this many are outstanding


@dataclass(slots=True)
class _Pending:
    message: NewMessage
    future: asyncio.Future[tuple[StoredMessage, bool]]


class MessageWriter:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue(MAX_QUEUE)
        self.batches = 0
        self.messages = 0

    async def append(self, message: NewMessage) -> tuple[StoredMessage, bool]:
        """Store ``message``; returns it with its seq once committed (and whether it is new)."""
        future: asyncio.Future[tuple[StoredMessage, bool]] = (
            asyncio.get_running_loop().create_future()
        )
        await self._queue.put(_Pending(message, future))
        return await future

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
        by_conversation: dict[str, list[_Pending]] = defaultdict(list)
        for pending in batch:
            by_conversation[pending.message.conversation_id].append(pending)
        now = self._clock()
        try:
            results: list[tuple[_Pending, tuple[StoredMessage, bool]]] = []
            async with self._sessions() as session, session.begin():
                # Sorted so two processes lock conversation rows in the same order.
                for conversation_id in sorted(by_conversation):
                    group = by_conversation[conversation_id]
                    stored = await append_messages(
                        session, [pending.message for pending in group], now=now
                    )
                    results.extend(zip(group, stored, strict=True))
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
        for pending, result in results:
            if not pending.future.done():
                pending.future.set_result(result)

"""Coalesce concurrent calls into batches: many callers, a few runs of the work.

When thousands of visitors connect or leave at once (a deploy restarts a process, a network
blip drops a region), doing one database round trip per socket queues thousands of them
behind a pool of a few dozen connections; callers time out and work is lost. A ``Coalescer``
gathers the keys submitted while a batch runs into the next batch, so N simultaneous callers
cost about N / ``max_batch`` runs of the work, and each caller still returns only once the
batch holding its key is done (or raises that batch's error), as if it had run alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Coalescer(Generic[K]):
    """Runs ``work`` on batches of the keys submitted, one batch at a time, in order."""

    def __init__(
        self, work: Callable[[list[K]], Awaitable[None]], *, max_batch: int, name: str
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._work = work
        self._max_batch = max_batch
        self._name = name
        self._pending: list[tuple[K, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # runs of the work so far (for tests and metrics)

    async def submit(self, key: K) -> None:
        """Have ``key`` processed; returns when its batch is done, raises its batch's error."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=self._name)
        await future

    async def close(self) -> None:
        """Wait for the batches already submitted (at shutdown)."""
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                keys = list(dict.fromkeys(key for key, _ in batch))
                self.batches += 1
                try:
                    await self._work(keys)
                except Exception as exc:  # each caller gets it, as if it had run alone
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                except BaseException:  # cancelled (shutdown): so are the callers waiting
                    for _, future in batch:
                        future.cancel()
                    raise
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._task = None
            for _, future in self._pending:  # only left when cancelled: nobody will run them
                future.cancel()
            self._pending.clear()

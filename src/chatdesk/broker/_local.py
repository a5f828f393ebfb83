"""Local fan-out shared by every backend: done once per process (spec: docs/broker.md).

A backend only moves notifications between processes; inside a process this hub hands
each notification to the subscriptions of its topic with a non-blocking enqueue into
bounded queues (the python-socketio split between ``_publish``/``_listen`` and local
delivery). 20,000 local subscriptions therefore cost one Redis subscription per distinct
topic on one connection, not 20,000 connections.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

from chatdesk.broker.base import (
    GapCallback,
    GapReason,
    Notification,
    check_max_queue,
    check_topics,
    gap_marker,
)

log = logging.getLogger(__name__)


class LocalSubscription:
    """A subscription's bounded queue; implements ``base.Subscription``."""

    __slots__ = ("_closed", "_dropped", "_max_queue", "_on_overflow", "_queue", "_ready", "_topics")

    def __init__(
        self,
        topics: frozenset[str],
        *,
        max_queue: int,
        on_overflow: Callable[[], None],
    ) -> None:
        self._topics = topics
        self._max_queue = max_queue
        self._on_overflow = on_overflow
        self._queue: deque[Notification] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self._dropped = 0

    @property
    def topics(self) -> frozenset[str]:
        return self._topics

    @property
    def dropped(self) -> int:
        return self._dropped

    def deliver(self, note: Notification) -> None:
        """Enqueue without blocking; on a full queue swap the backlog for a gap marker."""
        if self._closed:
            return
        if len(self._queue) >= self._max_queue:
            # The backlog is stale by now and the subscriber resyncs from the database on the
            # marker anyway, so keeping it would only cost memory. The newest notification
            # stays (after the marker) so the subscriber still sees the latest event.
            discarded = sum(1 for queued in self._queue if not queued.is_gap)
            self._queue.clear()
            if self._max_queue == 1:
                discarded += 1
            self._dropped += discarded
            self._queue.append(gap_marker(GapReason.OVERFLOW, dropped=discarded))
            if self._max_queue > 1:
                self._queue.append(note)
            self._ready.set()
            self._on_overflow()
            return
        self._queue.append(note)
        self._ready.set()

    def mark_gap(self, reason: GapReason) -> None:
        """Replace the backlog by a gap marker (the subscriber rereads the database)."""
        if self._closed:
            return
        self._queue.clear()
        self._queue.append(gap_marker(reason, dropped=0))
        self._ready.set()

    def close(self) -> None:
        """End iteration once the queue is drained (called on unsubscribe and broker close)."""
        self._closed = True
        self._ready.set()

    def __aiter__(self) -> AsyncIterator[Notification]:
        return self

    async def __anext__(self) -> Notification:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()


class LocalHub:
    """Topic -> subscriptions registry, gap-callback runner and local delivery."""

    def __init__(self) -> None:
        self._by_topic: dict[str, set[LocalSubscription]] = {}
        self._callbacks: list[GapCallback] = []
        self._gap_task: asyncio.Task[None] | None = None
        self._gap_again = False
        self._closed = False

    @property
    def topics(self) -> frozenset[str]:
        """Topics with at least one local subscription."""
        return frozenset(self._by_topic)

    def has_topic(self, topic: str) -> bool:
        """True while ``topic`` has at least one local subscription."""
        return topic in self._by_topic

    @property
    def closed(self) -> bool:
        return self._closed

    def add(self, topics: tuple[str, ...], max_queue: int) -> tuple[LocalSubscription, list[str]]:
        """Register a subscription; return it and the topics that had no subscriber yet."""
        if self._closed:
            raise RuntimeError("the broker is closed")
        checked = check_topics(topics)
        sub = LocalSubscription(
            checked, max_queue=check_max_queue(max_queue), on_overflow=self.request_gap_callbacks
        )
        new_topics: list[str] = []
        for topic in sorted(checked):
            subs = self._by_topic.get(topic)
            if subs is None:
                subs = self._by_topic[topic] = set()
                new_topics.append(topic)
            subs.add(sub)
        return sub, new_topics

    def remove(self, sub: LocalSubscription) -> list[str]:
        """Unregister and close ``sub``; return the topics left without any subscriber."""
        sub.close()
        emptied: list[str] = []
        for topic in sorted(sub.topics):
            subs = self._by_topic.get(topic)
            if subs is None:
                continue
            subs.discard(sub)
            if not subs:
                del self._by_topic[topic]
                emptied.append(topic)
        return emptied

    def deliver(self, note: Notification) -> None:
        """Hand ``note`` to every local subscription of its topic, never blocking."""
        subs = self._by_topic.get(note.topic)
        if subs:
            for sub in tuple(subs):  # an overflow callback must not mutate what we iterate
                sub.deliver(note)

    def mark_all_gap(self, reason: GapReason) -> None:
        """Tell every local subscription it may have missed notifications."""
        for sub in self._subscriptions():
            sub.mark_gap(reason)

    def on_gap(self, callback: GapCallback) -> None:
        self._callbacks.append(callback)

    def request_gap_callbacks(self) -> None:
        """Schedule the gap callbacks: one run at a time, at most one pending rerun."""
        if self._closed or not self._callbacks:
            return
        if self._gap_task is not None and not self._gap_task.done():
            self._gap_again = True
            return
        self._gap_task = asyncio.get_running_loop().create_task(
            self._run_gap_callbacks(), name="chatdesk-broker-gap-callbacks"
        )

    async def _run_gap_callbacks(self) -> None:
        while True:
            self._gap_again = False
            for callback in tuple(self._callbacks):
                try:
                    await callback()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("broker gap callback %r failed", callback)
            if not self._gap_again or self._closed:
                return

    async def close(self) -> None:
        """End every subscription and stop a running gap-callback task."""
        self._closed = True
        for sub in self._subscriptions():
            sub.close()
        self._by_topic.clear()
        task, self._gap_task = self._gap_task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    def _subscriptions(self) -> Iterator[LocalSubscription]:
        seen: set[LocalSubscription] = set()
        for subs in self._by_topic.values():
            for sub in subs:
                if sub not in seen:
                    seen.add(sub)
                    yield sub


@asynccontextmanager
async def local_only_subscription(
    hub: LocalHub, topics: tuple[str, ...], max_queue: int
) -> AsyncIterator[LocalSubscription]:
    """The ``subscribe`` context of a backend with nothing to do beyond this process."""
    sub, _ = hub.add(topics, max_queue)
    try:
        yield sub
    finally:
        hub.remove(sub)

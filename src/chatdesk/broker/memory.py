"""In-process broker: SINGLE PROCESS ONLY (spec: docs/broker.md).

Notifications reach the subscriptions of this process and nothing else: two
``MemoryBroker`` instances (or two worker processes) never see each other's publishes.
That is exactly right for the embedded mode (one process, SQLite) and wrong for
``serve --workers N``, which therefore requires a Redis URL.

Payloads go through the same JSON encoding as the Redis backend, so code tested here
cannot publish something Redis would refuse, and subscribers get their own copy rather
than the publisher's (mutable) mapping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from chatdesk.broker._local import LocalHub, local_only_subscription
from chatdesk.broker.base import (
    DEFAULT_MAX_QUEUE,
    GapCallback,
    Notification,
    Subscription,
    check_topic,
    decode_payload,
    encode_payload,
)


class MemoryBroker:
    """The in-process ``Broker``: local fan-out only, always healthy while open."""

    def __init__(self) -> None:
        self._hub = LocalHub()
        self._started = False
        self._published = 0

    @property
    def healthy(self) -> bool:
        return self._started and not self._hub.closed

    @property
    def published(self) -> int:
        """Notifications accepted by ``publish`` (for metrics)."""
        return self._published

    async def start(self) -> None:
        if self._hub.closed:
            raise RuntimeError("a closed broker cannot be restarted; create a new one")
        self._started = True

    async def close(self) -> None:
        await self._hub.close()

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        check_topic(topic)
        data = encode_payload(topic, payload)
        if self._hub.closed:
            return  # shutdown in progress: nobody is left to notify
        self._published += 1
        self._hub.deliver(Notification(topic, decode_payload(data)))
        # Yield once so a publisher in a tight loop lets subscribers run, like a network
        # backend would; publish still never waits for any subscriber.
        await asyncio.sleep(0)

    def subscribe(
        self, *topics: str, max_queue: int = DEFAULT_MAX_QUEUE
    ) -> AbstractAsyncContextManager[Subscription]:
        return local_only_subscription(self._hub, topics, max_queue)

    def on_gap(self, callback: GapCallback) -> None:
        self._hub.on_gap(callback)

"""The broker seam: notifications between processes, never the truth (spec: docs/broker.md).

The database is the single authority for messages, assignments and agents' chosen status.
The broker only tells other processes (and other tasks of this one) that something *was
stored*: "conversation X has a message with seq N", "agent Y has an offer". A receiver
that needs the data reads it from the database. Losing the broker therefore loses no data;
it loses *promptness*, and every place where promptness can be lost is made visible as a
**gap** so the receiver knows to catch up from the database.

Delivery semantics every backend conforms to (tested by ``tests/contract/test_broker.py``):

- **At most once.** A notification is delivered to a subscription once or not at all;
  there is no redelivery and no persistence.
- **Who receives.** Every subscription that is subscribed to the topic, in any process
  sharing the backend (including the publishing process), receives each notification
  published while it was subscribed. "Subscribed" starts when ``async with
  broker.subscribe(...)`` has entered (the backend has confirmed the subscription, when it
  is reachable) and ends when the block exits.
- **Order.** Notifications published on one topic by one broker instance (one process)
  arrive in the order ``publish`` was called. No order across topics or publishers.
- **Slow subscribers.** Each subscription has a bounded queue (``max_queue``). When a
  notification arrives at a full queue, the queued notifications are discarded and replaced
  by a single *gap marker* (``Notification.is_gap``) followed by the new notification, and
  the broker's gap callbacks are scheduled. Memory stays bounded; the subscriber learns
  in-band, at the right place in the stream, that it must resync from the database.
- **Publish never blocks** on subscribers or on the backend: local fan-out is a
  non-blocking enqueue, remote fan-out is handed to a background writer. Publishing while
  the backend is unreachable does not raise: it logs, marks the broker unhealthy and
  counts a drop (the data is already in the database).
- **Gaps after a loss.** When the backend connection is lost and re-established, every
  subscription of the process gets a gap marker (after its subscriptions are active
  again) and the ``on_gap`` callbacks run, so the process can catch up from the database.

The caller's part: treat ``payload`` as read-only (it is shared by local subscribers);
on a gap marker, re-read from the database whatever the subscription's topics describe;
make gap callbacks idempotent (they may run more than once for one loss).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Protocol

GAP_TOPIC: Final = "!gap"
"""Topic of the in-band gap marker. ``!`` is outside the topic alphabet, so no published
notification can carry it."""

TOPIC_MAX_CHARS: Final = 200  # well above `conv.<uuid>`; bounds Redis channel names
DEFAULT_MAX_QUEUE: Final = 256
"""Per-subscription queue bound. A subscriber 256 notifications behind is far behind; a
resync from the database is cheaper than buffering more (worst case ~256 x 300 B = 75 KB
per subscriber, which keeps 20,000 subscribers of one process well under 2 GB even if all
of them stall at once)."""

_TOPIC_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]*")

GapCallback = Callable[[], Awaitable[None]]


class GapReason(StrEnum):
    """Why a subscription received a gap marker (``payload["reason"]``)."""

    OVERFLOW = "overflow"  # this subscription's queue was full
    RECONNECT = "reconnect"  # the backend connection was lost and is back


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification: a topic and a small JSON object saying what was stored.

    A gap marker has ``topic == GAP_TOPIC`` and ``payload == {"reason": ..., "dropped":
    n}`` (``dropped`` counts discarded notifications, 0 when unknown, e.g. after a
    reconnect).
    """

    topic: str
    payload: dict[str, Any]

    @property
    def is_gap(self) -> bool:
        """True for the marker meaning "you may have missed notifications: resync"."""
        return self.topic == GAP_TOPIC


def gap_marker(reason: GapReason, *, dropped: int) -> Notification:
    """Build the in-band marker queued in place of discarded or lost notifications."""
    return Notification(GAP_TOPIC, {"reason": reason.value, "dropped": dropped})


class Subscription(Protocol):
    """An async iterator of the notifications of some topics; ends when the broker closes.

    Obtained from ``Broker.subscribe``; valid inside its ``async with`` block only.
    """

    @property
    def topics(self) -> frozenset[str]:
        """The topics this subscription receives."""
        ...

    @property
    def dropped(self) -> int:
        """How many notifications this subscription has discarded because it was full."""
        ...

    def __aiter__(self) -> AsyncIterator[Notification]: ...


class Broker(Protocol):
    """Notifies processes that something was stored; see the module docstring for semantics."""

    async def start(self) -> None:
        """Start background work (connections, reconnect loop). Never raises when the
        backend is merely unreachable: the broker starts unhealthy and keeps retrying."""
        ...

    async def close(self) -> None:
        """Stop background work and end every subscription's iteration. Idempotent."""
        ...

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Notify the subscribers of ``topic``. Returns without waiting for delivery.

        Raises ``ValueError`` for an invalid topic or a payload that is not a JSON object
        of JSON values (a programming error); never for an unreachable backend.
        """
        ...

    def subscribe(
        self, *topics: str, max_queue: int = DEFAULT_MAX_QUEUE
    ) -> AbstractAsyncContextManager[Subscription]:
        """Receive the notifications of ``topics`` while the returned context is open."""
        ...

    def on_gap(self, callback: GapCallback) -> None:
        """Run ``callback`` (in a broker-owned task) after each reconnect following a loss
        and after a subscription overflowed, so the process can catch up from the database.
        Concurrent requests coalesce: at most one run at a time plus one pending rerun."""
        ...

    @property
    def healthy(self) -> bool:
        """True while cross-process delivery works (always True for the in-process broker
        between ``start`` and ``close``)."""
        ...


def check_topic(topic: str) -> str:
    """Return ``topic`` if it is a valid topic name, else raise ``ValueError``.

    Topics are ASCII letters, digits and ``_ . : -``, starting with a letter or digit, at
    most ``TOPIC_MAX_CHARS`` long (e.g. ``conv.0193...``, ``agent.42``, ``routing``).
    """
    if not isinstance(topic, str):
        raise ValueError(f"topic must be a string, not {type(topic).__name__}")
    if len(topic) > TOPIC_MAX_CHARS or _TOPIC_RE.fullmatch(topic) is None:
        raise ValueError(
            f"invalid topic {topic[:TOPIC_MAX_CHARS]!r}: use letters, digits and '_.:-', "
            f"starting with a letter or digit, at most {TOPIC_MAX_CHARS} characters"
        )
    return topic


def check_topics(topics: tuple[str, ...]) -> frozenset[str]:
    """Validate the topics of one ``subscribe`` call (at least one)."""
    if not topics:
        raise ValueError("subscribe() needs at least one topic")
    return frozenset(check_topic(topic) for topic in topics)


def check_max_queue(max_queue: int) -> int:
    """Validate a subscription's queue bound (a positive int)."""
    if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
        raise ValueError(f"max_queue must be a positive integer, got {max_queue!r}")
    return max_queue


def encode_payload(topic: str, payload: Mapping[str, Any]) -> str:
    """Serialise ``payload`` to compact JSON, or raise ``ValueError`` naming the topic.

    Both backends serialise, so code that works against the in-process broker cannot
    publish something the Redis broker would refuse (tuples, sets, NaN, datetimes...).
    """
    if not isinstance(payload, Mapping):
        raise ValueError(f"payload for topic {topic!r} must be a mapping")
    try:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload for topic {topic!r} is not JSON-serialisable: {exc}") from exc


def decode_payload(data: str | bytes) -> dict[str, Any]:
    """Parse a payload serialised by ``encode_payload``."""
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("payload is not a JSON object")
    return value


def check_positive_seconds(name: str, value: float) -> float:
    """Validate a duration argument (finite and > 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)

"""Notifications between processes, and socket liveness; never the truth (docs/broker.md).

Choose a backend by URL: ``None`` gives the in-process implementations (embedded mode, one
process), a ``redis://`` / ``rediss://`` / ``unix://`` URL the Redis ones (scale-out).
"""

from __future__ import annotations

from chatdesk.broker.base import (
    GAP_TOPIC,
    Broker,
    GapCallback,
    GapReason,
    Notification,
    Subscription,
)
from chatdesk.broker.liveness import (
    Liveness,
    LivenessUnavailableError,
    MemoryLiveness,
    RedisLiveness,
)
from chatdesk.broker.memory import MemoryBroker
from chatdesk.broker.redis import RedisBroker

__all__ = [
    "GAP_TOPIC",
    "Broker",
    "GapCallback",
    "GapReason",
    "Liveness",
    "LivenessUnavailableError",
    "MemoryBroker",
    "MemoryLiveness",
    "Notification",
    "RedisBroker",
    "RedisLiveness",
    "Subscription",
    "create_broker",
    "create_liveness",
]


def create_broker(redis_url: str | None, *, namespace: str = "chatdesk") -> Broker:
    """The in-process broker when ``redis_url`` is None, else the Redis broker.

    ``namespace`` prefixes every Redis channel, so deployments sharing a Redis stay apart.
    Raises ``ValueError`` for a URL that is not a Redis URL.
    """
    if redis_url is None:
        return MemoryBroker()
    return RedisBroker(redis_url, namespace=namespace)


def create_liveness(redis_url: str | None, *, namespace: str = "chatdesk") -> Liveness:
    """In-process liveness when ``redis_url`` is None, else Redis-backed liveness."""
    if redis_url is None:
        return MemoryLiveness()
    return RedisLiveness(redis_url, namespace=namespace)

"""Socket liveness: is anyone (e.g. agent 42) connected to any process? (docs/broker.md)

Liveness is *not* an agent's chosen status (online/away/offline, stored in the database):
it only says whether a socket is open right now. Each connection registers itself under a
key (``agent:<id>``) with its own ``conn_id`` and a time to live, and refreshes it on every
heartbeat; a key is connected while at least one of its connections is unexpired. A process
that dies stops refreshing, so its connections expire by themselves; nobody has to clean up.
The heartbeat refreshes every socket of a process with one ``connected_many`` call: on Redis
that is one round trip per ``KEYS_PER_CALL`` sockets instead of one per socket (19,000 idle
visitors would otherwise be 19,000 round trips per heartbeat and process).

Redis may restart empty: connections reappear with their next heartbeat (choose
``ttl_s`` > heartbeat interval, and a presence grace period longer than one heartbeat so a
Redis restart does not requeue anyone), and a process may also re-register all its open
sockets from its broker ``on_gap`` callback to shorten that window.

Failure policy: ``connected``/``connected_many``/``disconnected`` never raise for an
unreachable Redis (they log; the next heartbeat repeats them and TTLs clean up), while the
queries raise ``LivenessUnavailableError`` because there is no honest answer to give.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import Final, Protocol

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from chatdesk.broker.base import check_positive_seconds, check_topic
from chatdesk.broker.redis import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, check_redis_url

log = logging.getLogger(__name__)

KEYS_PER_CALL: Final = 1_000  # bounds one script call's run time inside Redis (a few ms)
# Concurrent liveness calls per process; more wait for a free connection. redis-py >= 8
# otherwise caps its pool at 100 and *fails* the rest at once: measured, 1,000 visitors
# closing together lost ~760 removals ("Too many connections"). Each call is well under a
# millisecond in Redis: the process's event loop, not the connection count, is the limit.
MAX_CONNECTIONS: Final = 32
# How long a call may queue for a connection: bounded, so a stuck Redis cannot pile up calls
# for ever. 19,000 sockets closing at once keep a process busy for 30-50 s, mostly database
# work (bench/idle_visitors.py); removals still queued past this fail, and TTLs clean up.
POOL_WAIT_S: Final = 30.0


class LivenessUnavailableError(Exception):
    """The liveness store (Redis) cannot be reached, so connectedness is unknown."""


class Liveness(Protocol):
    """Which keys have at least one live connection, across all processes."""

    async def connected(self, key: str, *, conn_id: str, ttl_s: float) -> None:
        """Register ``conn_id`` under ``key`` for ``ttl_s`` seconds; call again to refresh."""
        ...

    async def connected_many(self, entries: Iterable[tuple[str, str]], *, ttl_s: float) -> None:
        """``connected(key, conn_id=conn_id, ttl_s=ttl_s)`` for every ``(key, conn_id)``, in
        one round trip per 1,000 entries: the heartbeat refresh of a whole process.

        Every entry is checked before anything is stored, so an invalid one (``ValueError``)
        stores none. A key may appear several times with different connection ids.
        """
        ...

    async def disconnected(self, key: str, *, conn_id: str) -> None:
        """Remove ``conn_id`` from ``key`` at once (a clean close)."""
        ...

    async def is_connected(self, key: str) -> bool:
        """True while ``key`` has an unexpired connection."""
        ...

    async def connected_keys(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` that are connected (one round trip per 1,000 keys)."""
        ...

    async def close(self) -> None:
        """Release connections. Idempotent."""
        ...


def _check_key(key: str) -> str:
    try:
        return check_topic(key)
    except ValueError:
        raise ValueError(
            f"invalid liveness key {key!r}: use letters, digits and '_.:-' (e.g. 'agent:42')"
        ) from None


def _check_conn_id(conn_id: str) -> str:
    try:
        return check_topic(conn_id)
    except ValueError:
        raise ValueError(f"invalid conn_id {conn_id!r}: use letters, digits and '_.:-'") from None


def _check_entries(entries: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """All ``(key, conn_id)`` pairs checked up front, so a bad one stores nothing."""
    return [(_check_key(key), _check_conn_id(conn_id)) for key, conn_id in entries]


class MemoryLiveness:
    """Liveness of this process's sockets only: the embedded (single-process) mode."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, dict[str, float]] = {}  # key -> conn_id -> expiry (clock s)

    async def connected(self, key: str, *, conn_id: str, ttl_s: float) -> None:
        conns = self._expiry.setdefault(_check_key(key), {})
        conns[_check_conn_id(conn_id)] = self._clock() + check_positive_seconds("ttl_s", ttl_s)

    async def connected_many(self, entries: Iterable[tuple[str, str]], *, ttl_s: float) -> None:
        expiry = self._clock() + check_positive_seconds("ttl_s", ttl_s)
        for key, conn_id in _check_entries(entries):
            self._expiry.setdefault(key, {})[conn_id] = expiry

    async def disconnected(self, key: str, *, conn_id: str) -> None:
        conns = self._expiry.get(_check_key(key))
        if conns is not None:
            conns.pop(_check_conn_id(conn_id), None)
            if not conns:
                del self._expiry[key]

    async def is_connected(self, key: str) -> bool:
        return self._alive(_check_key(key))

    async def connected_keys(self, keys: Iterable[str]) -> set[str]:
        return {key for key in {_check_key(k) for k in keys} if self._alive(key)}

    async def close(self) -> None:
        self._expiry.clear()

    def _alive(self, key: str) -> bool:
        conns = self._expiry.get(key)
        if not conns:
            return False
        now = self._clock()
        for conn_id in [c for c, expiry in conns.items() if expiry <= now]:
            del conns[conn_id]  # prune lazily: memory stays proportional to live sockets
        if not conns:
            del self._expiry[key]
            return False
        return True


def _script(name: str) -> str:
    return files("chatdesk.broker").joinpath(name).read_text(encoding="utf-8")


class RedisLiveness:
    """Liveness shared by all processes: one sorted set per key, expiring by itself.

    Set ``<namespace>:live:<key>``: members are connection ids, scores their expiry on the
    Redis clock (ms), and the set's own TTL follows its longest-lived member
    (``liveness_connect.lua``; ``liveness_connect_many.lua`` does the same for up to
    ``KEYS_PER_CALL`` keys per call). Queries count unexpired members (``liveness_count.lua``).
    Multi-key calls assume one Redis (not Redis Cluster).
    """

    def __init__(self, url: str, *, namespace: str = "chatdesk") -> None:
        check_topic(namespace)
        self._prefix = f"{namespace}:live:"
        pool = BlockingConnectionPool.from_url(
            check_redis_url(url),
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_S,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
        )
        self._redis: Redis = Redis.from_pool(pool)  # closing the client closes the pool
        # Script objects resend the source on NOSCRIPT, so a restarted Redis needs nothing.
        self._connect = self._redis.register_script(_script("liveness_connect.lua"))
        self._connect_many = self._redis.register_script(_script("liveness_connect_many.lua"))
        self._count = self._redis.register_script(_script("liveness_count.lua"))
        self._write_failures = 0

    @property
    def write_failures(self) -> int:
        """Registrations and removals lost to an unreachable Redis (for metrics): one per
        ``connected``/``disconnected`` call, one per entry of a ``connected_many`` call."""
        return self._write_failures

    async def connected(self, key: str, *, conn_id: str, ttl_s: float) -> None:
        ttl_ms = max(1, round(check_positive_seconds("ttl_s", ttl_s) * 1000))
        redis_key = self._prefix + _check_key(key)
        try:
            await self._connect(keys=[redis_key], args=[_check_conn_id(conn_id), ttl_ms])
        except (RedisError, OSError) as exc:
            self._write_failed("connected", key, exc)

    async def connected_many(self, entries: Iterable[tuple[str, str]], *, ttl_s: float) -> None:
        ttl_ms = max(1, round(check_positive_seconds("ttl_s", ttl_s) * 1000))
        checked = _check_entries(entries)
        for start in range(0, len(checked), KEYS_PER_CALL):
            chunk = checked[start : start + KEYS_PER_CALL]
            try:
                await self._connect_many(
                    keys=[self._prefix + key for key, _ in chunk],
                    args=[ttl_ms, *(conn_id for _, conn_id in chunk)],
                )
            except (RedisError, OSError) as exc:
                # Redis is down or too slow: the remaining chunks would only wait out the same
                # timeout each, delaying the heartbeat loop; the next heartbeat repeats them all.
                lost = len(checked) - start
                self._write_failures += lost
                log.warning(
                    "liveness connected_many: %d of %d registrations not stored, "
                    "redis unreachable: %s",
                    lost,
                    len(checked),
                    exc,
                )
                return

    async def disconnected(self, key: str, *, conn_id: str) -> None:
        redis_key = self._prefix + _check_key(key)
        try:
            await self._redis.zrem(redis_key, _check_conn_id(conn_id))
        except (RedisError, OSError) as exc:
            self._write_failed("disconnected", key, exc)

    async def is_connected(self, key: str) -> bool:
        return bool(await self.connected_keys([key]))

    async def connected_keys(self, keys: Iterable[str]) -> set[str]:
        unique = sorted({_check_key(k) for k in keys})
        alive: set[str] = set()
        for start in range(0, len(unique), KEYS_PER_CALL):
            chunk = unique[start : start + KEYS_PER_CALL]
            try:
                counts = await self._count(keys=[self._prefix + k for k in chunk])
            except (RedisError, OSError) as exc:
                raise LivenessUnavailableError(f"redis liveness store unreachable: {exc}") from exc
            alive.update(key for key, count in zip(chunk, counts, strict=True) if int(count) > 0)
        return alive

    async def close(self) -> None:
        await self._redis.aclose()

    def _write_failed(self, operation: str, key: str, exc: BaseException) -> None:
        self._write_failures += 1
        log.warning("liveness %s(%r) not stored, redis unreachable: %s", operation, key, exc)

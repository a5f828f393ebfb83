"""Redis pub/sub broker for scale-out: one subscriber connection per process (docs/broker.md).

Shape (python-socketio's split): Redis only moves notifications between processes; local
fan-out happens once per process in ``LocalHub``. Each process holds

- one **subscriber connection**, SUBSCRIBEd to ``<namespace>:<topic>`` for every topic with
  at least one local subscription (reference-counted by the hub), read by one task that
  dispatches to local subscriptions; a ping task detects a silent peer;
- one **publisher connection**, fed by a bounded outbox and a writer task that pipelines
  PUBLISH commands in order, so ``publish`` never waits for Redis and per-topic order from
  this process is the order of ``publish`` calls.

The publisher's own local subscribers are served directly (not via Redis), so they keep
working while Redis is down; the echo from Redis is recognised by an origin id and skipped.

When the subscriber connection is lost, a reconnect loop retries with capped, jittered
exponential backoff; after reconnecting it resubscribes every topic, waits for Redis to
confirm, then queues a gap marker in every local subscription and runs the ``on_gap``
callbacks, so the process catches up from the database. Redis keeps no state we need: it
may restart (even empty) at any time.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import secrets
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final
from urllib.parse import urlsplit

from redis.asyncio.connection import AbstractConnection, ConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from chatdesk.broker._local import LocalHub, LocalSubscription
from chatdesk.broker.base import (
    DEFAULT_MAX_QUEUE,
    GapCallback,
    GapReason,
    Notification,
    Subscription,
    check_positive_seconds,
    check_topic,
    decode_payload,
    encode_payload,
)

log = logging.getLogger(__name__)

REDIS_URL_SCHEMES: Final = frozenset({"redis", "rediss", "unix"})
BACKOFF_BASE_S: Final = 0.1  # first retry almost at once: most losses are a quick restart
BACKOFF_MAX_S: Final = 5.0
"""Cap of the reconnect delay: bounds the notification blackout after Redis comes back to
~5 s while keeping 100 processes at <= ~40 attempts/s against a recovering Redis."""
PING_INTERVAL_S: Final = 5.0
"""Subscriber-connection ping; no reply for two intervals means a dead (half-open) peer.
A killed Redis on a live host is noticed at once (connection reset); this catches the rest."""
CONNECT_TIMEOUT_S: Final = 5.0  # also how long start() waits for the first connection
SOCKET_TIMEOUT_S: Final = 5.0  # publisher replies; a Redis slower than this is as good as down
MAX_OUTBOX: Final = 10_000
"""Notifications waiting for the publisher connection: ~2 s at the 5,000 msg/s target.
Beyond that Redis is not keeping up and the notifications would arrive stale anyway."""
MAX_PIPELINE: Final = 512  # PUBLISH commands per round trip; bounds one write's size
SUBSCRIBE_CHUNK: Final = 1_000  # channels per SUBSCRIBE when resubscribing thousands
SUBSCRIBE_CONFIRM_TIMEOUT_S: Final = 5.0
FLUSH_ON_CLOSE_S: Final = 1.0  # shutdown must not hang on a slow Redis; drops are fine
STOP_GRACE_S: Final = 1.0  # see _stop(): re-cancel a task whose cancellation was swallowed


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it, cancelling again if a cancellation got swallowed.

    On Python < 3.12, ``asyncio.wait_for`` (used by redis-py around socket I/O) can swallow
    a cancellation that races with the operation completing. (``Task.cancelling()`` is no
    help there: 3.11's TaskGroup leaves it raised after a child failure.) Our loops also
    stop at their next turn once ``close()`` has set the closing flag.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_GRACE_S)
    if not task.cancelled() and task.exception() is not None:
        log.error(
            "redis broker: background task %s failed", task.get_name(), exc_info=task.exception()
        )


def check_redis_url(url: str) -> str:
    """Return ``url`` if it is a Redis URL, else raise ``ValueError`` (a config mistake)."""
    scheme = urlsplit(url).scheme if isinstance(url, str) else ""
    if scheme not in REDIS_URL_SCHEMES:
        raise ValueError(f"not a Redis URL: {url!r} (expected redis://, rediss:// or unix://)")
    return url


class RedisBroker:
    """The scale-out ``Broker`` on Redis pub/sub."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "chatdesk",
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        ping_interval_s: float = PING_INTERVAL_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        max_outbox: int = MAX_OUTBOX,
        rng: random.Random | None = None,
    ) -> None:
        check_topic(namespace)
        self._backoff_base_s = check_positive_seconds("backoff_base_s", backoff_base_s)
        self._backoff_max_s = check_positive_seconds("backoff_max_s", backoff_max_s)
        self._ping_interval_s = check_positive_seconds("ping_interval_s", ping_interval_s)
        self._connect_timeout_s = check_positive_seconds("connect_timeout_s", connect_timeout_s)
        if max_outbox < 1:
            raise ValueError(f"max_outbox must be >= 1, got {max_outbox!r}")
        self._max_outbox = max_outbox
        self._rng = rng or random.Random()
        # Used only as a factory of raw connections: both connections are long-lived and
        # owned by one task each, and the reconnect policy is ours (no hidden retries).
        # RESP2 is pinned (over any ?protocol= in the URL): our reader parses pub/sub
        # replies as plain arrays, which RESP3 would deliver as out-of-band push frames.
        options: dict[str, Any] = dict(parse_url(check_redis_url(url)))
        options.update(
            protocol=2,
            socket_connect_timeout=self._connect_timeout_s,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        self._pool = ConnectionPool(**options)
        self._prefix = f"{namespace}:"
        self._origin = secrets.token_hex(8).encode()
        self._hub = LocalHub()

        self._sub_conn: AbstractConnection | None = None
        self._write_lock = asyncio.Lock()  # orders commands on the subscriber connection
        self._active: set[str] = set()  # topics SUBSCRIBEd on the current connection
        self._acks: dict[str, deque[asyncio.Future[None]]] = {}  # pending confirmations
        self._last_rx = 0.0
        self._generation = 0  # +1 per subscriber (re)connect; the writer follows it

        self._outbox: deque[tuple[bytes, bytes]] = deque()
        self._outbox_ready = asyncio.Event()
        self._writer_idle = asyncio.Event()  # set while the outbox is empty and nothing in flight
        self._writer_idle.set()

        self._connected = False
        self._publish_failed = False
        self._healthy_event = asyncio.Event()
        self._unhealthy_event = asyncio.Event()
        self._unhealthy_event.set()
        self._gap_on_connect = False
        self._closing = False
        self._listener: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None

        self._published = 0
        self._dropped = 0
        self._drop_logged = False
        self._reconnects = 0

    # -- status -------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self._connected and not self._publish_failed and not self._hub.closed

    @property
    def published(self) -> int:
        """Notifications written to Redis (for metrics)."""
        return self._published

    @property
    def dropped(self) -> int:
        """Notifications not sent to other processes (Redis down, outbox full, write error)."""
        return self._dropped

    @property
    def reconnects(self) -> int:
        """Subscriber-connection re-establishments after a loss (for metrics)."""
        return self._reconnects

    async def wait_healthy(self, healthy: bool = True) -> None:
        """Wait until ``healthy`` equals the argument (readiness probes, tests, benchmarks)."""
        await (self._healthy_event if healthy else self._unhealthy_event).wait()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._hub.closed:
            raise RuntimeError("a closed broker cannot be restarted; create a new one")
        if self._listener is not None:
            return
        loop = asyncio.get_running_loop()
        self._listener = loop.create_task(self._listen_forever(), name="chatdesk-redis-listen")
        self._writer = loop.create_task(self._write_forever(), name="chatdesk-redis-publish")
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await self._healthy_event.wait()
        except TimeoutError:
            # Serve anyway: the database holds the truth; notifications resume on reconnect,
            # and whatever was missed until then is announced as a gap.
            self._gap_on_connect = True
            log.error(
                "redis broker: no connection within %.1f s; retrying in the background",
                self._connect_timeout_s,
            )

    async def close(self) -> None:
        await self._hub.close()
        await self._flush_outbox()
        self._closing = True
        for task in (self._listener, self._writer):
            if task is not None:
                await _stop(task)
        self._listener = self._writer = None
        self._set_connected(False)
        await self._pool.disconnect()

    async def _flush_outbox(self) -> None:
        """Give notifications already accepted a short chance to leave (best effort)."""
        if self._writer is None or not self._connected:
            return
        try:
            async with asyncio.timeout(FLUSH_ON_CLOSE_S):
                await self._writer_idle.wait()
        except TimeoutError:
            log.warning("redis broker: closing with %d unsent notifications", len(self._outbox))

    # -- publish ------------------------------------------------------------------------

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        check_topic(topic)
        data = encode_payload(topic, payload)
        if self._hub.closed:
            return  # shutdown in progress: nobody is left to notify
        self._hub.deliver(Notification(topic, decode_payload(data)))
        if not self._connected:
            self._drop(1, "redis is unreachable")
            return
        if len(self._outbox) >= self._max_outbox:
            self._drop(1, "publish outbox is full (redis too slow)")
            return
        self._outbox.append(((self._prefix + topic).encode(), self._origin + b"\n" + data.encode()))
        self._outbox_ready.set()
        self._writer_idle.clear()

    def _stop_if_closing(self) -> None:
        """End a background loop at its next turn once ``close()`` began (see ``_stop``)."""
        if self._closing:
            raise asyncio.CancelledError

    def _drop(self, count: int, reason: str) -> None:
        self._dropped += count
        if not self._drop_logged:
            self._drop_logged = True  # once per unhealthy spell; the counter has the rest
            log.warning("redis broker: dropping notifications to other processes: %s", reason)

    async def _write_forever(self) -> None:
        conn: AbstractConnection | None = None
        conn_generation = -1
        try:
            while True:
                self._stop_if_closing()
                while not self._outbox:
                    self._outbox_ready.clear()
                    self._writer_idle.set()
                    await self._outbox_ready.wait()
                count = min(len(self._outbox), MAX_PIPELINE)
                batch = [self._outbox.popleft() for _ in range(count)]
                try:
                    if conn is not None and conn_generation != self._generation:
                        # Redis was lost since this connection was made: it is stale (a
                        # restarted server never saw it), and a retry could duplicate.
                        await conn.disconnect(nowait=True)
                        conn = None
                    if conn is None:
                        conn_generation = self._generation
                        conn = self._new_connection()
                        await conn.connect()  # type: ignore[no-untyped-call]
                    commands = [("PUBLISH", channel, data) for channel, data in batch]
                    await conn.send_packed_command(conn.pack_commands(commands), False)
                    for _ in batch:
                        await conn.read_response()
                except (RedisError, OSError, EOFError) as exc:
                    self._stop_if_closing()
                    self._drop(len(batch), f"write failed: {exc}")
                    self._publish_failed = True
                    self._update_health()
                    if conn is not None:
                        await conn.disconnect(nowait=True)
                        conn = None
                    continue
                self._published += len(batch)
                if self._publish_failed:
                    self._publish_failed = False
                    self._update_health()
        finally:
            if conn is not None:
                await conn.disconnect(nowait=True)

    # -- subscribe ----------------------------------------------------------------------

    def subscribe(
        self, *topics: str, max_queue: int = DEFAULT_MAX_QUEUE
    ) -> AbstractAsyncContextManager[Subscription]:
        return self._subscription(topics, max_queue)

    @asynccontextmanager
    async def _subscription(
        self, topics: tuple[str, ...], max_queue: int
    ) -> AsyncIterator[LocalSubscription]:
        sub, _ = self._hub.add(topics, max_queue)
        try:
            await self._redis_subscribe(sub.topics)
            yield sub
        finally:
            emptied = self._hub.remove(sub)
            if emptied:
                await self._redis_unsubscribe(emptied)

    def on_gap(self, callback: GapCallback) -> None:
        self._hub.on_gap(callback)

    async def _redis_subscribe(self, topics: Iterable[str]) -> None:
        """SUBSCRIBE what is not subscribed yet; wait until Redis confirms every topic.

        Without a connection this returns at once: the reconnect resubscribes and marks a
        gap, which covers anything published in between.
        """
        waits: list[asyncio.Future[None]] = []
        async with self._write_lock:
            conn = self._sub_conn
            if conn is None:
                return
            to_send = [
                t for t in sorted(topics) if t not in self._active and self._hub.has_topic(t)
            ]
            try:
                await self._send_subscribe(conn, to_send)
            except (RedisError, OSError, EOFError) as exc:
                log.debug("redis broker: SUBSCRIBE failed (%s); the reconnect will redo it", exc)
                return
            for topic in topics:
                pending = self._acks.get(topic)
                if pending:
                    waits.append(pending[-1])
        if waits:
            try:
                async with asyncio.timeout(SUBSCRIBE_CONFIRM_TIMEOUT_S):
                    await asyncio.gather(*(asyncio.shield(fut) for fut in waits))
            except TimeoutError:
                log.warning(
                    "redis broker: SUBSCRIBE not confirmed within %.1f s",
                    SUBSCRIBE_CONFIRM_TIMEOUT_S,
                )

    async def _send_subscribe(self, conn: AbstractConnection, topics: list[str]) -> None:
        """Send SUBSCRIBE (caller holds the write lock), registering confirmations first."""
        loop = asyncio.get_running_loop()
        for start in range(0, len(topics), SUBSCRIBE_CHUNK):
            chunk = topics[start : start + SUBSCRIBE_CHUNK]
            for topic in chunk:
                self._active.add(topic)
                self._acks.setdefault(topic, deque()).append(loop.create_future())
            await conn.send_command(
                "SUBSCRIBE", *(self._prefix + t for t in chunk), check_health=False
            )

    async def _redis_unsubscribe(self, topics: list[str]) -> None:
        async with self._write_lock:
            conn = self._sub_conn
            # Re-check under the lock: a new subscriber may have taken the topic back.
            gone = [t for t in topics if t in self._active and not self._hub.has_topic(t)]
            if conn is None or not gone:
                return
            self._active.difference_update(gone)
            try:
                await conn.send_command(
                    "UNSUBSCRIBE", *(self._prefix + t for t in gone), check_health=False
                )
            except (RedisError, OSError, EOFError) as exc:
                log.debug("redis broker: UNSUBSCRIBE failed (%s); the reconnect drops it", exc)

    # -- the subscriber connection ------------------------------------------------------

    def _new_connection(self) -> AbstractConnection:
        """A fresh, unconnected connection configured from the URL (not pooled)."""
        conn: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        return conn

    def _backoff_s(self, attempt: int) -> float:
        """Capped exponential backoff with "equal jitter": never ~0, never above the cap."""
        ceiling = min(self._backoff_max_s, self._backoff_base_s * 2.0 ** min(attempt, 30))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def _listen_forever(self) -> None:
        attempt = 0
        lost_at: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            self._stop_if_closing()
            conn = self._new_connection()
            error: BaseException | None = None
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                self._generation += 1
                attempt = 0
                if lost_at is not None:
                    self._reconnects += 1
                    log.info("redis broker: reconnected after %.2f s", loop.time() - lost_at)
                    lost_at = None
                await self._session(conn)
            except* (RedisError, OSError, EOFError) as group:
                error = group.exceptions[0]
            except* Exception as group:
                error = group.exceptions[0]
                log.error("redis broker: unexpected listener error", exc_info=error)
            finally:
                await conn.disconnect(nowait=True)
            if lost_at is None:
                lost_at = loop.time()
                log.warning("redis broker: connection lost (%s); reconnecting", error)
            else:
                log.debug("redis broker: reconnect attempt %d failed: %s", attempt, error)
            await asyncio.sleep(self._backoff_s(attempt))
            attempt += 1

    async def _session(self, conn: AbstractConnection) -> None:
        """Run one connection: reader and pinger, resubscribe, then announce the gap."""
        loop = asyncio.get_running_loop()
        self._last_rx = loop.time()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._read_loop(conn))
                tasks.create_task(self._ping_loop(conn))
                async with self._write_lock:
                    self._sub_conn = conn
                    self._active = set()
                    await self._send_subscribe(conn, sorted(self._hub.topics))
                    waits = [fut for pending in self._acks.values() for fut in pending]
                await asyncio.gather(*waits)
                self._set_connected(True)
                if self._gap_on_connect:
                    self._hub.mark_all_gap(GapReason.RECONNECT)
                    self._hub.request_gap_callbacks()
                self._gap_on_connect = True
        finally:
            self._sub_conn = None
            self._set_connected(False)
            self._gap_on_connect = True
            for pending in self._acks.values():
                for fut in pending:
                    if not fut.done():
                        # Let waiting subscribers in; the reconnect's gap marker covers them.
                        fut.set_result(None)
            self._acks = {}

    async def _read_loop(self, conn: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            reply = await conn.read_response(timeout=math.inf)
            self._stop_if_closing()
            self._last_rx = loop.time()
            if not isinstance(reply, list) or not reply:
                continue
            kind = reply[0]
            if kind == b"message" and len(reply) == 3:
                self._on_message(reply[1], reply[2])
            elif kind == b"subscribe":
                self._on_subscribed(reply[1])

    def _on_message(self, channel: bytes, data: bytes) -> None:
        try:
            origin, _, body = data.partition(b"\n")
            if origin == self._origin:
                return  # already delivered locally by publish()
            topic = channel.decode()[len(self._prefix) :]
            self._hub.deliver(Notification(topic, decode_payload(body)))
        except ValueError as exc:  # includes JSON and Unicode decoding errors
            log.warning("redis broker: ignoring malformed notification on %r: %s", channel, exc)

    def _on_subscribed(self, channel: bytes) -> None:
        topic = channel.decode()[len(self._prefix) :]
        pending = self._acks.get(topic)
        if pending:
            fut = pending.popleft()
            if not pending:
                del self._acks[topic]
            if not fut.done():
                fut.set_result(None)

    async def _ping_loop(self, conn: AbstractConnection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._ping_interval_s)
            silent_s = loop.time() - self._last_rx
            if silent_s > 2 * self._ping_interval_s:
                raise RedisConnectionError(f"no reply from redis for {silent_s:.1f} s")
            async with self._write_lock:
                await conn.send_command("PING", check_health=False)
            self._stop_if_closing()

    def _set_connected(self, connected: bool) -> None:
        self._connected = connected
        if connected:
            self._publish_failed = False
            self._drop_logged = False
        self._update_health()

    def _update_health(self) -> None:
        if self.healthy:
            self._unhealthy_event.clear()
            self._healthy_event.set()
        else:
            self._healthy_event.clear()
            self._unhealthy_event.set()

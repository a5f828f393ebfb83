"""Redis may die and come back empty: the broker notices, recovers by itself and says "gap".

A PRIVATE ``redis-server`` (own port on 127.0.0.1, no persistence, temporary directory) is
started as a subprocess so it can be SIGKILLed without touching the machine's Redis. Waits
are bounded by ``asyncio.timeout`` as hang protection; the recovery time is printed, not
asserted (``bench/redis_restart.py`` measures it over several cycles).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from chatdesk.broker import LivenessUnavailableError, Notification, RedisBroker, RedisLiveness
from chatdesk.broker.base import Subscription

WAIT_S = 30.0  # hang protection: covers the 5 s backoff cap several times over
READY_LINE = b"Ready to accept connections"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A throwaway ``redis-server`` on a fixed port that can be killed and restarted."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self._proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Start the server and return once it accepts connections (from its own log)."""
        self._proc = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", "",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        ready = asyncio.Event()
        self._drain = asyncio.get_running_loop().create_task(self._read_log(self._proc, ready))
        async with asyncio.timeout(WAIT_S):
            await ready.wait()

    async def _read_log(self, proc: asyncio.subprocess.Process, ready: asyncio.Event) -> None:
        assert proc.stdout is not None
        log: list[bytes] = []
        async for line in proc.stdout:  # keep draining so the pipe never fills
            log.append(line)
            if READY_LINE in line:
                ready.set()
        if not ready.is_set():
            raise RuntimeError("redis-server exited early:\n" + b"".join(log).decode())

    def freeze(self, frozen: bool) -> None:
        """SIGSTOP / SIGCONT: the TCP connections stay open but nothing answers."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to clients, nothing saved."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGKILL)  # also ends a SIGSTOPped server
            await self._proc.wait()
        if self._drain is not None:
            with contextlib.suppress(RuntimeError):
                await self._drain
        self._proc = self._drain = None


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("the redis-server binary is not installed")
    server = PrivateRedis(tmp_path, free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


async def receive(sub: Subscription) -> Notification:
    async with asyncio.timeout(WAIT_S):
        return await anext(aiter(sub))


async def test_broker_recovers_by_itself_after_redis_is_killed_and_restarted(
    private_redis: PrivateRedis,
) -> None:
    listener = RedisBroker(private_redis.url, namespace="restart")
    publisher = RedisBroker(private_redis.url, namespace="restart")
    gap = asyncio.Event()

    async def catch_up() -> None:
        gap.set()

    listener.on_gap(catch_up)
    await listener.start()
    await publisher.start()
    try:
        async with listener.subscribe("conv.1") as before_outage:
            await publisher.publish("conv.1", {"seq": 1})
            assert await receive(before_outage) == Notification("conv.1", {"seq": 1})

            await private_redis.kill()
            async with asyncio.timeout(WAIT_S):
                await listener.wait_healthy(False)
                await publisher.wait_healthy(False)
            assert not listener.healthy
            dropped = publisher.dropped
            await publisher.publish("conv.1", {"seq": 2})  # must not raise: data is in the DB
            assert publisher.dropped == dropped + 1

            async with listener.subscribe("conv.2") as during_outage:
                await private_redis.start()
                restarted = time.monotonic()
                async with asyncio.timeout(WAIT_S):
                    await gap.wait()
                    await listener.wait_healthy()
                    await publisher.wait_healthy()
                gap_after_s = time.monotonic() - restarted

                for sub in (before_outage, during_outage):
                    marker = await receive(sub)
                    assert marker.is_gap
                    assert marker.payload["reason"] == "reconnect"
                await publisher.publish("conv.1", {"seq": 3})
                await publisher.publish("conv.2", {"seq": 1})
                assert await receive(before_outage) == Notification("conv.1", {"seq": 3})
                assert await receive(during_outage) == Notification("conv.2", {"seq": 1})
                resumed_after_s = time.monotonic() - restarted
        assert listener.reconnects == 1
        print(  # noqa: T201 - the measured number is part of the test's report
            f"\nredis restart: gap callback {gap_after_s * 1000:.0f} ms and live delivery "
            f"{resumed_after_s * 1000:.0f} ms after the restarted server was ready"
        )
    finally:
        await listener.close()
        await publisher.close()


async def test_a_frozen_redis_is_detected_by_ping_and_recovered_after_it_resumes(
    private_redis: PrivateRedis,
) -> None:
    listener = RedisBroker(private_redis.url, namespace="frozen", ping_interval_s=0.2)
    publisher = RedisBroker(private_redis.url, namespace="frozen")
    gap = asyncio.Event()

    async def catch_up() -> None:
        gap.set()

    listener.on_gap(catch_up)
    await listener.start()
    await publisher.start()
    try:
        async with listener.subscribe("conv.1") as sub:
            private_redis.freeze(True)  # no reset, no FIN: only the missing PONG tells
            async with asyncio.timeout(WAIT_S):
                await listener.wait_healthy(False)
            private_redis.freeze(False)
            async with asyncio.timeout(WAIT_S):
                await gap.wait()
                await listener.wait_healthy()
                await publisher.wait_healthy()
            assert (await receive(sub)).is_gap
            await publisher.publish("conv.1", {"seq": 1})
            assert await receive(sub) == Notification("conv.1", {"seq": 1})
    finally:
        private_redis.freeze(False)
        await listener.close()
        await publisher.close()


async def test_malformed_notifications_from_a_foreign_publisher_are_skipped(
    private_redis: PrivateRedis,
) -> None:
    broker = RedisBroker(private_redis.url, namespace="foreign")
    raw = Redis.from_url(private_redis.url)
    await broker.start()
    try:
        async with broker.subscribe("conv.1") as sub:
            await raw.publish("foreign:conv.1", b"no origin line")
            await raw.publish("foreign:conv.1", b"someone\n[1, 2]")
            await raw.publish("foreign:conv.1", b'someone\n{"seq": 1}')
            assert await receive(sub) == Notification("conv.1", {"seq": 1})
    finally:
        await raw.aclose()
        await broker.close()


async def test_broker_starts_and_publishes_without_redis() -> None:
    broker = RedisBroker(f"redis://127.0.0.1:{free_port()}/0", connect_timeout_s=0.2)
    await broker.start()  # returns although nothing listens; retries in the background
    try:
        assert not broker.healthy
        async with broker.subscribe("conv.1") as sub:
            await broker.publish("conv.1", {"seq": 1})
            # The publishing process's own subscribers are served without Redis.
            assert await receive(sub) == Notification("conv.1", {"seq": 1})
        assert broker.dropped == 1
    finally:
        await broker.close()


async def test_liveness_is_rebuilt_by_heartbeats_after_redis_restarts_empty(
    private_redis: PrivateRedis,
) -> None:
    liveness = RedisLiveness(private_redis.url, namespace="restart")
    try:
        await liveness.connected("agent:1", conn_id="c1", ttl_s=60)
        assert await liveness.is_connected("agent:1")

        await private_redis.kill()
        await liveness.connected("agent:1", conn_id="c1", ttl_s=60)  # heartbeat: no raise
        with pytest.raises(LivenessUnavailableError):
            await liveness.is_connected("agent:1")

        await private_redis.start()
        assert not await liveness.is_connected("agent:1")  # Redis came back empty
        await liveness.connected("agent:1", conn_id="c1", ttl_s=60)  # next heartbeat
        assert await liveness.is_connected("agent:1")
    finally:
        await liveness.close()

"""Redis may die and come back empty: the broker notices, recovers by itself and says "gap".

A PRIVATE ``redis-server`` (the ``private_redis`` fixture: own port on 127.0.0.1, no
persistence, temporary directory) is started as a subprocess so it can be SIGKILLed without
touching the machine's Redis. Waits are bounded by ``asyncio.timeout`` as hang protection;
the recovery time is printed, not asserted (``bench/redis_restart.py`` measures it over
several cycles).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chatdesk.broker import LivenessUnavailableError, Notification, RedisBroker, RedisLiveness
from chatdesk.broker.base import Subscription
from chatdesk.broker.redis import PING_INTERVAL_S
from tests.support.redis_server import PrivateRedis
from tests.support.server import free_port

WAIT_S = 30.0  # hang protection: covers the 5 s backoff cap several times over


async def receive(sub: Subscription) -> Notification:
    async with asyncio.timeout(WAIT_S):
        return await anext(aiter(sub))


@contextlib.asynccontextmanager
async def two_brokers(
    url: str, *, namespace: str, ping_interval_s: float = PING_INTERVAL_S
) -> AsyncIterator[tuple[RedisBroker, RedisBroker, asyncio.Event]]:
    """A listener and a publisher on ``url``, as two processes have them, started; and an
    event that the listener's gap callback sets (where a server catches its sockets up)."""
    listener = RedisBroker(url, namespace=namespace, ping_interval_s=ping_interval_s)
    publisher = RedisBroker(url, namespace=namespace)
    gap = asyncio.Event()

    async def catch_up() -> None:
        gap.set()

    listener.on_gap(catch_up)
    await listener.start()
    await publisher.start()
    try:
        yield listener, publisher, gap
    finally:
        await listener.close()
        await publisher.close()


async def test_broker_recovers_by_itself_after_redis_is_killed_and_restarted(
    private_redis: PrivateRedis,
) -> None:
    async with two_brokers(private_redis.url, namespace="restart") as (listener, publisher, gap):
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


async def test_a_frozen_redis_is_detected_by_ping_and_recovered_after_it_resumes(
    private_redis: PrivateRedis,
) -> None:
    frozen = two_brokers(private_redis.url, namespace="frozen", ping_interval_s=0.2)
    async with frozen as (listener, publisher, gap):
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
            private_redis.freeze(False)  # resumed before the brokers close their connections


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

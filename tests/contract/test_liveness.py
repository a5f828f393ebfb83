"""One contract suite for socket liveness, in memory and on Redis (spec: docs/broker.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chatdesk.broker import Liveness, LivenessUnavailableError, MemoryLiveness, RedisLiveness
from tests.contract.test_broker import redis_url_or_skip

WAIT_S = 10.0  # hang protection only


@pytest.fixture
def namespace() -> str:
    return f"chatdesk-test-{uuid.uuid4().hex}"


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("redis", id="redis", marks=pytest.mark.redis),
    ]
)
async def liveness(request: pytest.FixtureRequest, namespace: str) -> AsyncIterator[Liveness]:
    store: Liveness
    if request.param == "memory":
        store = MemoryLiveness()
    else:
        store = RedisLiveness(redis_url_or_skip(), namespace=namespace)
    yield store
    await store.close()


async def wait_disconnected(liveness: Liveness, key: str) -> None:
    """Poll until ``key`` expires; the expiry happens in the store, so there is no event."""
    async with asyncio.timeout(WAIT_S):
        while await liveness.is_connected(key):  # noqa: ASYNC110 - nothing to wait on
            await asyncio.sleep(0.05)


async def test_a_registered_connection_makes_its_key_connected(liveness: Liveness) -> None:
    assert not await liveness.is_connected("agent:1")
    await liveness.connected("agent:1", conn_id="c1", ttl_s=30)
    assert await liveness.is_connected("agent:1")
    assert not await liveness.is_connected("agent:2")


async def test_key_stays_connected_until_its_last_connection_leaves(liveness: Liveness) -> None:
    await liveness.connected("agent:1", conn_id="tab-a", ttl_s=30)
    await liveness.connected("agent:1", conn_id="tab-b", ttl_s=30)
    await liveness.disconnected("agent:1", conn_id="tab-a")
    assert await liveness.is_connected("agent:1")
    await liveness.disconnected("agent:1", conn_id="tab-b")
    assert not await liveness.is_connected("agent:1")
    await liveness.disconnected("agent:1", conn_id="tab-b")  # a second close is harmless


async def test_connected_keys_returns_the_connected_subset(liveness: Liveness) -> None:
    await liveness.connected("agent:1", conn_id="c1", ttl_s=30)
    await liveness.connected("agent:3", conn_id="c3", ttl_s=30)
    keys = ["agent:1", "agent:2", "agent:3", "agent:1"]
    assert await liveness.connected_keys(keys) == {"agent:1", "agent:3"}
    assert await liveness.connected_keys([]) == set()


async def test_connection_expires_without_a_heartbeat(liveness: Liveness) -> None:
    await liveness.connected("agent:dead-process", conn_id="c1", ttl_s=0.2)
    await liveness.connected("agent:alive", conn_id="c2", ttl_s=30)
    assert await liveness.is_connected("agent:dead-process")
    await wait_disconnected(liveness, "agent:dead-process")
    assert await liveness.connected_keys(["agent:dead-process", "agent:alive"]) == {"agent:alive"}


async def test_heartbeat_refresh_extends_the_time_to_live(liveness: Liveness) -> None:
    await liveness.connected("agent:1", conn_id="c1", ttl_s=0.2)
    await liveness.connected("agent:1", conn_id="c1", ttl_s=30)  # the heartbeat
    await liveness.connected("agent:2", conn_id="c2", ttl_s=0.2)  # control: no heartbeat
    await wait_disconnected(liveness, "agent:2")
    assert await liveness.is_connected("agent:1")


@pytest.mark.parametrize(
    ("key", "conn_id", "ttl_s"),
    [
        ("", "c1", 30.0),
        ("agent 1", "c1", 30.0),
        ("agent:1", "", 30.0),
        ("agent:1", "c1", 0.0),
        ("agent:1", "c1", -1.0),
        ("agent:1", "c1", float("inf")),
    ],
)
async def test_invalid_arguments_are_refused(
    liveness: Liveness, key: str, conn_id: str, ttl_s: float
) -> None:
    with pytest.raises(ValueError, match=r"key|conn_id|ttl_s"):
        await liveness.connected(key, conn_id=conn_id, ttl_s=ttl_s)


async def test_memory_liveness_expires_on_its_clock() -> None:
    now = [100.0]
    liveness = MemoryLiveness(clock=lambda: now[0])
    await liveness.connected("agent:1", conn_id="c1", ttl_s=10)
    now[0] = 109.9
    assert await liveness.is_connected("agent:1")
    now[0] = 110.0
    assert not await liveness.is_connected("agent:1")


@pytest.mark.redis
async def test_redis_liveness_leaves_no_key_behind_a_dead_process(namespace: str) -> None:
    url = redis_url_or_skip()
    liveness = RedisLiveness(url, namespace=namespace)
    raw = Redis.from_url(url)
    try:
        await liveness.connected("agent:1", conn_id="c1", ttl_s=30)
        ttl_ms = await raw.pttl(f"{namespace}:live:agent:1")
        assert 0 < ttl_ms <= 30_000  # the set expires by itself with its last member
    finally:
        await raw.delete(f"{namespace}:live:agent:1")
        await raw.aclose()
        await liveness.close()


async def test_redis_liveness_queries_raise_and_writes_do_not_when_redis_is_down() -> None:
    liveness = RedisLiveness("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        await liveness.connected("agent:1", conn_id="c1", ttl_s=30)
        await liveness.disconnected("agent:1", conn_id="c1")
        assert liveness.write_failures == 2
        with pytest.raises(LivenessUnavailableError, match="unreachable"):
            await liveness.is_connected("agent:1")
    finally:
        await liveness.close()

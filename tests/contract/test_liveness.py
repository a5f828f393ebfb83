"""One contract suite for socket liveness, in memory and on Redis (spec: docs/broker.md)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chatdesk.broker import Liveness, LivenessUnavailableError, MemoryLiveness, RedisLiveness
from chatdesk.broker.liveness import KEYS_PER_CALL
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


# Several tabs of one visitor, an agent, and an exact repeat (harmless).
ENTRIES = [
    ("visitor:v1", "tab-a"),
    ("visitor:v1", "tab-b"),
    ("agent:7", "console"),
    ("visitor:v2", "tab-c"),
    ("visitor:v1", "tab-a"),
]


async def test_batched_registration_equals_single_registrations(liveness: Liveness) -> None:
    single = [(f"single-{key}", conn_id) for key, conn_id in ENTRIES]
    batched = [(f"batched-{key}", conn_id) for key, conn_id in ENTRIES]
    for key, conn_id in single:
        await liveness.connected(key, conn_id=conn_id, ttl_s=30)
    await liveness.connected_many(batched, ttl_s=30)
    for prefix, entries in (("single-", single), ("batched-", batched)):
        keys = [key for key, _ in entries] + [f"{prefix}visitor:never"]
        assert await liveness.connected_keys(keys) == {key for key, _ in entries}
        await liveness.disconnected(f"{prefix}visitor:v1", conn_id="tab-a")
        assert await liveness.is_connected(f"{prefix}visitor:v1")  # tab-b is still open
        await liveness.disconnected(f"{prefix}visitor:v1", conn_id="tab-b")
        assert not await liveness.is_connected(f"{prefix}visitor:v1")
    await liveness.connected_many([], ttl_s=30)  # nothing to refresh is fine


async def test_batched_registration_spans_several_script_calls(liveness: Liveness) -> None:
    count = 2 * KEYS_PER_CALL + 1
    entries = [(f"visitor:{n}", f"c{n}") for n in range(count)]
    # One key at both ends: its two connections land in different chunks.
    entries = [("agent:1", "first"), *entries, ("agent:1", "last")]
    await liveness.connected_many(entries, ttl_s=30)
    keys = [key for key, _ in entries]
    assert await liveness.connected_keys(keys) == set(keys)
    await liveness.disconnected("agent:1", conn_id="first")
    assert await liveness.is_connected("agent:1")
    await liveness.disconnected("agent:1", conn_id="last")
    assert not await liveness.is_connected("agent:1")


async def test_batched_registration_expires_without_a_heartbeat(liveness: Liveness) -> None:
    await liveness.connected_many(
        [("agent:dead-process", "c1"), ("visitor:dead-process", "c2")], ttl_s=0.2
    )
    await liveness.connected_many([("agent:alive", "c3")], ttl_s=30)
    keys = ["agent:dead-process", "visitor:dead-process", "agent:alive"]
    assert await liveness.connected_keys(keys) == set(keys)
    await wait_disconnected(liveness, "agent:dead-process")
    await wait_disconnected(liveness, "visitor:dead-process")
    assert await liveness.connected_keys(keys) == {"agent:alive"}


async def test_a_burst_of_concurrent_connects_and_closes_is_all_stored(
    liveness: Liveness,
) -> None:
    # Many visitors closing at once (a deploy, a network blip): none of it may be dropped.
    keys = [f"visitor:{n}" for n in range(500)]
    await asyncio.gather(*(liveness.connected(k, conn_id="c", ttl_s=30) for k in keys))
    assert await liveness.connected_keys(keys) == set(keys)
    await asyncio.gather(*(liveness.disconnected(k, conn_id="c") for k in keys))
    assert await liveness.connected_keys(keys) == set()
    if isinstance(liveness, RedisLiveness):
        assert liveness.write_failures == 0


async def test_batched_heartbeat_extends_the_time_to_live(liveness: Liveness) -> None:
    await liveness.connected("agent:1", conn_id="c1", ttl_s=0.2)  # on connect
    await liveness.connected("agent:2", conn_id="c2", ttl_s=0.2)  # control: no heartbeat
    await liveness.connected_many([("agent:1", "c1")], ttl_s=30)  # the heartbeat
    await wait_disconnected(liveness, "agent:2")
    assert await liveness.is_connected("agent:1")


async def test_batched_short_registration_keeps_a_longer_lived_connection(
    liveness: Liveness,
) -> None:
    await liveness.connected("agent:1", conn_id="long", ttl_s=30)
    # Same call, same expiry: once the control key is gone, "short" is expired too.
    await liveness.connected_many([("agent:1", "short"), ("agent:2", "control")], ttl_s=0.2)
    await wait_disconnected(liveness, "agent:2")
    assert await liveness.is_connected("agent:1")  # the key's life follows its longest member
    await liveness.disconnected("agent:1", conn_id="long")
    assert not await liveness.is_connected("agent:1")


INVALID_ARGUMENTS = [
    ("", "c1", 30.0),
    ("agent 1", "c1", 30.0),
    ("agent:1", "", 30.0),
    ("agent:1", "c1", 0.0),
    ("agent:1", "c1", -1.0),
    ("agent:1", "c1", float("inf")),
]


@pytest.mark.parametrize(("key", "conn_id", "ttl_s"), INVALID_ARGUMENTS)
async def test_invalid_arguments_are_refused(
    liveness: Liveness, key: str, conn_id: str, ttl_s: float
) -> None:
    with pytest.raises(ValueError, match=r"key|conn_id|ttl_s"):
        await liveness.connected(key, conn_id=conn_id, ttl_s=ttl_s)


@pytest.mark.parametrize(("key", "conn_id", "ttl_s"), INVALID_ARGUMENTS)
async def test_invalid_batched_arguments_are_refused_and_store_nothing(
    liveness: Liveness, key: str, conn_id: str, ttl_s: float
) -> None:
    with pytest.raises(ValueError, match=r"key|conn_id|ttl_s"):
        await liveness.connected_many([("agent:valid", "c0"), (key, conn_id)], ttl_s=ttl_s)
    assert not await liveness.is_connected("agent:valid")


async def test_memory_liveness_expires_on_its_clock() -> None:
    now = [100.0]
    liveness = MemoryLiveness(clock=lambda: now[0])
    await liveness.connected("agent:1", conn_id="c1", ttl_s=10)
    now[0] = 109.9
    assert await liveness.is_connected("agent:1")
    now[0] = 110.0
    assert not await liveness.is_connected("agent:1")


async def test_memory_liveness_batched_refresh_expires_on_its_clock() -> None:
    now = [100.0]
    liveness = MemoryLiveness(clock=lambda: now[0])
    await liveness.connected("agent:1", conn_id="c1", ttl_s=5)
    await liveness.connected_many([("agent:1", "c1"), ("visitor:v", "c2")], ttl_s=10)
    now[0] = 109.9
    assert await liveness.connected_keys(["agent:1", "visitor:v"]) == {"agent:1", "visitor:v"}
    now[0] = 110.0
    assert await liveness.connected_keys(["agent:1", "visitor:v"]) == set()


@pytest.mark.redis
async def test_redis_batched_refresh_stores_what_single_calls_store(namespace: str) -> None:
    url = redis_url_or_skip()
    single = RedisLiveness(url, namespace=f"{namespace}-single")
    batched = RedisLiveness(url, namespace=f"{namespace}-batched")
    raw = Redis.from_url(url)
    keys = sorted({key for key, _ in ENTRIES})
    try:
        for key, conn_id in ENTRIES:
            await single.connected(key, conn_id=conn_id, ttl_s=30)
        await batched.connected_many(ENTRIES, ttl_s=30)
        for store in ("single", "batched"):
            for key in keys:
                redis_key = f"{namespace}-{store}:live:{key}"
                pttl_ms = await raw.pttl(redis_key)
                seconds, micros = await raw.time()
                now_ms = seconds * 1000 + micros // 1000
                expected = {conn_id.encode() for k, conn_id in ENTRIES if k == key}
                assert set(await raw.zrange(redis_key, 0, -1)) == expected
                scores = [await raw.zscore(redis_key, member) for member in expected]
                left_ms = [score - now_ms for score in scores if score is not None]
                assert all(0 < left <= 30_000 for left in left_ms)  # expiry on the Redis clock
                assert max(left_ms) - 1 <= pttl_ms <= 30_000  # the set lives as its last member
    finally:
        await raw.delete(
            *(f"{namespace}-{store}:live:{key}" for store in ("single", "batched") for key in keys)
        )
        await raw.aclose()
        await single.close()
        await batched.close()


@pytest.mark.redis
async def test_redis_batched_refresh_prunes_expired_connections(namespace: str) -> None:
    url = redis_url_or_skip()
    liveness = RedisLiveness(url, namespace=namespace)
    raw = Redis.from_url(url)
    redis_key = f"{namespace}:live:agent:1"
    try:
        await liveness.connected_many([("agent:1", "old"), ("agent:2", "control")], ttl_s=0.2)
        await liveness.connected("agent:1", conn_id="long", ttl_s=30)  # keeps the set alive
        await wait_disconnected(liveness, "agent:2")  # so "old" (same expiry) is expired too
        assert await raw.zscore(redis_key, "old") is not None  # queries do not prune
        await liveness.connected_many([("agent:1", "new")], ttl_s=30)
        assert set(await raw.zrange(redis_key, 0, -1)) == {b"long", b"new"}
    finally:
        await raw.delete(redis_key)
        await raw.aclose()
        await liveness.close()


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


async def test_redis_batched_refresh_counts_every_lost_entry_and_does_not_raise() -> None:
    liveness = RedisLiveness("redis://127.0.0.1:1/0")  # nothing listens on port 1
    entries = [(f"visitor:{n}", f"c{n}") for n in range(KEYS_PER_CALL + 5)]
    try:
        await liveness.connected_many(entries, ttl_s=30)
        assert liveness.write_failures == len(entries)
        await liveness.connected_many([], ttl_s=30)
        assert liveness.write_failures == len(entries)
        with pytest.raises(ValueError, match="key"):  # a caller's mistake still says so
            await liveness.connected_many([("bad key", "c1")], ttl_s=30)
    finally:
        await liveness.close()

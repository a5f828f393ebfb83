"""One contract suite for every broker backend (spec: docs/broker.md).

Each test body runs against the in-process broker and, when ``CHATDESK_TEST_REDIS_URL`` is
set, against Redis. ``pair`` gives a publishing and a subscribing broker: two instances
(= two processes) on Redis, the same instance on the single-process memory backend. Every
Redis test uses its own channel namespace, so parallel runs never see each other.
"""

from __future__ import annotations

import asyncio
import math
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from chatdesk.broker import GAP_TOPIC, Broker, MemoryBroker, Notification, RedisBroker
from chatdesk.broker.base import Subscription

WAIT_S = 10.0  # hang protection only: every wait below normally ends in milliseconds

BrokerFactory = Callable[[], Awaitable[Broker]]


def redis_url_or_skip() -> str:
    """``CHATDESK_TEST_REDIS_URL``; skip with the reason when unset (fail under ``CI``)."""
    url = os.environ.get("CHATDESK_TEST_REDIS_URL")
    if url:
        return url
    reason = "CHATDESK_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide Redis")
    pytest.skip(reason)


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("redis", id="redis", marks=pytest.mark.redis),
    ]
)
async def make_broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerFactory]:
    """Start brokers of one backend (sharing one namespace) and close them afterwards."""
    backend: str = request.param
    url = redis_url_or_skip() if backend == "redis" else None
    namespace = f"chatdesk-test-{uuid.uuid4().hex}"
    brokers: list[Broker] = []

    async def make() -> Broker:
        broker: Broker
        if backend == "memory":
            broker = MemoryBroker()
        else:
            assert url is not None
            broker = RedisBroker(url, namespace=namespace)
        brokers.append(broker)
        await broker.start()
        assert broker.healthy, f"{backend} broker did not become healthy"
        return broker

    yield make
    for broker in brokers:
        await broker.close()


@pytest.fixture
async def pair(make_broker: BrokerFactory) -> tuple[Broker, Broker]:
    """(publisher, subscriber): two processes on Redis, one process in memory."""
    publisher = await make_broker()
    subscriber = publisher if isinstance(publisher, MemoryBroker) else await make_broker()
    return publisher, subscriber


async def receive(sub: Subscription) -> Notification:
    async with asyncio.timeout(WAIT_S):
        return await anext(aiter(sub))


async def receive_until(sub: Subscription, last: dict[str, Any]) -> list[Notification]:
    """Everything ``sub`` yields up to and including the notification with payload ``last``."""
    notes: list[Notification] = []
    async with asyncio.timeout(WAIT_S):
        async for note in sub:
            notes.append(note)
            if note.payload == last:
                return notes
    raise AssertionError(f"subscription ended before {last!r}; got {notes!r}")


async def test_every_subscription_of_a_topic_receives_each_notification(
    pair: tuple[Broker, Broker],
) -> None:
    publisher, subscriber = pair
    async with (
        subscriber.subscribe("conv.1") as first,
        subscriber.subscribe("conv.1", "agent.7") as second,
        publisher.subscribe("conv.1") as in_publishing_process,
    ):
        await publisher.publish("conv.1", {"seq": 1})
        for sub in (first, second, in_publishing_process):
            assert await receive(sub) == Notification("conv.1", {"seq": 1})


async def test_notifications_on_one_topic_arrive_in_publish_order(
    pair: tuple[Broker, Broker],
) -> None:
    publisher, subscriber = pair
    count = 500
    async with subscriber.subscribe("conv.order", max_queue=count) as sub:
        for seq in range(count):
            await publisher.publish("conv.order", {"seq": seq})
        notes = await receive_until(sub, {"seq": count - 1})
    assert [note.payload["seq"] for note in notes] == list(range(count))


async def test_subscription_receives_only_its_topics(pair: tuple[Broker, Broker]) -> None:
    publisher, subscriber = pair
    async with subscriber.subscribe("conv.mine") as sub:
        await publisher.publish("conv.other", {"seq": 1})
        await publisher.publish("conv.mine", {"seq": 2})
        # One publisher's notifications travel in order, so "conv.other" would come first.
        assert await receive(sub) == Notification("conv.mine", {"seq": 2})


async def test_nothing_is_delivered_after_unsubscribe(pair: tuple[Broker, Broker]) -> None:
    publisher, subscriber = pair
    async with subscriber.subscribe("conv.left") as left:
        pass
    assert [note async for note in left] == []  # iteration ends once the block exits

    async with subscriber.subscribe("conv.barrier") as barrier:
        await publisher.publish("conv.left", {"seq": 1})  # nobody subscribed: lost for good
        await publisher.publish("conv.barrier", {"seq": 2})
        assert (await receive(barrier)).payload == {"seq": 2}
    async with subscriber.subscribe("conv.left") as again:
        await publisher.publish("conv.left", {"seq": 3})
        assert await receive(again) == Notification("conv.left", {"seq": 3})


async def test_one_subscription_leaving_does_not_affect_another_on_the_same_topic(
    pair: tuple[Broker, Broker],
) -> None:
    publisher, subscriber = pair
    async with subscriber.subscribe("conv.shared") as staying:
        async with subscriber.subscribe("conv.shared"):
            pass
        await publisher.publish("conv.shared", {"seq": 1})
        assert await receive(staying) == Notification("conv.shared", {"seq": 1})


async def test_full_subscription_gets_a_gap_marker_and_gap_callbacks_run(
    pair: tuple[Broker, Broker],
) -> None:
    publisher, subscriber = pair
    gap = asyncio.Event()
    calls: list[str] = []

    async def failing_callback() -> None:
        calls.append("failing")
        raise RuntimeError("a broken gap callback must not stop the others")

    async def catch_up() -> None:
        calls.append("catch_up")
        gap.set()

    subscriber.on_gap(failing_callback)
    subscriber.on_gap(catch_up)
    async with subscriber.subscribe("conv.slow", max_queue=4) as sub:
        for seq in range(1, 11):  # nobody reads: the queue overflows
            await publisher.publish("conv.slow", {"seq": seq})
        async with asyncio.timeout(WAIT_S):
            await gap.wait()
        notes = await receive_until(sub, {"seq": 10})
    assert notes[0].is_gap
    assert notes[0].topic == GAP_TOPIC
    assert notes[0].payload["reason"] == "overflow"
    assert notes[0].payload["dropped"] >= 1
    assert sub.dropped >= 5  # 10 published into a queue of 4 that nobody read
    seqs = [note.payload["seq"] for note in notes if not note.is_gap]
    assert seqs == sorted(seqs)
    assert calls[:2] == ["failing", "catch_up"]


async def test_publish_returns_although_a_subscriber_never_reads(
    make_broker: BrokerFactory,
) -> None:
    broker = await make_broker()
    async with broker.subscribe("conv.stuck", max_queue=8) as stuck:
        async with asyncio.timeout(WAIT_S):
            for seq in range(2_000):
                await broker.publish("conv.stuck", {"seq": seq})
        assert stuck.dropped > 0
        notes = await receive_until(stuck, {"seq": 1_999})
    assert len(notes) <= 8  # memory stays bounded by max_queue


async def test_payload_reaches_subscribers_as_an_independent_copy(
    pair: tuple[Broker, Broker],
) -> None:
    publisher, subscriber = pair
    payload: dict[str, Any] = {"conversation_id": "c1", "seq": 3, "tags": ["a"], "ok": None}
    async with subscriber.subscribe("conv.c1") as sub:
        await publisher.publish("conv.c1", payload)
        payload["tags"].append("changed after publish")
        note = await receive(sub)
    assert note.payload == {"conversation_id": "c1", "seq": 3, "tags": ["a"], "ok": None}


async def test_closing_the_broker_ends_every_subscription(make_broker: BrokerFactory) -> None:
    broker = await make_broker()
    async with broker.subscribe("conv.closing") as sub:
        await broker.close()
        async with asyncio.timeout(WAIT_S):
            assert [note async for note in sub] == []
    assert not broker.healthy
    await broker.publish("conv.closing", {"seq": 1})  # shutdown stragglers are ignored
    await broker.close()  # idempotent


@pytest.mark.parametrize("topic", ["", " conv.1", "conv 1", "conv/1", GAP_TOPIC, "x" * 201])
async def test_invalid_topics_are_refused(make_broker: BrokerFactory, topic: str) -> None:
    broker = await make_broker()
    with pytest.raises(ValueError, match="invalid topic"):
        await broker.publish(topic, {})
    with pytest.raises(ValueError, match="invalid topic"):
        async with broker.subscribe("conv.ok", topic):
            pass


@pytest.mark.parametrize(
    "payload", [{"ids": {1, 2}}, {"score": math.nan}, {"when": object()}, ["not", "a", "dict"]]
)
async def test_payloads_that_are_not_json_objects_are_refused(
    make_broker: BrokerFactory, payload: Any
) -> None:
    broker = await make_broker()
    with pytest.raises(ValueError, match=r"payload for topic 'conv\.1'"):
        await broker.publish("conv.1", payload)


async def test_subscribe_needs_a_topic_and_a_positive_queue_bound(
    make_broker: BrokerFactory,
) -> None:
    broker = await make_broker()
    with pytest.raises(ValueError, match="at least one topic"):
        async with broker.subscribe():
            pass
    with pytest.raises(ValueError, match="max_queue"):
        async with broker.subscribe("conv.1", max_queue=0):
            pass


async def test_memory_broker_is_single_process() -> None:
    """Documented limitation: two in-process brokers (= two processes) share nothing."""
    one, other = MemoryBroker(), MemoryBroker()
    await one.start()
    await other.start()
    try:
        async with other.subscribe("conv.1") as elsewhere, one.subscribe("conv.1") as here:
            await one.publish("conv.1", {"seq": 1})
            assert await receive(here) == Notification("conv.1", {"seq": 1})
            await other.close()
            assert [note async for note in elsewhere] == []
    finally:
        await one.close()
        await other.close()

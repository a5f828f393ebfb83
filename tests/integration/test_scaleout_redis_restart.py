"""Redis is SIGKILLed and restarted empty under a live cross-process chat: nothing is lost.

A PRIVATE ``redis-server`` (free port, no persistence) serves two ``chatdesk serve``
processes: a visitor on A chats with an agent on B, both sending all the time. While Redis
is down each side's messages are still stored and acknowledged by its own process (the
database is the authority); when Redis is back, both processes reconnect by themselves,
catch their sockets up from the database and live delivery resumes. Measured and printed
(not asserted): seconds from "Redis ready again" to the first message sent after the
restart arriving live on the other process, and to the outage's messages being caught up.

The presence grace is shorter than a heartbeat here on purpose: Redis comes back without
the liveness keys, so unless the processes re-register their sockets at once (on the
broker's gap) and the presence sweep forgives an agent who reappears, the agent's chat
would be requeued although nobody left.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from chatdesk.storage import tables as t
from tests.conftest import require_service
from tests.integration.flows import database
from tests.support.clients import new_client_id
from tests.support.cluster import AcceptingConsole, ChatVisitor, Cluster, start_cluster
from tests.support.redis_server import PrivateRedis
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WAIT_S = 30  # hang protection
OUTAGE_S = 1.0  # how long Redis stays down
SEND_EVERY_S = 0.1


@pytest.fixture
async def two_processes(tmp_path: Path, private_redis: PrivateRedis) -> AsyncIterator[Cluster]:
    async with start_cluster(
        admin_database_url=require_service("CHATDESK_TEST_DATABASE_URL"),
        redis_url=private_redis.url,
        tmp_path=tmp_path,
        processes=2,
        rate_limits="off",
        heartbeat_s="20",
        presence_grace_s="3",
    ) as cluster:
        yield cluster


async def test_live_delivery_resumes_by_itself_after_redis_restarts_and_nothing_is_lost(
    two_processes: Cluster, private_redis: PrivateRedis
) -> None:
    cluster = two_processes
    a, b = cluster.processes
    agent_id = await cluster.create_agent("agent@x.test", name="Agent")
    console = AcceptingConsole(agent_id, await cluster.login("agent@x.test"))
    guest = ChatVisitor()
    try:
        await console.connect(b.ws_url)
        await guest.connect(a.ws_url)
        await guest.send({"type": "handoff"})
        await eventually(
            lambda: bool(console.assigned), what="the agent is assigned", timeout_s=WAIT_S
        )
        conversation_id = guest.conversation_id
        assert conversation_id is not None and conversation_id in console.assigned

        visitor_sent: dict[str, float] = {}  # message id -> monotonic time it was acked
        agent_sent: dict[str, float] = {}  # client_id -> monotonic time sent (agent side)
        stop = asyncio.Event()

        async def visitor_talks() -> None:
            while not stop.is_set():
                ack = await guest.say("from the visitor", new_client_id())
                visitor_sent[ack["id"]] = time.monotonic()
                await asyncio.sleep(SEND_EVERY_S)

        async def agent_talks() -> None:
            assert console.client is not None
            while not stop.is_set():
                client_id = new_client_id()
                agent_sent[client_id] = time.monotonic()
                await console.client.send(
                    {
                        "type": "message",
                        "conversation_id": conversation_id,
                        "client_id": client_id,
                        "text": "from the agent",
                    }
                )
                await asyncio.sleep(SEND_EVERY_S)

        talkers = [asyncio.create_task(visitor_talks()), asyncio.create_task(agent_talks())]
        await asyncio.sleep(1)
        await private_redis.kill()
        killed = time.monotonic()
        await asyncio.sleep(OUTAGE_S)
        await private_redis.start()
        ready = time.monotonic()
        acked_during_outage = set(visitor_sent)

        def live_after_restart() -> list[float]:
            return [
                console.arrivals[mid] - ready
                for mid, sent in visitor_sent.items()
                if sent > ready and mid in console.arrivals
            ]

        await eventually(
            lambda: bool(live_after_restart()),
            what="a message sent after the restart arrives live",
            timeout_s=WAIT_S,
        )
        live_s = min(live_after_restart())
        await eventually(
            lambda: acked_during_outage <= set(console.arrivals),
            what="the outage's messages are caught up",
            timeout_s=WAIT_S,
        )
        in_outage = [m for m in acked_during_outage if visitor_sent[m] > killed]
        caught_up_s = max(console.arrivals[m] for m in in_outage) - ready if in_outage else 0.0
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*talkers)

        # Every message the agent sent was acknowledged (possibly after the outage).
        await eventually(
            lambda: len(console.own_acks) == len(agent_sent),
            what="every agent message is acknowledged",
            timeout_s=WAIT_S,
        )
        # Everything acknowledged on either side reached the other side, once, in order.
        await eventually(
            lambda: set(visitor_sent) <= set(console.arrivals),
            what="every visitor message reaches the agent",
            timeout_s=WAIT_S,
        )
        await eventually(
            lambda: (
                console.own_acks
                <= {m.get("client_id") for m in guest.messages.values() if m["author"] == "agent"}
            ),
            what="every agent message reaches the visitor",
            timeout_s=WAIT_S,
        )
        assert guest.duplicates == 0 and console.duplicates == 0
        assert guest.seqs_are_complete()
        seen = console.seen[conversation_id]
        assert sorted(seen) == list(range(1, max(seen) + 1))
        assert console.errors == []

        async with database(cluster.database_url) as session:
            row = await session.get(t.Conversation, conversation_id)
            stored = set(
                (
                    await session.execute(
                        select(t.Message.id).where(t.Message.conversation_id == conversation_id)
                    )
                ).scalars()
            )
        assert row is not None and (row.state, row.agent_id) == ("assigned", agent_id)
        assert set(visitor_sent) <= stored
        kinds = [f["type"] for f in guest.frames]
        assert "queued" not in kinds[kinds.index("agent_joined") :]  # never requeued
        print(  # noqa: T201 - the measured recovery is the test's report
            f"\nredis restart under a 2-process chat (outage {OUTAGE_S:.0f} s): first live "
            f"cross-process delivery {live_s:.2f} s after Redis was ready, outage messages "
            f"caught up after {caught_up_s:.2f} s ({len(in_outage)} visitor messages acknowledged "
            f"during the outage); {len(visitor_sent)} visitor and "
            f"{len(console.own_acks)} agent messages acknowledged, none lost"
        )
    finally:
        await console.drop()
        with contextlib.suppress(Exception):
            await guest.drop()

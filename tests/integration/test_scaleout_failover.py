"""One of three processes is SIGKILLed mid-run: its people move on, nothing is lost.

Process A holds visitors chatting with agents, agents with pending offers, and visitors
sending messages at the moment it is killed (no shutdown, no goodbye). Its visitors
reconnect to B and its returning agent to C, resuming with ``after_seq``; the other agent
on A never comes back. Checked afterwards: every acknowledged message is stored once and
every client saw every seq exactly once; the pending offers of A's agents are offered
again (to the returning agent in its welcome, to others once the missing agent's liveness
lapsed and the presence grace passed: durable timers, run by the surviving processes);
the missing agent's chats are requeued and assigned to the agents on B and C.
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
from tests.integration.routing_invariants import check_events, load_events, load_limits
from tests.support.clients import new_client_id
from tests.support.cluster import AcceptingConsole, ChatVisitor, Cluster, start_cluster
from tests.support.waiting import QUERY_POLL_S, eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WAIT_S = 40  # hang protection per phase
MAX_CHATS = 4


@pytest.fixture
async def three_processes(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with start_cluster(
        admin_database_url=require_service("CHATDESK_TEST_DATABASE_URL"),
        redis_url=require_service("CHATDESK_TEST_REDIS_URL"),
        tmp_path=tmp_path,
        processes=3,
        rate_limits="off",
        heartbeat_s="1",  # liveness TTL 3 s: a dead process's sockets lapse quickly
        presence_grace_s="2",
        offer_timeout_s="60",  # offers move because their agent is gone, not by timeout
    ) as cluster:
        yield cluster


async def _states(database_url: str) -> dict[str, tuple[str, str | None, str | None]]:
    async with database(database_url) as session:
        rows = await session.execute(
            select(
                t.Conversation.id,
                t.Conversation.state,
                t.Conversation.agent_id,
                t.Conversation.offered_to,
            )
        )
        return {cid: (state, agent_id, offered) for cid, state, agent_id, offered in rows}


async def _stored_client_ids(database_url: str) -> list[str]:
    async with database(database_url) as session:
        rows = await session.execute(
            select(t.Message.client_id).where(t.Message.client_id.is_not(None))
        )
        return [client_id for (client_id,) in rows if client_id is not None]


async def test_a_killed_process_loses_nothing_and_its_offers_are_made_again(
    three_processes: Cluster,
) -> None:
    cluster = three_processes
    a, b, c = cluster.processes
    names = ("returning", "missing", "b", "c")
    consoles: dict[str, AcceptingConsole] = {}
    for name in names:
        agent_id = await cluster.create_agent(f"{name}@x.test", name=name, max_chats=MAX_CHATS)
        consoles[name] = AcceptingConsole(agent_id, await cluster.login(f"{name}@x.test"))
    visitors = [ChatVisitor() for _ in range(10)]
    acked: set[str] = set()
    try:
        # 1. Both agents on A take three chats each (visitors on A and B).
        await consoles["returning"].connect(a.ws_url)
        await consoles["missing"].connect(a.ws_url)
        for index, guest in enumerate(visitors[:6]):
            await guest.connect((a if index < 4 else b).ws_url)
            acked.add((await guest.say("hello", client_id := new_client_id()))["client_id"])
            assert client_id in acked
            await guest.send({"type": "handoff"})

        async def six_assigned() -> bool:
            states = await _states(cluster.database_url)
            return sum(s == "assigned" for s, _, _ in states.values()) == 6

        await eventually(
            six_assigned, what="six chats assigned", timeout_s=WAIT_S, poll_s=QUERY_POLL_S
        )

        # 2. They stop accepting: two more hand-offs stay offered to them (one free seat
        #    each), two more stay queued.
        for console in (consoles["returning"], consoles["missing"]):
            console.accepting = False
        for index, guest in enumerate(visitors[6:]):
            await guest.connect((a if index < 2 else c).ws_url)
            await guest.send({"type": "handoff"})

        async def two_offered() -> bool:
            states = await _states(cluster.database_url)
            return sum(s == "offered" for s, _, _ in states.values()) == 2

        await eventually(
            two_offered, what="two chats offered", timeout_s=WAIT_S, poll_s=QUERY_POLL_S
        )
        before_kill = await _states(cluster.database_url)
        pending_offers = {cid for cid, (s, _, _) in before_kill.items() if s == "offered"}
        missing_chats = {
            cid
            for cid, (s, agent_id, _) in before_kill.items()
            if s == "assigned" and agent_id == consoles["missing"].agent_id
        }

        # 3. Visitors keep talking while A is SIGKILLed.
        stop_talking = asyncio.Event()
        unacked: dict[ChatVisitor, str] = {}

        async def talk(guest: ChatVisitor) -> None:
            while not stop_talking.is_set():
                client_id = new_client_id()
                unacked[guest] = client_id
                try:
                    ack = await guest.say(f"message {client_id}", client_id)
                except (ConnectionError, TimeoutError):
                    return  # the process died under us: resume elsewhere
                acked.add(ack["client_id"])
                del unacked[guest]
                await asyncio.sleep(0.05)

        talkers = [asyncio.create_task(talk(g)) for g in visitors[:6]]
        await asyncio.sleep(1)
        killed_at = time.monotonic()
        a.kill()
        await asyncio.sleep(0.5)
        stop_talking.set()
        await asyncio.gather(*talkers)

        # 4. A's visitors resume on B (re-sending what was not acknowledged), the returning
        #    agent on C; the missing agent never comes back; B and C get an agent each.
        for guest in visitors:
            if guest.client is not None and guest.client.connection.close_code is not None:
                await guest.drop()
                await guest.connect(b.ws_url)
        for guest, client_id in unacked.items():
            acked.add((await guest.say(f"message {client_id}", client_id))["client_id"])
        await consoles["missing"].drop()
        await consoles["returning"].drop()
        consoles["returning"].accepting = True
        returned = await consoles["returning"].connect(c.ws_url)
        assert {conv["conversation_id"] for conv in returned["conversations"]} >= {
            cid
            for cid, (s, agent_id, _) in before_kill.items()
            if s == "assigned" and agent_id == consoles["returning"].agent_id
        }
        await consoles["b"].connect(b.ws_url)
        await consoles["c"].connect(c.ws_url)

        async def everyone_served() -> bool:
            states = await _states(cluster.database_url)
            return all(s == "assigned" for s, _, _ in states.values())

        await eventually(
            everyone_served,
            what="every chat assigned after the kill",
            timeout_s=WAIT_S,
            poll_s=QUERY_POLL_S,
        )
        recovered_s = time.monotonic() - killed_at
        after = await _states(cluster.database_url)
        assert not any(
            agent_id == consoles["missing"].agent_id for _, agent_id, _ in after.values()
        )

        # Re-offered after the kill: the pending offers and the missing agent's chats.
        async with database(cluster.database_url) as session:
            events = await load_events(session)
            limits = await load_limits(session)
        offers_per_conversation: dict[str, int] = {}
        for event in events:
            if event.type == "offered":
                offers_per_conversation[event.conversation_id] = (
                    offers_per_conversation.get(event.conversation_id, 0) + 1
                )
        moved_offers = {
            cid for cid in pending_offers if after[cid][1] != before_kill[cid][2]
        }  # offered to the missing agent, assigned to someone else in the end
        reoffered_in_welcome = pending_offers & set(consoles["returning"].offers)
        reoffered_after_expiry = {
            cid for cid in moved_offers if offers_per_conversation.get(cid, 0) >= 2
        }
        reoffered_chats = {cid for cid in missing_chats if offers_per_conversation[cid] >= 2}
        assert reoffered_in_welcome | reoffered_after_expiry == pending_offers
        assert reoffered_chats == missing_chats
        report = check_events(events, limits)
        assert report.violations == []

        # Nothing lost: every acknowledged message stored once; every client saw all seqs.
        stored = await _stored_client_ids(cluster.database_url)
        assert acked <= set(stored)
        assert len(stored) == len(set(stored))
        for guest in visitors:
            assert guest.duplicates == 0
            assert guest.seqs_are_complete(), sorted(guest.messages)
        for name in ("returning", "b", "c"):
            console = consoles[name]
            assert console.duplicates == 0
            for conversation_id in console.assigned:
                seen = console.seen[conversation_id]
                assert sorted(seen) == list(range(1, max(seen) + 1))
        print(  # noqa: T201 - the counts are the test's report
            f"\nSIGKILL of 1 of 3 processes: {len(acked)} acknowledged messages kept, "
            f"{len(pending_offers)} pending offers re-offered ({len(reoffered_in_welcome)} to "
            f"the returning agent, {len(reoffered_after_expiry)} to others), "
            f"{len(reoffered_chats)} chats of the missing agent requeued and re-offered, "
            f"all served {recovered_s:.1f} s after the kill"
        )
    finally:
        for console in consoles.values():
            await console.drop()
        for guest in visitors:
            with contextlib.suppress(Exception):
                await guest.drop()

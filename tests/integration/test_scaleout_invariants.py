"""Hundreds of concurrent hand-offs spread over three processes keep the routing invariants.

Three ``chatdesk serve`` subprocesses share one PostgreSQL database and Redis; visitors and
agents are spread over all three, so every process's router competes for the same queue.
The stored event log is replayed by ``routing_invariants.check_events``: never two agents on
one conversation, never an agent above ``max_chats``. More visitors than seats: the ones
left over stay queued (never forgotten) and are assigned as soon as seats free up.

The naive control runs a check-then-write assigner from three separate connection pools
(as three processes would) over the same schema, and the same replay must catch it
double-assigning and overfilling: the checker can fail.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatdesk.clock import new_id, utcnow
from chatdesk.storage import tables as t
from tests.conftest import _create_pg_database, _drop_pg_database, require_service
from tests.integration.flows import database
from tests.integration.routing_invariants import Report, check_events, load_events, load_limits
from tests.support.clients import WsClient, visitor
from tests.support.cluster import AcceptingConsole, Cluster, start_cluster
from tests.support.server import upgrade_database
from tests.support.waiting import QUERY_POLL_S, eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROCESSES = 3
AGENTS_PER_PROCESS = 4
MAX_CHATS = 5
SEATS = PROCESSES * AGENTS_PER_PROCESS * MAX_CHATS  # 60
VISITORS = 150  # 90 more than seats: they must wait, not be lost
CONNECT_CONCURRENCY = 25  # sockets opened at once: keeps the 2-core test machine responsive
WAIT_S = 90  # hang protection for each phase (a busy CI machine is slow)


@pytest.fixture
async def three_processes(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with start_cluster(
        admin_database_url=require_service("CHATDESK_TEST_DATABASE_URL"),
        redis_url=require_service("CHATDESK_TEST_REDIS_URL"),
        tmp_path=tmp_path,
        processes=PROCESSES,
        rate_limits="off",
        offer_timeout_s="120",  # no expiries: an agent with two would be set away mid-test
    ) as cluster:
        yield cluster


async def _conversation_states(database_url: str) -> dict[str, str]:
    async with database(database_url) as session:
        result = await session.execute(select(t.Conversation.id, t.Conversation.state))
        return dict(result.all())


async def _assigned_to(database_url: str) -> list[tuple[str, str]]:
    """(conversation, agent) of every stored ``assigned`` event."""
    async with database(database_url) as session:
        events = await load_events(session)
    return [(e.conversation_id, str(e.data["agent_id"])) for e in events if e.type == "assigned"]


async def _replay(database_url: str) -> tuple[Report, dict[str, int]]:
    async with database(database_url) as session:
        events = await load_events(session)
        limits = await load_limits(session)
    return check_events(events, limits), limits


@pytest.mark.timeout(240)  # hang protection: ~30 s on an idle 2-core machine
async def test_hundreds_of_handoffs_over_three_processes_keep_the_invariants(
    three_processes: Cluster,
) -> None:
    cluster = three_processes
    consoles: list[AcceptingConsole] = []
    for index in range(PROCESSES * AGENTS_PER_PROCESS):
        email = f"agent{index}@x.test"
        agent_id = await cluster.create_agent(email, name=f"Agent {index}", max_chats=MAX_CHATS)
        consoles.append(AcceptingConsole(agent_id, await cluster.login(email)))
    for index, console in enumerate(consoles):
        await console.connect(cluster.processes[index % PROCESSES].ws_url)

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    visitors: dict[str, WsClient] = {}

    async def hand_off(index: int) -> None:
        async with gate:
            client, welcome = await visitor(cluster.processes[index % PROCESSES].ws_url)
            await client.send({"type": "handoff"})
            await client.expect("queued")
            visitors[welcome["conversation_id"]] = client

    try:
        await asyncio.gather(*(hand_off(i) for i in range(VISITORS)))
        wanted = set(visitors)

        async def seats_full() -> bool:
            states = await _conversation_states(cluster.database_url)
            return sum(states[c] == "assigned" for c in wanted) == SEATS

        await eventually(seats_full, what="every seat taken", timeout_s=WAIT_S, poll_s=QUERY_POLL_S)
        await asyncio.sleep(2)  # routing passes keep running: nothing more may be assigned
        states = await _conversation_states(cluster.database_url)
        assert sum(states[c] == "assigned" for c in wanted) == SEATS
        assert {states[c] for c in wanted if states[c] != "assigned"} == {"queued"}
        report, _ = await _replay(cluster.database_url)
        assert report.violations == []
        assert max(report.max_load.values()) == MAX_CHATS

        # Churn on every process: agents close each chat as soon as they get it, so seats
        # free up while offers are made; every waiting visitor is served, none forgotten.
        for console in consoles:
            await console.start_closing()

        async def all_served() -> bool:
            states = await _conversation_states(cluster.database_url)
            return all(states[c] == "closed" for c in wanted)

        await eventually(
            all_served, what="every visitor served", timeout_s=WAIT_S, poll_s=QUERY_POLL_S
        )
        report, limits = await _replay(cluster.database_url)
        assert report.violations == []
        assert report.assigned_conversations == wanted
        assert report.assignments == VISITORS  # each conversation assigned exactly once
        assert all(report.max_load[a] <= limits[a] for a in report.max_load)
        # What the consoles were told matches the database: each chat reached one agent once.
        told = [(c, console.agent_id) for console in consoles for c in console.assigned_frames]
        assert sorted(told) == sorted(await _assigned_to(cluster.database_url))
        assert {c for c, _ in told} == wanted and len(told) == VISITORS
        print(  # noqa: T201 - the run's size is part of the report
            f"\nscale-out invariants: {VISITORS} hand-offs over {PROCESSES} processes, "
            f"{len(consoles)} agents, {report.offers} offers, {report.assignments} "
            f"assignments, violations: {len(report.violations)}"
        )
    finally:
        for console in consoles:
            await console.drop()
        await asyncio.gather(*(c.close() for c in visitors.values()), return_exceptions=True)


# -- the naive control -----------------------------------------------------------------------

NAIVE_PROCESSES = 3
NAIVE_AGENTS = 4
NAIVE_MAX_CHATS = 3
NAIVE_CONVERSATIONS = 30


async def _seed_queue(database_url: str) -> None:
    """Agents (online) and queued conversations, written straight to the database."""
    now = utcnow()
    async with database(database_url) as session, session.begin():
        for index in range(NAIVE_AGENTS):
            session.add(
                t.Agent(
                    id=new_id(),
                    email=f"naive{index}@x.test",
                    name=f"Naive {index}",
                    password_hash="-",
                    languages="en",
                    max_chats=NAIVE_MAX_CHATS,
                    status="online",
                    created_at=now,
                )
            )
        visitor_ids = [new_id() for _ in range(NAIVE_CONVERSATIONS)]
        session.add_all(
            t.Visitor(id=visitor_id, created_at=now, last_seen_at=now) for visitor_id in visitor_ids
        )
        await session.flush()  # visitors before the conversations that reference them
        for index, visitor_id in enumerate(visitor_ids):
            session.add(
                t.Conversation(
                    id=new_id(),
                    visitor_id=visitor_id,
                    state="queued",
                    lang="en",
                    queued_at=now + timedelta(milliseconds=index),
                    last_activity_at=now,
                    created_at=now,
                )
            )


async def _naive_assigner(
    database_url: str, *, seed: int, everyone_has_read: asyncio.Barrier
) -> None:
    """Check (read the queue and the loads), then write without a lock or a condition.

    Each "process" walks the queue in its own order (``seed``), as processes that each
    route their own visitors first would; all of them read before any writes.
    """
    async with database(database_url) as session:
        queue = list(
            (
                await session.execute(
                    select(t.Conversation.id).where(t.Conversation.state == "queued")
                )
            ).scalars()
        )
        agents = list((await session.execute(select(t.Agent.id))).scalars())
        loads = dict(
            (
                await session.execute(
                    select(t.Conversation.agent_id, func.count())
                    .where(t.Conversation.state == "assigned")
                    .group_by(t.Conversation.agent_id)
                )
            ).all()
        )
        await session.rollback()
        random.Random(seed).shuffle(queue)
        free = {a: NAIVE_MAX_CHATS - loads.get(a, 0) for a in agents}
        plan: list[tuple[str, str]] = []
        for conversation_id in queue:
            agent_id = max(free, key=lambda a: free[a])
            if free[agent_id] > 0:
                free[agent_id] -= 1
                plan.append((conversation_id, agent_id))
        await everyone_has_read.wait()  # the interleaving processes produce under load
        async with session.begin():
            for conversation_id, agent_id in sorted(plan):  # one lock order: no deadlock
                row = await session.get(t.Conversation, conversation_id)
                assert row is not None
                row.state, row.agent_id = "assigned", agent_id
                session.add(
                    t.ConversationEvent(
                        conversation_id=conversation_id,
                        type="assigned",
                        actor="naive",
                        data={"from": "queued", "to": "assigned", "agent_id": agent_id},
                        created_at=utcnow(),
                    )
                )
                await session.flush()


async def test_naive_check_then_write_control_is_caught_by_the_same_checker() -> None:
    admin_url = require_service("CHATDESK_TEST_DATABASE_URL")
    database_url, name = await _create_pg_database(admin_url)
    try:
        await upgrade_database(database_url)
        await _seed_queue(database_url)
        barrier = asyncio.Barrier(NAIVE_PROCESSES)
        await asyncio.gather(
            *(
                _naive_assigner(database_url, seed=seed, everyone_has_read=barrier)
                for seed in range(NAIVE_PROCESSES)
            )
        )
        report, _ = await _replay(database_url)
        assert any("assigned to" in v and "while assigned" in v for v in report.violations)
        assert any("> max_chats" in v for v in report.violations)
        print(  # noqa: T201
            f"\nnaive control: {len(report.violations)} violations found by the checker"
        )
    finally:
        await _drop_pg_database(admin_url, name)

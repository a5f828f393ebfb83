"""A visitor on process A and an agent on process B chat as if they shared one process.

Two real ``chatdesk serve`` subprocesses on different ports share a fresh PostgreSQL
database and Redis. Nothing but the database and the broker connects them: the hand-off,
messages both ways, typing indicators, the widget's "we're online" and the presence grace
(an agent who leaves B gets their chat requeued, then offered again on A) all cross the
process boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.support.clients import agent, new_client_id, say, visitor
from tests.support.cluster import Cluster, start_cluster

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def two_processes(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with start_cluster(
        admin_database_url=require_service("CHATDESK_TEST_DATABASE_URL"),
        redis_url=require_service("CHATDESK_TEST_REDIS_URL"),
        tmp_path=tmp_path,
        processes=2,
        heartbeat_s="1",
        presence_grace_s="1",
        rate_limits="off",
    ) as cluster:
        yield cluster


async def test_visitor_on_one_process_chats_with_agent_on_another(
    two_processes: Cluster,
) -> None:
    a, b = two_processes.processes
    await two_processes.create_agent("alice@x.test", name="Alice")
    token = await two_processes.login("alice@x.test", via=1)

    early, early_welcome = await visitor(a.ws_url)
    assert early_welcome["online"] is False  # nobody is accepting chats anywhere yet
    await early.close()

    console, _ = await agent(b.ws_url, token)
    await console.send({"type": "status", "status": "online"})
    await console.expect("status", lambda f: f["status"] == "online")

    client, welcome = await visitor(a.ws_url)
    assert welcome["online"] is True  # the agent's socket on B is seen from A
    conversation_id = welcome["conversation_id"]
    first = await say(client, "I need help with my order")
    await client.send({"type": "handoff"})
    assert (await client.expect("queued"))["position"] == 1

    offer = await console.expect("offer")
    assert offer["conversation_id"] == conversation_id
    assert offer["preview"] == "I need help with my order"
    await console.send({"type": "accept", "conversation_id": conversation_id})
    assigned = await console.expect("assigned")
    assert first["id"] in [m["id"] for m in assigned["messages"]]
    assert (await client.expect("agent_joined"))["agent_name"] == "Alice"

    # Typing crosses the processes both ways.
    await client.send({"type": "typing", "on": True})
    typing = await console.expect("typing")
    assert (typing["author"], typing["on"], typing["conversation_id"]) == (
        "visitor",
        True,
        conversation_id,
    )
    await console.send({"type": "typing", "conversation_id": conversation_id, "on": True})
    typing = await client.expect("typing")
    assert (typing["author"], typing["on"]) == ("agent", True)

    # Messages both ways: each side gets the other's message once, with the stored seq.
    visitor_ack = await say(client, "where is parcel 1234?")
    got = await console.expect("message", lambda f: f["id"] == visitor_ack["id"])
    assert got["seq"] == visitor_ack["seq"]
    client_id = new_client_id()
    await console.send(
        {
            "type": "message",
            "conversation_id": conversation_id,
            "client_id": client_id,
            "text": "It leaves today.",
        }
    )
    agent_ack = await console.expect("message", lambda f: f.get("client_id") == client_id)
    got = await client.expect("message", lambda f: f["author"] == "agent")
    assert (got["id"], got["seq"]) == (agent_ack["id"], visitor_ack["seq"] + 1)

    # Presence: Alice leaves B; past the grace her chat is requeued (seen on A), and when
    # she comes back on A it is offered to her again.
    await console.close()
    requeued = await client.expect("message", lambda f: f["seq"] > agent_ack["seq"])
    assert (requeued["author"], requeued["seq"]) == ("system", agent_ack["seq"] + 1)
    await client.expect("queued")

    console, welcome_back = await agent(a.ws_url, token)
    assert welcome_back["agent"]["status"] == "online"  # her chosen status lives in the DB
    offer = await console.expect("offer")
    assert offer["conversation_id"] == conversation_id
    await console.send({"type": "accept", "conversation_id": conversation_id})
    assigned = await console.expect("assigned")
    seqs = [m["seq"] for m in assigned["messages"]]
    assert seqs == list(range(1, seqs[-1] + 1))  # the whole history, no gaps
    assert agent_ack["id"] in [m["id"] for m in assigned["messages"]]
    await client.close()
    await console.close()

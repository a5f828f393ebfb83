"""Presence against the running server: a short disconnect keeps an agent's chats; past the
grace their conversations go to the front of the queue and the visitors are told (point 1)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from chatdesk.conversations.texts import system_text
from tests.integration.routing_helpers import (
    close_all,
    conversation_row,
    events,
    forget_unread,
    online_agent,
    waiting_visitor,
)
from tests.support.clients import agent, visitor
from tests.support.server import LiveServer


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    # A grace that a prompt reconnect stays well inside, yet short enough to wait out.
    return {**server_env, "presence_grace_s": 3}


async def test_reconnect_within_the_grace_keeps_the_agents_chats(live_server: LiveServer) -> None:
    console, agent_id = await online_agent(live_server, "a@x.test")
    client, conversation_id, _ = await waiting_visitor(live_server)
    await console.expect("offer")
    await console.send({"type": "accept", "conversation_id": conversation_id})
    await console.expect("assigned")
    await console.close()
    token = await live_server.login("a@x.test")
    console, welcome = await agent(live_server.ws_url, token)
    assert [c["id"] for c in welcome["conversations"]] == [conversation_id]
    row = await conversation_row(live_server, conversation_id)
    assert (row.state, row.agent_id) == ("assigned", agent_id)
    assert "requeued" not in [kind for kind, _ in await events(live_server, conversation_id)]
    await close_all(client, console)


async def test_agent_gone_past_the_grace_loses_chats_to_the_front_of_the_queue(
    live_server: LiveServer,
) -> None:
    leaver, leaver_id = await online_agent(live_server, "a@x.test", name="Ann", max_chats=1)
    stayer, stayer_id = await online_agent(live_server, "b@x.test", name="Bob", max_chats=1)
    consoles = {leaver_id: leaver, stayer_id: stayer}
    # Each agent takes one chat; which visitor goes to whom depends on the tie-break.
    first, first_id, _ = await waiting_visitor(live_server)
    second, second_id, _ = await waiting_visitor(live_server)
    for console in consoles.values():
        offer = await console.expect("offer")
        await console.send({"type": "accept", "conversation_id": offer["conversation_id"]})
        await console.expect("assigned")
    owned_by_leaver = (await conversation_row(live_server, first_id)).agent_id == leaver_id
    orphan_id, orphan = (first_id, first) if owned_by_leaver else (second_id, second)
    kept_id = second_id if owned_by_leaver else first_id
    # A visitor who waits before the agent leaves: normal priority.
    waiting, waiting_id, queued = await waiting_visitor(live_server)
    assert queued["position"] == 1
    forget_unread(waiting)
    await leaver.close()
    told = system_text("requeued", "en")
    await orphan.expect("message", lambda f: f["author"] == "system" and f["text"] == told)
    forget_unread(orphan)  # frames read before the notice predate the requeue
    requeued = await orphan.expect("queued")
    assert requeued["position"] == 1  # ahead of the visitor who was already waiting
    await waiting.expect("queued", lambda f: f["position"] == 2)
    # When Bob frees his seat, the orphaned conversation is offered before the older one.
    await stayer.send({"type": "close", "conversation_id": kept_id})
    offer = await stayer.expect("offer")
    assert offer["conversation_id"] == orphan_id
    row = await conversation_row(live_server, orphan_id)
    assert row.state == "offered" and row.agent_id is None
    assert (await conversation_row(live_server, waiting_id)).state == "queued"
    await close_all(first, second, waiting, stayer)


async def test_visitors_without_a_waiting_conversation_come_and_go_without_a_write(
    live_server: LiveServer,
) -> None:
    """A mass reconnect of bot-only visitors must not queue a write per visitor (SQLite has
    one write lock for the whole database). Waiting visitors' comings and goings are the
    other tests of this module."""
    runtime = live_server.runtime
    assert runtime is not None
    client, hello = await visitor(live_server.ws_url)
    await client.close()
    visitor_id = hello["visitor_id"]
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        is_write = statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
        if is_write and visitor_id in str(parameters):
            writes.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await runtime.router.visitor_connected(visitor_id)
        await runtime.router.visitor_disconnected(visitor_id)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert writes == []


async def test_a_mass_disconnect_is_a_few_queries_not_one_per_visitor(
    live_server: LiveServer,
) -> None:
    """Thousands of sockets closing at once (a deploy, a network blip) must not queue a
    query each behind the connection pool: simultaneous calls share batches. (Waiting
    visitors' comings and goings, batches of one, are the other tests of this module.)"""
    runtime = live_server.runtime
    assert runtime is not None
    visitors = [f"left-{n}" for n in range(300)]
    reads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM conversations" in statement and "visitor_id IN" in statement:
            reads.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await asyncio.gather(
            *(runtime.router.visitor_disconnected(v) for v in visitors),
            *(runtime.router.visitor_connected(v) for v in visitors),
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(reads) == 2  # one read for the 300 comings, one for the 300 goings

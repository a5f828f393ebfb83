"""Eligibility and choice against the running server: language (with the fallback after
``LANGUAGE_FALLBACK_S``), departments, fewest chats then longest since the last assignment,
and the oldest waiting conversation first (point 2)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.routing_helpers import (
    close_all,
    conversation_row,
    events,
    online_agent,
    waiting_visitor,
)
from tests.support.server import LiveServer

FALLBACK_S = 2


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    return {**server_env, "language_fallback_s": FALLBACK_S}


async def test_conversation_goes_to_an_agent_who_speaks_its_language(
    live_server: LiveServer,
) -> None:
    english, _ = await online_agent(live_server, "en@x.test", languages=["en"])
    czech, czech_id = await online_agent(live_server, "cs@x.test", languages=["cs"])
    client, conversation_id, _ = await waiting_visitor(live_server, lang="cs")
    offer = await czech.expect("offer")
    assert (offer["conversation_id"], offer["lang"]) == (conversation_id, "cs")
    await czech.send({"type": "accept", "conversation_id": conversation_id})
    await czech.expect("assigned")
    assert (await conversation_row(live_server, conversation_id)).agent_id == czech_id
    assert not [f for f in english.received if f["type"] == "offer"]
    await close_all(client, english, czech)


async def test_nobody_speaks_the_language_so_anyone_gets_it_after_the_fallback_delay(
    live_server: LiveServer,
) -> None:
    english, english_id = await online_agent(live_server, "en@x.test", languages=["en"])
    client, conversation_id, _ = await waiting_visitor(live_server, lang="pl")
    offer = await english.expect("offer")
    assert offer["conversation_id"] == conversation_id
    row = await conversation_row(live_server, conversation_id)
    assert row.offered_to == english_id and row.queued_at is not None
    engine_events = await events(live_server, conversation_id)
    assert [kind for kind, _ in engine_events] == ["handed_off", "offered"]
    # Not offered before the fallback opened: the offer's deadline minus the offer timeout
    # is when it was made.
    assert row.offer_expires_at is not None
    offered_at = row.offer_expires_at.timestamp() - live_server.settings.offer_timeout_s
    assert offered_at - row.queued_at.timestamp() >= FALLBACK_S
    await close_all(client, english)


async def test_department_conversation_goes_only_to_that_departments_agents(
    live_server: LiveServer,
) -> None:
    support, _ = await online_agent(live_server, "s@x.test", departments=["support"])
    sales, _ = await online_agent(live_server, "b@x.test", departments=["sales"])
    client, conversation_id, _ = await waiting_visitor(live_server, department="sales")
    offer = await sales.expect("offer")
    assert offer["conversation_id"] == conversation_id
    assert (await conversation_row(live_server, conversation_id)).department == "sales"
    assert not [f for f in support.received if f["type"] == "offer"]
    await close_all(client, support, sales)


async def test_fewest_chats_first_then_longest_since_last_assignment(
    live_server: LiveServer,
) -> None:
    first, first_id = await online_agent(live_server, "a@x.test", auto_accept=True)
    second, second_id = await online_agent(live_server, "b@x.test", auto_accept=True)
    owners = []
    clients = []
    for _ in range(4):
        client, conversation_id, _ = await waiting_visitor(live_server)
        clients.append(client)
        await client.expect("agent_joined")
        owners.append((await conversation_row(live_server, conversation_id)).agent_id)
    assert set(owners) == {first_id, second_id}
    # 1st: tie; 2nd: the other one (fewer chats); 3rd: equal load, so the one assigned
    # longest ago (the first owner); 4th: the other one again.
    assert owners[1] != owners[0]
    assert owners[2] == owners[0]
    assert owners[3] == owners[1]
    await close_all(*clients, first, second)


async def test_a_freed_seat_goes_to_the_oldest_waiting_conversation(
    live_server: LiveServer,
) -> None:
    console, _ = await online_agent(live_server, "a@x.test", max_chats=1, auto_accept=True)
    busy, busy_id, _ = await waiting_visitor(live_server)
    await console.expect("assigned", lambda f: f["conversation_id"] == busy_id)
    older, older_id, _ = await waiting_visitor(live_server)
    newer, newer_id, _ = await waiting_visitor(live_server)
    await console.send({"type": "close", "conversation_id": busy_id})
    assigned = await console.expect("assigned", lambda f: f["conversation_id"] != busy_id)
    assert assigned["conversation_id"] == older_id
    assert (await conversation_row(live_server, newer_id)).state == "queued"
    await close_all(busy, older, newer, console)

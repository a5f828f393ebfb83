"""Offers against the running server: decline, expiry, away after missed offers, auto-accept,
and the ``queued`` position/estimate frames (issue points 3 and 4; point 1 in part)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.routing_helpers import (
    agent_row,
    close_all,
    events,
    first_frame,
    online_agent,
    waiting_visitor,
)
from tests.support.server import LiveServer


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    # Offers expire within the test; still ample for the prompt answers the tests send.
    return {**server_env, "offer_timeout_s": 2}


def _offered_agents(history: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [data["agent_id"] for kind, data in history if kind == "offered"]


async def test_declined_offer_goes_to_the_other_agent_not_back_to_the_decliner(
    live_server: LiveServer,
) -> None:
    first, first_id = await online_agent(live_server, "a@x.test", name="Ann", max_chats=1)
    second, second_id = await online_agent(live_server, "b@x.test", name="Bob", max_chats=1)
    consoles = {first_id: first, second_id: second}
    client, conversation_id, _ = await waiting_visitor(live_server)
    decliner_id, _ = await first_frame(consoles, "offer", conversation_id)
    other_id = second_id if decliner_id == first_id else first_id
    await consoles[decliner_id].send({"type": "decline", "conversation_id": conversation_id})
    await consoles[other_id].expect("offer", lambda f: f["conversation_id"] == conversation_id)
    await consoles[other_id].send({"type": "accept", "conversation_id": conversation_id})
    assigned = await consoles[other_id].expect("assigned")
    assert assigned["conversation_id"] == conversation_id
    history = await events(live_server, conversation_id)
    assert _offered_agents(history) == [decliner_id, other_id]
    assert [kind for kind, _ in history].count("offer_declined") == 1
    await close_all(client, first, second)


async def test_unanswered_offer_is_revoked_and_offered_to_the_next_agent(
    live_server: LiveServer,
) -> None:
    first, first_id = await online_agent(live_server, "a@x.test", max_chats=1)
    second, second_id = await online_agent(live_server, "b@x.test", max_chats=1)
    consoles = {first_id: first, second_id: second}
    client, conversation_id, _ = await waiting_visitor(live_server)
    sleeper_id, _ = await first_frame(consoles, "offer", conversation_id)
    other_id = second_id if sleeper_id == first_id else first_id
    revoked = await consoles[sleeper_id].expect("offer_revoked")
    assert revoked == {
        "type": "offer_revoked",
        "conversation_id": conversation_id,
        "reason": "expired",
    }
    await consoles[other_id].expect("offer", lambda f: f["conversation_id"] == conversation_id)
    await consoles[other_id].send({"type": "accept", "conversation_id": conversation_id})
    await consoles[other_id].expect("assigned")
    # The sleeper answering late is told the offer expired, and nothing changes.
    await consoles[sleeper_id].send({"type": "accept", "conversation_id": conversation_id})
    error = await consoles[sleeper_id].expect("error")
    assert error["code"] == "offer_expired"
    history = await events(live_server, conversation_id)
    assert _offered_agents(history) == [sleeper_id, other_id]
    assert [kind for kind, _ in history].count("assigned") == 1
    await close_all(client, first, second)


async def test_two_expired_offers_in_a_row_set_the_agent_away_and_tell_them_why(
    live_server: LiveServer,
) -> None:
    console, agent_id = await online_agent(live_server, "a@x.test")
    client, conversation_id, _ = await waiting_visitor(live_server)
    for _ in range(2):  # the only agent: after the first expiry the offer comes back
        await console.expect("offer", lambda f: f["conversation_id"] == conversation_id)
        await console.expect("offer_revoked", lambda f: f["conversation_id"] == conversation_id)
    status = await console.expect("status", lambda f: f["status"] == "away")
    assert status["reason"] == "missed_offers"
    assert (await agent_row(live_server, agent_id)).status == "away"
    # Away means no more offers: the conversation waits in the queue.
    row_events = [kind for kind, _ in await events(live_server, conversation_id)]
    assert row_events.count("offered") == 2
    assert row_events[-1] == "offer_expired"
    await close_all(client, console)


async def test_auto_accept_agent_gets_the_conversation_without_an_offer(
    live_server: LiveServer,
) -> None:
    console, _ = await online_agent(live_server, "a@x.test", name="Ann", auto_accept=True)
    client, conversation_id, _ = await waiting_visitor(live_server)
    assigned = await console.expect("assigned")
    assert assigned["conversation_id"] == conversation_id
    joined = await client.expect("agent_joined")
    assert joined["agent_name"] == "Ann"
    assert not [f for f in console.received if f["type"] == "offer"]
    history = [kind for kind, _ in await events(live_server, conversation_id)]
    assert history == ["handed_off", "offered", "assigned"]
    await close_all(client, console)


async def test_queued_visitors_get_positions_and_estimates_that_follow_the_queue(
    live_server: LiveServer,
) -> None:
    """Fixed scenario: one agent with one seat, already busy, no closed chats yet (so the
    estimate uses the default five-minute handling time): 1st waits 300 s, 2nd 600 s; when
    the first leaves, the second moves up to position 1 and 300 s."""
    console, _ = await online_agent(live_server, "a@x.test", max_chats=1)
    busy, busy_id, queued = await waiting_visitor(live_server)
    assert queued["position"] == 1  # sent even though the agent is free at once
    await console.expect("offer")
    await console.send({"type": "accept", "conversation_id": busy_id})
    await console.expect("assigned")
    first, _, first_queued = await waiting_visitor(live_server)
    assert (first_queued["position"], first_queued["eta_seconds"]) == (1, 300)
    second, _, second_queued = await waiting_visitor(live_server)
    assert (second_queued["position"], second_queued["eta_seconds"]) == (2, 600)
    await first.send({"type": "close"})
    await first.expect("closed")
    moved = await second.expect("queued", lambda f: f["position"] == 1)
    assert moved["eta_seconds"] == 300
    await close_all(busy, first, second, console)

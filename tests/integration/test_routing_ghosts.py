"""No ghosts: a visitor who leaves while queued or offered is dequeued (the offer revoked)
after the grace, and idle conversations close with a system message (point 7)."""

from __future__ import annotations

from typing import Any

import pytest

from chatdesk.conversations.texts import system_text
from tests.integration.routing_helpers import (
    close_all,
    conversation_row,
    events,
    online_agent,
    waiting_visitor,
)
from tests.support.server import LiveServer


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    # Offers outlive the grace, so the visitor's departure (not the timeout) revokes them.
    return {**server_env, "presence_grace_s": 1, "offer_timeout_s": 30, "idle_close_s": 2}


async def test_visitor_gone_while_queued_is_dequeued_and_never_offered(
    live_server: LiveServer,
) -> None:
    # Online, but speaks no Polish, and the language fallback is far off: the Polish visitor
    # waits in the queue without being offered to anyone.
    console, _ = await online_agent(live_server, "a@x.test", languages=["en"])
    ghost, ghost_id, _ = await waiting_visitor(live_server, lang="pl")
    await ghost.close()
    # The sweep dequeues the ghost once the grace is over; the agent sees the queue shrink.
    while (await conversation_row(live_server, ghost_id)).state != "closed":
        await console.expect("queue")
    history = [kind for kind, _ in await events(live_server, ghost_id)]
    assert history == ["handed_off", "dequeued"]
    await console.close()


async def test_visitor_gone_while_offered_revokes_the_offer(live_server: LiveServer) -> None:
    console, _ = await online_agent(live_server, "a@x.test")
    client, conversation_id, _ = await waiting_visitor(live_server)
    await console.expect("offer")
    await client.close()
    revoked = await console.expect("offer_revoked")
    assert revoked == {
        "type": "offer_revoked",
        "conversation_id": conversation_id,
        "reason": "visitor_left",
    }
    assert (await conversation_row(live_server, conversation_id)).state == "closed"
    await console.send({"type": "accept", "conversation_id": conversation_id})
    assert (await console.expect("error"))["code"] == "offer_expired"
    await console.close()


async def test_idle_assigned_conversation_closes_with_a_system_message(
    live_server: LiveServer,
) -> None:
    console, _ = await online_agent(live_server, "a@x.test", auto_accept=True)
    client, conversation_id, _ = await waiting_visitor(live_server)
    await console.expect("assigned")
    idle_text = system_text("idle_closed", "en")
    await client.expect("message", lambda f: f["author"] == "system" and f["text"] == idle_text)
    await client.expect("closed")
    await console.expect("closed", lambda f: f["conversation_id"] == conversation_id)
    closed = [(kind, data) for kind, data in await events(live_server, conversation_id)]
    assert closed[-1][0] == "closed"
    assert (await conversation_row(live_server, conversation_id)).state == "closed"
    await close_all(client, console)

"""Transfer (to an agent or a department, with a private note), escalation (the bot's angry
visitor and the agent's ``escalate``: an online supervisor first, else the queue with
priority), supervisors' ``watch`` and ``takeover``, and ``handback`` to the bot (point 6)."""

from __future__ import annotations

from tests.integration.routing_helpers import (
    close_all,
    conversation_row,
    events,
    forget_unread,
    online_agent,
    waiting_visitor,
)
from tests.support.clients import WsClient, say, visitor
from tests.support.server import LiveServer


async def _served(server: LiveServer, console: WsClient, **hello: str) -> tuple[WsClient, str]:
    client, conversation_id, _ = await waiting_visitor(server, **hello)
    await console.expect("offer", lambda f: f["conversation_id"] == conversation_id)
    await console.send({"type": "accept", "conversation_id": conversation_id})
    await console.expect("assigned", lambda f: f["conversation_id"] == conversation_id)
    await client.expect("agent_joined")
    return client, conversation_id


async def test_transfer_to_an_agent_moves_the_chat_with_a_note_the_visitor_never_sees(
    live_server: LiveServer,
) -> None:
    ann, _ = await online_agent(live_server, "a@x.test", name="Ann")
    client, conversation_id = await _served(live_server, ann)
    bob, bob_id = await online_agent(live_server, "b@x.test", name="Bob", status="away")
    await ann.send(
        {
            "type": "transfer",
            "conversation_id": conversation_id,
            "to_agent_id": bob_id,
            "note": "wants a refund, order 1234",
        }
    )
    assigned = await bob.expect("assigned")
    notes = [m for m in assigned["messages"] if m["author"] == "note"]
    assert [n["text"] for n in notes] == ["wants a refund, order 1234"]
    joined = await client.expect("agent_joined", lambda f: f["agent_name"] == "Bob")
    assert joined["agent_name"] == "Bob"
    await ann.expect("transferred")
    row = await conversation_row(live_server, conversation_id)
    assert (row.state, row.agent_id) == ("assigned", bob_id)
    await say(client, "hello?")
    assert not [f for f in client.received if f.get("author") == "note"]
    await close_all(client, ann, bob)


async def test_transfer_to_a_department_requeues_for_that_departments_agents(
    live_server: LiveServer,
) -> None:
    ann, ann_id = await online_agent(live_server, "a@x.test", departments=["sales"])
    client, conversation_id = await _served(live_server, ann)
    billing, billing_id = await online_agent(live_server, "b@x.test", departments=["billing"])
    forget_unread(client)
    await ann.send(
        {"type": "transfer", "conversation_id": conversation_id, "to_department": "billing"}
    )
    offer = await billing.expect("offer")
    assert offer["conversation_id"] == conversation_id
    row = await conversation_row(live_server, conversation_id)
    assert (row.department, row.offered_to, row.agent_id) == ("billing", billing_id, None)
    assert ann_id in row.excluded_agents.split(",")
    await client.expect("queued")
    await close_all(client, ann, billing)


async def test_agent_escalation_goes_to_an_online_supervisor_first(
    live_server: LiveServer,
) -> None:
    ann, _ = await online_agent(live_server, "a@x.test", name="Ann")
    client, conversation_id = await _served(live_server, ann)
    boss, boss_id = await online_agent(live_server, "s@x.test", name="Sue", role="supervisor")
    await ann.send({"type": "escalate", "conversation_id": conversation_id})
    assigned = await boss.expect("assigned")
    assert assigned["conversation_id"] == conversation_id
    await client.expect("agent_joined", lambda f: f["agent_name"] == "Sue")
    assert (await conversation_row(live_server, conversation_id)).agent_id == boss_id
    await close_all(client, ann, boss)


async def test_agent_escalation_without_a_supervisor_queues_ahead_of_normal_visitors(
    live_server: LiveServer,
) -> None:
    ann, ann_id = await online_agent(live_server, "a@x.test", max_chats=1)
    client, conversation_id = await _served(live_server, ann)
    bob, _ = await online_agent(live_server, "b@x.test", max_chats=1)
    other, other_id = await _served(live_server, bob)
    waiting, waiting_id, _ = await waiting_visitor(live_server)  # older than the escalation
    # Ann escalates and steps away, so only the queue can serve the conversation.
    await ann.send({"type": "status", "status": "away"})
    await ann.expect("status", lambda f: f["status"] == "away")
    forget_unread(client)
    await ann.send({"type": "escalate", "conversation_id": conversation_id})
    await client.expect("queued")
    row = await conversation_row(live_server, conversation_id)
    assert row.escalated and row.priority > 0 and ann_id in row.excluded_agents.split(",")
    # Bob frees a seat: the escalated conversation is offered before the older normal one.
    await bob.send({"type": "close", "conversation_id": other_id})
    offer = await bob.expect("offer")
    assert offer["conversation_id"] == conversation_id and offer["escalated"] is True
    assert (await conversation_row(live_server, waiting_id)).state in ("queued", "offered")
    await close_all(client, other, waiting, ann, bob)


async def test_angry_visitor_is_offered_to_a_supervisor_before_other_agents(
    live_server: LiveServer,
) -> None:
    ann, _ = await online_agent(live_server, "a@x.test", name="Ann")
    boss, boss_id = await online_agent(live_server, "s@x.test", name="Sue", role="supervisor")
    angry, welcome = await visitor(live_server.ws_url, lang="en")
    angry_id = welcome["conversation_id"]
    await say(angry, "THIS IS THE THIRD TIME I WRITE, WHERE IS MY ORDER, THIS IS A JOKE!!!")
    offer = await boss.expect("offer", lambda f: f["conversation_id"] == angry_id)
    assert offer["escalated"] is True
    row = await conversation_row(live_server, angry_id)
    assert row.escalated and row.offered_to == boss_id
    handed = [data for kind, data in await events(live_server, angry_id) if kind == "handed_off"]
    assert handed == [{"from": "bot", "to": "queued", "escalated": True}]
    await close_all(angry, ann, boss)


async def test_supervisor_watches_then_takes_over_and_the_agent_is_told(
    live_server: LiveServer,
) -> None:
    ann, _ = await online_agent(live_server, "a@x.test", name="Ann")
    client, conversation_id = await _served(live_server, ann)
    boss, boss_id = await online_agent(live_server, "s@x.test", name="Sue", role="supervisor")
    await boss.send({"type": "watch", "conversation_id": conversation_id})
    watching = await boss.expect("watching")
    assert watching["state"] == "assigned"
    sent = await say(client, "is anyone there?")
    seen = await boss.expect("message", lambda f: f["id"] == sent["id"])
    assert seen["text"] == "is anyone there?"
    await boss.send({"type": "takeover", "conversation_id": conversation_id})
    await ann.expect("transferred")
    await client.expect("agent_joined", lambda f: f["agent_name"] == "Sue")
    row = await conversation_row(live_server, conversation_id)
    assert (row.state, row.agent_id) == ("assigned", boss_id)
    await close_all(client, ann, boss)


async def test_agent_cannot_watch_or_take_over(live_server: LiveServer) -> None:
    ann, _ = await online_agent(live_server, "a@x.test")
    client, conversation_id = await _served(live_server, ann)
    bob, _ = await online_agent(live_server, "b@x.test")
    for kind in ("watch", "takeover"):
        await bob.send({"type": kind, "conversation_id": conversation_id})
        error = await bob.expect("error")
        assert error["code"] == "forbidden"
    await close_all(client, ann, bob)


async def test_handback_returns_the_conversation_to_the_bot(live_server: LiveServer) -> None:
    ann, _ = await online_agent(live_server, "a@x.test")
    client, conversation_id = await _served(live_server, ann)
    await ann.send({"type": "handback", "conversation_id": conversation_id})
    await client.expect("message", lambda f: f["author"] == "system" and "assistant" in f["text"])
    row = await conversation_row(live_server, conversation_id)
    assert (row.state, row.agent_id) == ("bot", None)
    await say(client, "how much does shipping cost")
    bot = await client.expect("message", lambda f: f["author"] == "bot")
    assert bot["text"]
    await close_all(client, ann)

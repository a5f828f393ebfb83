"""The visitor's session (design: Tokens, Conversation lifecycle): the signed token resumes
visitor and conversation and grants nothing else; foreign origins are refused; typing,
``agent_joined``, closing seen by both sides, rating after close, a new conversation after
close; every transition stored as an event, illegal ones refused and never applied."""

from __future__ import annotations

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from chatdesk.conversations.model import Action
from chatdesk.errors import IllegalStateError
from tests.integration.flows import assigned_chat, conversation_row, events, stored_messages
from tests.support.clients import WsClient, say, visitor
from tests.support.server import LiveServer


async def test_token_resumes_visitor_and_conversation_after_reload(
    live_server: LiveServer,
) -> None:
    client, first = await visitor(live_server.ws_url)
    ack = await say(client, "where is my parcel")
    await client.close()
    again, welcome = await visitor(live_server.ws_url, token=first["token"])
    assert welcome["visitor_id"] == first["visitor_id"]
    assert welcome["conversation_id"] == first["conversation_id"]
    assert ack["id"] in [m["id"] for m in welcome["messages"]]
    assert welcome["token"]  # renewed on every welcome
    await again.close()


async def test_invalid_token_starts_a_new_visitor(live_server: LiveServer) -> None:
    client, first = await visitor(live_server.ws_url)
    await say(client, "hello")
    other, welcome = await visitor(live_server.ws_url, token=first["token"][:-4] + "AAAA")
    assert welcome["visitor_id"] != first["visitor_id"]
    assert welcome["conversation_id"] != first["conversation_id"]
    assert welcome["messages"] == []
    await client.close()
    await other.close()


async def test_another_visitors_conversation_id_gets_the_visitors_own(
    live_server: LiveServer,
) -> None:
    alice, alice_hello = await visitor(live_server.ws_url)
    secret = await say(alice, "my card number is 4111")
    bob, bob_hello = await visitor(live_server.ws_url)
    mine = await say(bob, "bob here")
    await bob.close()
    intruder, welcome = await visitor(
        live_server.ws_url,
        token=bob_hello["token"],
        conversation_id=alice_hello["conversation_id"],
        after_seq=0,
    )
    assert welcome["visitor_id"] == bob_hello["visitor_id"]
    assert welcome["conversation_id"] == bob_hello["conversation_id"]
    ids = [m["id"] for m in welcome["messages"]]
    assert mine["id"] in ids and secret["id"] not in ids
    # Alice keeps talking: nothing of hers reaches Bob's connection.
    await say(alice, "more secrets")
    marker = await say(intruder, "marker")
    assert all(
        frame.get("conversation_id") in (None, bob_hello["conversation_id"])
        for frame in intruder.received
    ), marker
    await alice.close()
    await intruder.close()


@pytest.mark.parametrize("path", ["/ws/visitor", "/ws/agent"])
async def test_foreign_origin_is_closed_with_1008(live_server: LiveServer, path: str) -> None:
    connection = await websockets.connect(
        f"{live_server.ws_url}{path}", additional_headers={"Origin": "https://evil.test"}
    )
    with pytest.raises(ConnectionClosed) as closed:
        await connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    # The server's own origin is allowed.
    own = await WsClient.connect(f"{live_server.ws_url}/ws/visitor", origin=live_server.origin)
    await own.send({"type": "hello", "token": None, "lang": "en", "page_url": None})
    assert (await own.expect("welcome"))["state"] == "bot"
    await own.close()


async def test_visitor_token_grants_no_agent_access(live_server: LiveServer) -> None:
    client, hello = await visitor(live_server.ws_url)
    console = await WsClient.connect(f"{live_server.ws_url}/ws/agent")
    await console.send({"type": "auth", "token": hello["token"]})
    error = await console.expect("error")
    assert error["code"] == "unauthorized"
    with pytest.raises(ConnectionClosed) as closed:
        await console.connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    await client.close()


async def test_typing_indicators_flow_both_ways_and_are_rate_limited(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    for _ in range(10):
        await chat.visitor.send({"type": "typing", "on": True})
    await chat.visitor.send({"type": "typing", "on": False})
    off = await chat.console.expect("typing", lambda f: f["on"] is False)
    assert off["conversation_id"] == cid and off["author"] == "visitor"
    ons = [f for f in chat.console.received if f["type"] == "typing" and f["on"]]
    assert 1 <= len(ons) < 10  # ten in a burst: most are dropped by the rate limit
    await chat.console.send({"type": "typing", "conversation_id": cid, "on": True})
    typing = await chat.visitor.expect("typing")
    assert (typing["author"], typing["on"]) == ("agent", True)
    await chat.visitor.close()
    await chat.console.close()


async def test_agent_joined_is_sent_and_stored_as_a_system_message(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    assert [f["agent_name"] for f in chat.visitor.received if f["type"] == "agent_joined"] == [
        "Alice"
    ]
    await chat.visitor.close()
    again, welcome = await visitor(live_server.ws_url, token=chat.token)
    assert welcome["state"] == "assigned" and welcome["agent_name"] == "Alice"
    assert any(m["author"] == "system" and "Alice" in m["text"] for m in welcome["messages"])
    await again.close()
    await chat.console.close()


@pytest.mark.parametrize("closer", ["visitor", "agent"])
async def test_close_by_either_side_is_seen_by_both(live_server: LiveServer, closer: str) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    if closer == "visitor":
        await chat.visitor.send({"type": "close"})
    else:
        await chat.console.send({"type": "close", "conversation_id": cid})
    assert (await chat.visitor.expect("closed"))["conversation_id"] == cid
    assert (await chat.console.expect("closed"))["conversation_id"] == cid
    system = await chat.visitor.expect("message", lambda f: f["author"] == "system")
    assert system["conversation_id"] == cid
    assert (await conversation_row(live_server.settings.database_url, cid)).state == "closed"
    await chat.visitor.close()
    await chat.console.close()


async def test_rating_after_close_and_next_message_starts_a_new_conversation(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    await chat.visitor.send({"type": "rating", "score": 5})
    refused = await chat.visitor.expect("error")
    assert refused["code"] == "illegal_state"  # not closed yet
    await chat.visitor.send({"type": "close"})
    await chat.visitor.expect("closed")
    await chat.visitor.send({"type": "rating", "score": 4, "comment": "quick, thanks"})
    ack = await say(chat.visitor, "one more question")
    assert ack["conversation_id"] != cid and ack["seq"] == 1
    row = await conversation_row(live_server.settings.database_url, cid)
    assert (row.rating, row.rating_comment) == (4, "quick, thanks")
    new = await conversation_row(live_server.settings.database_url, ack["conversation_id"])
    assert new.state == "bot" and new.visitor_id == chat.welcome["visitor_id"]
    await chat.visitor.close()
    again, welcome = await visitor(live_server.ws_url, token=chat.token)
    assert welcome["conversation_id"] == ack["conversation_id"]
    await again.close()
    await chat.console.close()


async def test_every_transition_is_stored_as_an_event(live_server: LiveServer) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    await chat.console.send({"type": "handback", "conversation_id": cid})
    await chat.visitor.expect("message", lambda f: f["author"] == "system" and f["seq"] > 1)
    await chat.visitor.send({"type": "close"})
    await chat.visitor.expect("closed")
    await chat.visitor.send({"type": "rating", "score": 3})
    await say(chat.visitor, "sync")  # the rating before it was processed in order
    assert await events(live_server.settings.database_url, cid) == [
        "handed_off",
        "offered",
        "assigned",
        "handed_back",
        "closed",
        "rated",
    ]
    await chat.visitor.close()
    await chat.console.close()


async def test_illegal_transition_is_refused_and_never_applied(live_server: LiveServer) -> None:
    assert live_server.runtime is not None
    service = live_server.runtime.conversations
    client, hello = await visitor(live_server.ws_url)
    cid = hello["conversation_id"]
    await say(client, "hi")
    # The bot's reply is stored after the acknowledgement: take "before" once it is there.
    await client.expect("message", lambda f: f["author"] == "bot")
    url = live_server.settings.database_url
    before = (await events(url, cid), await stored_messages(url, cid))
    for action in (Action.ACCEPT, Action.HANDBACK, Action.DECLINE, Action.TRANSFER):
        with pytest.raises(IllegalStateError):
            await service.apply(cid, action, actor="test", system=("closed", {}))
    after = (await events(url, cid), await stored_messages(url, cid))
    assert after[0] == before[0]
    assert [m.id for m in after[1]] == [m.id for m in before[1]]
    assert (await conversation_row(url, cid)).state == "bot"
    # Over the websocket the same refusal is an error frame with the stable code.
    await client.send({"type": "rating", "score": 5})
    assert (await client.expect("error"))["code"] == "illegal_state"
    await client.close()

"""Delivery (design, "Websocket protocol" / Delivery): stored with a gap-free seq before the
acknowledgement, commits shared by many messages, idempotent ``client_id``, exact resume with
``after_seq``, and every connection of every participant gets each message exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.integration.flows import (
    assigned_chat,
    check_integrity,
    database,
    has_client_id,
    messages_until,
    read_messages,
    stored_messages,
)
from tests.support.clients import WsClient, agent, new_client_id, say, visitor
from tests.support.server import LiveServer

CLIENTS = 4
BURST = 12


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    """Rate limits off: these tests send bursts on purpose."""
    return {**server_env, "rate_limits": "off"}


async def _burst(
    server: LiveServer, client: WsClient, conversation_id: str
) -> list[dict[str, Any]]:
    """Send BURST messages without waiting; on each acknowledgement the row is already
    committed (read back through a separate connection to the database)."""
    ids = [new_client_id() for _ in range(BURST)]
    for client_id in ids:
        await client.send({"type": "message", "client_id": client_id, "text": f"m {client_id}"})
    acks = []
    async with database(server.settings.database_url) as session:
        for client_id in ids:
            ack = await client.expect("message", has_client_id(client_id))
            rows = await read_messages(session, conversation_id)
            assert (ack["id"], ack["seq"]) in {(row.id, row.seq) for row in rows}
            acks.append(ack)
    return acks


async def test_burst_from_many_clients_is_stored_gap_free_in_shared_commits(
    live_server: LiveServer,
) -> None:
    assert live_server.runtime is not None
    writer = live_server.runtime.writer
    batches_before, messages_before = writer.batches, writer.messages
    sessions = [await visitor(live_server.ws_url) for _ in range(CLIENTS)]
    results = await asyncio.gather(
        *(_burst(live_server, client, hello["conversation_id"]) for client, hello in sessions)
    )
    for (_, hello), acks in zip(sessions, results, strict=True):
        seqs = [ack["seq"] for ack in acks]
        assert seqs == sorted(seqs) and len(set(seqs)) == BURST
        rows = await stored_messages(live_server.settings.database_url, hello["conversation_id"])
        visitor_rows = [row for row in rows if row.author == "visitor"]
        assert [row.id for row in visitor_rows] == [ack["id"] for ack in acks]
    # Many messages (visitors' and the bot's answers) shared a commit.
    assert writer.messages - messages_before > writer.batches - batches_before
    await check_integrity(live_server.settings.database_url)
    for client, _ in sessions:
        await client.close()


async def test_resent_client_id_is_stored_once(live_server: LiveServer) -> None:
    chat = await assigned_chat(live_server)
    await chat.visitor.send({"type": "message", "client_id": "dup-1", "text": "first"})
    await chat.visitor.send({"type": "message", "client_id": "dup-1", "text": "again"})
    first = await chat.visitor.expect("message", lambda f: f.get("client_id") == "dup-1")
    second = await chat.visitor.expect("message", lambda f: f.get("client_id") == "dup-1")
    assert (second["id"], second["seq"], second["text"]) == (first["id"], first["seq"], "first")
    # After a reload the outbox is flushed again: still the stored message.
    await chat.visitor.close()
    reloaded, _ = await visitor(live_server.ws_url, token=chat.token)
    third = await say(reloaded, "third time", client_id="dup-1")
    assert (third["id"], third["seq"]) == (first["id"], first["seq"])
    # The agent's re-sent client_id is idempotent too.
    cid = chat.conversation_id
    for text in ("hello", "hello again"):
        await chat.console.send(
            {"type": "message", "conversation_id": cid, "client_id": "a-1", "text": text}
        )
    a1 = await chat.console.expect("message", lambda f: f.get("client_id") == "a-1")
    a2 = await chat.console.expect("message", lambda f: f.get("client_id") == "a-1")
    assert (a1["id"], a1["seq"]) == (a2["id"], a2["seq"])
    rows = await stored_messages(live_server.settings.database_url, cid)
    assert [row.client_id for row in rows].count("dup-1") == 1
    assert [row.client_id for row in rows].count("a-1") == 1
    await check_integrity(live_server.settings.database_url)
    await reloaded.close()
    await chat.console.close()


async def test_visitor_resume_after_seq_holds_exactly_the_missed_messages(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    seen = await say(chat.visitor, "before the drop")
    await chat.visitor.close()
    for n in range(3):
        await chat.console.send(
            {"type": "message", "conversation_id": cid, "client_id": f"x{n}", "text": f"x{n}"}
        )
        await chat.console.expect("message", has_client_id(f"x{n}"))
    await chat.console.send({"type": "note", "conversation_id": cid, "text": "private"})
    await chat.console.expect("message", lambda f: f["author"] == "note")
    client, welcome = await visitor(
        live_server.ws_url, token=chat.token, conversation_id=cid, after_seq=seen["seq"]
    )
    rows = await stored_messages(live_server.settings.database_url, cid)
    missed = [row for row in rows if row.seq > seen["seq"] and row.author != "note"]
    assert [m["id"] for m in welcome["messages"]] == [row.id for row in missed]
    assert [m["text"] for m in welcome["messages"]] == ["x0", "x1", "x2"]
    assert all(m["author"] != "note" for m in welcome["messages"])
    # None of them is sent again as a separate frame.
    sentinel = new_client_id()
    await client.send({"type": "message", "client_id": sentinel, "text": "back"})
    later = await messages_until(client, last=lambda f: f.get("client_id") == sentinel)
    assert [frame["client_id"] for frame in later] == [sentinel]
    # The note took a seq the visitor never sees: seqs increase, with a gap there.
    assert later[0]["seq"] == rows[-1].seq + 1
    await client.close()
    await chat.console.close()


async def test_agent_resume_after_seq_holds_exactly_the_missed_messages(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    seen = await say(chat.visitor, "one")
    await chat.console.expect("message", lambda f: f["id"] == seen["id"])
    await chat.console.close()
    missed_ids = [(await say(chat.visitor, f"while away {n}"))["id"] for n in range(3)]
    console, welcome = await agent(live_server.ws_url, chat.agent_token, resume={cid: seen["seq"]})
    [item] = welcome["conversations"]
    assert item["conversation_id"] == cid and item["state"] == "assigned"
    assert [m["id"] for m in item["messages"]] == missed_ids
    await console.send(
        {"type": "message", "conversation_id": cid, "client_id": "after", "text": "hi"}
    )
    later = await messages_until(console, last=lambda f: f.get("client_id") == "after")
    assert [frame["client_id"] for frame in later] == ["after"]
    # Without resume the agent gets the whole history.
    again, full = await agent(live_server.ws_url, chat.agent_token)
    rows = await stored_messages(live_server.settings.database_url, cid)
    assert [m["seq"] for m in full["conversations"][0]["messages"]] == [row.seq for row in rows]
    for client in (again, console, chat.visitor):
        await client.close()


async def test_every_connection_of_every_participant_gets_each_message_once(
    live_server: LiveServer,
) -> None:
    chat = await assigned_chat(live_server)
    cid = chat.conversation_id
    await live_server.create_agent(email="sup@x.test", name="Sue", role="supervisor")
    supervisor, _ = await agent(live_server.ws_url, await live_server.login("sup@x.test"))
    await supervisor.send({"type": "watch", "conversation_id": cid})
    watching = await supervisor.expect("watching")
    second_tab, _ = await visitor(live_server.ws_url, token=chat.token)
    second_console, _ = await agent(live_server.ws_url, chat.agent_token)
    start = max(m["seq"] for m in watching["messages"])

    async def visitor_burst() -> None:
        for n in range(20):
            await chat.visitor.send({"type": "message", "client_id": f"v{n}", "text": f"v{n}"})

    async def agent_burst() -> None:
        for n in range(20):
            await chat.console.send(
                {"type": "message", "conversation_id": cid, "client_id": f"a{n}", "text": "a"}
            )
        await chat.console.send({"type": "note", "conversation_id": cid, "text": "note"})

    await asyncio.gather(visitor_burst(), agent_burst())
    await chat.console.expect("message", lambda f: f["author"] == "note")
    await chat.visitor.expect("message", lambda f: f.get("client_id") == "v19")
    await chat.console.expect("message", lambda f: f.get("client_id") == "a19")
    end = await say(chat.visitor, "end", client_id="end")
    rows = await stored_messages(live_server.settings.database_url, cid)
    everything = [row.seq for row in rows if row.seq > start]
    public = [row.seq for row in rows if row.seq > start and row.author != "note"]
    connections = {
        "visitor tab 1": (chat.visitor, public),
        "visitor tab 2": (second_tab, public),
        "agent console 1": (chat.console, everything),
        "agent console 2": (second_console, everything),
        "supervisor": (supervisor, everything),
    }
    for name, (client, expected) in connections.items():
        if end["id"] not in {frame.get("id") for frame in client.received}:
            await client.expect("message", lambda f: f["id"] == end["id"])
        got = [
            frame["seq"]
            for frame in client.received  # every frame this client ever read, once each
            if frame["type"] == "message" and frame["conversation_id"] == cid
        ]
        assert [seq for seq in got if seq > start] == expected, name
    for client in (chat.visitor, second_tab, chat.console, second_console, supervisor):
        await client.close()

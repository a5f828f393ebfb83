"""Connection health: dead peers are dropped by heartbeats within ``HEARTBEAT_S``; shutdown
closes sockets with 1001; a slow client whose send queue fills is closed with 1013 and
resumes with ``after_seq`` without losing or repeating anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from chatdesk.broker.liveness import Liveness
from chatdesk.channels.connection import SEND_QUEUE_LIMIT
from chatdesk.routing.dispatcher import visitor_key
from tests.conftest import DEMO_FAQ
from tests.integration.flows import assigned_chat, has_client_id
from tests.support.clients import say, visitor
from tests.support.server import LiveServer, start_live_server
from tests.support.waiting import eventually

ENV: dict[str, Any] = {
    "faq_dir": DEMO_FAQ,
    "secret_key": "test-secret-key-0123456789abcdef",
    "rate_limits": "off",
}


@pytest.fixture
def server_env() -> dict[str, Any]:
    return {**ENV, "heartbeat_s": 1}


async def _raw_visitor(ws_url: str, **hello: Any) -> tuple[Any, dict[str, Any]]:
    """A websocket client that never pings and whose reading can be paused."""
    connection = await websockets.connect(
        f"{ws_url}/ws/visitor", ping_interval=None, compression=None, max_queue=None, max_size=None
    )
    await connection.send(json.dumps({"type": "hello", "lang": "en", **hello}))
    while True:
        frame = json.loads(await connection.recv())
        if frame["type"] == "welcome":
            return connection, frame


async def test_dead_connection_is_dropped_by_heartbeat(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    assert runtime is not None
    healthy, healthy_hello = await visitor(live_server.ws_url)
    dead, welcome = await _raw_visitor(live_server.ws_url)
    visitor_id = welcome["visitor_id"]
    assert runtime.hub.visitor_connected_here(visitor_id)
    dead.transport.pause_reading()  # stops answering the server's pings
    await eventually(
        lambda: not runtime.hub.visitor_connected_here(visitor_id),
        what="the unresponsive visitor is dropped",
    )
    # A client that answers pings stays connected through the same heartbeats.
    assert runtime.hub.visitor_connected_here(healthy_hello["visitor_id"])
    assert (await say(healthy, "still here"))["seq"] == 1
    dead.transport.abort()
    await healthy.close()


async def test_shutdown_closes_sockets_with_1001(database_url: str) -> None:
    async with start_live_server(database_url=database_url, **ENV) as server:
        client, _ = await visitor(server.ws_url)
        server_handle = server
    assert server_handle.runtime is not None
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


BIG_CHARS = 50_000  # a frame just under the 64 KB limit fills socket buffers quickly


@pytest.mark.parametrize(
    # heartbeats far away: the paused client must be dropped for its queue, not its pings
    "server_env",
    [{**ENV, "max_message_chars": BIG_CHARS, "heartbeat_s": 600}],
    ids=["slow"],
)
async def test_slow_client_is_closed_with_1013_and_resumes_without_loss(
    live_server: LiveServer,
) -> None:
    runtime = live_server.runtime
    assert runtime is not None
    chat = await assigned_chat(live_server)
    cid, visitor_id = chat.conversation_id, chat.welcome["visitor_id"]
    before = {link.connection.id for link in runtime.hub.visitors[visitor_id]}
    slow, slow_welcome = await _raw_visitor(
        live_server.ws_url, token=chat.token, conversation_id=cid, after_seq=0
    )
    [slow_link] = [
        link for link in runtime.hub.visitors[visitor_id] if link.connection.id not in before
    ]
    slow.transport.pause_reading()  # a phone in a tunnel: connected, reading nothing
    sent = 0
    while slow_link.connection.close_code is None:
        assert sent < SEND_QUEUE_LIMIT * 8, "the slow client was never closed"
        ids = [f"big-{sent + n}" for n in range(100)]
        for client_id in ids:
            await chat.console.send(
                {
                    "type": "message",
                    "conversation_id": cid,
                    "client_id": client_id,
                    # big until the socket is full and frames queue up, then small ones
                    "text": "x" * (BIG_CHARS if slow_link.connection.backlog == 0 else 10),
                }
            )
        for client_id in ids:
            await chat.console.expect("message", has_client_id(client_id))
        chat.console.received.clear()
        sent += len(ids)
    assert slow_link.connection.close_code == 1013
    slow.transport.resume_reading()
    seen = [m["seq"] for m in slow_welcome["messages"]]
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            frame = json.loads(await slow.recv())
            if frame["type"] == "message":
                seen.append(frame["seq"])
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    assert seen == sorted(set(seen))
    # Resume: exactly what it missed, once, in order (a big welcome: no client size limit).
    again, welcome = await _raw_visitor(
        live_server.ws_url,
        token=chat.token,
        conversation_id=cid,
        after_seq=seen[-1] if seen else 0,
    )
    resumed = [m["seq"] for m in welcome["messages"]]
    final = await say(chat.visitor, "done")
    while json.loads(await again.recv()).get("id") != final["id"]:
        pass
    assert seen + resumed + [final["seq"]] == list(range(1, final["seq"] + 1))
    await again.close()
    await chat.visitor.close()
    await chat.console.close()


async def test_a_socket_closing_during_the_liveness_refresh_is_not_left_alive(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat refresh stores a snapshot of the open sockets; one that closes while the
    snapshot is being stored (its own removal done first) must not stay alive for a TTL."""
    runtime = live_server.runtime
    assert runtime is not None
    client, hello = await visitor(live_server.ws_url)
    key = visitor_key(hello["visitor_id"])
    store = runtime.liveness.connected_many

    async def close_first(entries: list[tuple[str, str]], *, ttl_s: float) -> None:
        await client.close()  # the socket closes while the refresh is under way ...
        await eventually(
            lambda: not runtime.hub.visitors.get(hello["visitor_id"]),
            what="the server saw the socket close",
        )
        await eventually(lambda: _not_connected(runtime.liveness, key), what="its own removal")
        await store(entries, ttl_s=ttl_s)  # ... and the snapshot stores it again

    monkeypatch.setattr(runtime.liveness, "connected_many", close_first)
    await runtime._register_sockets()
    assert not await runtime.liveness.is_connected(key)


async def _not_connected(liveness: Liveness, key: str) -> bool:
    return not await liveness.is_connected(key)

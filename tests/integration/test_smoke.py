from __future__ import annotations

import asyncio

import httpx

from tests.support.clients import agent, say, visitor
from tests.support.server import LiveServer, start_live_server


async def test_visitor_asks_bot_then_gets_agent(live_server: LiveServer) -> None:
    await live_server.create_agent(email="a@x.test", name="Alice")
    token = await live_server.login("a@x.test")
    console, welcome = await agent(live_server.ws_url, token)
    assert welcome["agent"]["name"] == "Alice"
    await console.send({"type": "status", "status": "online"})
    await console.expect("status")
    client, hello = await visitor(live_server.ws_url, lang="cs")
    assert hello["state"] == "bot"
    ack = await say(client, "kolik stoji doprava")
    assert ack["author"] == "visitor" and ack["seq"] == 1
    bot = await client.expect("message", lambda f: f["author"] == "bot")
    assert bot["seq"] == 2
    await client.send({"type": "handoff"})
    queued = await client.expect("queued")
    assert queued["position"] == 1
    offer = await console.expect("offer")
    await console.send({"type": "accept", "conversation_id": offer["conversation_id"]})
    assigned = await console.expect("assigned")
    assert [m["seq"] for m in assigned["messages"]][:2] == [1, 2]
    joined = await client.expect("agent_joined")
    assert joined["agent_name"] == "Alice"
    await console.send(
        {
            "type": "message",
            "conversation_id": offer["conversation_id"],
            "client_id": "c1",
            "text": "Hello!",
        }
    )
    echoed = await console.expect("message", lambda f: f.get("client_id") == "c1")
    got = await client.expect("message", lambda f: f["author"] == "agent")
    assert got["id"] == echoed["id"]
    await client.close()
    await console.close()


async def test_shutdown_stops_every_background_task(sqlite_url: str) -> None:
    before = asyncio.all_tasks()
    async with start_live_server(database_url=sqlite_url, secret_key="k" * 32) as server:
        runtime = server.runtime
        assert runtime is not None
        client, _ = await visitor(server.ws_url)
        assert all(not task.done() for task in runtime.tasks)
    assert all(task.done() for task in runtime.tasks)
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [asyncio.current_task()] or leftover == []
    await client.close()


async def test_health_endpoints_and_openapi(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = (await http.get("/readyz")).json()
        assert ready["status"] == "ready" and ready["database"] == "ok"
        assert ready["redis"] == "not configured"
        assert "/api/v1/bot/ask" in (await http.get("/openapi.json")).json()["paths"]
        assert (await http.get("/docs")).status_code == 200
        metrics = (await http.get("/metrics")).text
        assert "chatdesk_messages_stored_total" in metrics


async def test_other_tab_follows_the_new_conversation_after_close(
    live_server: LiveServer,
) -> None:
    tab_a, welcome = await visitor(live_server.ws_url)
    tab_b, _ = await visitor(live_server.ws_url, token=welcome["token"])
    await say(tab_a, "How much does shipping cost?")
    await tab_b.expect("message", lambda f: f["author"] == "bot")
    await tab_a.send({"type": "close"})
    await tab_b.expect("closed")
    ack = await say(tab_a, "one more question")
    assert ack["conversation_id"] != welcome["conversation_id"]
    seen = await tab_b.expect("message", lambda f: f.get("client_id") == ack["client_id"])
    assert seen["conversation_id"] == ack["conversation_id"] and seen["seq"] == 1
    await tab_a.close()
    await tab_b.close()

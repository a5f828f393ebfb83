"""Disabling an agent ends their live consoles too, and their chats return to the queue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.clients import agent, visitor
from tests.support.server import LiveServer


@pytest.fixture
def server_env(server_env: dict[str, Any]) -> dict[str, Any]:
    return {**server_env, "presence_grace_s": 0.5}


async def test_disabled_agent_is_disconnected_and_their_chat_is_requeued(
    live_server: LiveServer,
) -> None:
    await live_server.create_agent(email="admin@x.test", name="Ada", role="admin")
    alice_id = await live_server.create_agent(email="a@x.test", name="Alice")
    await live_server.create_agent(email="b@x.test", name="Bob")
    admin = await live_server.login("admin@x.test")
    alice, _ = await agent(live_server.ws_url, await live_server.login("a@x.test"))
    await alice.send({"type": "status", "status": "online"})
    await alice.expect("status")
    client, _ = await visitor(live_server.ws_url)
    await client.send({"type": "handoff"})
    offer = await alice.expect("offer")
    await alice.send({"type": "accept", "conversation_id": offer["conversation_id"]})
    await alice.expect("assigned")

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        response = await http.post(
            f"/api/v1/admin/agents/{alice_id}/disable",
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert response.status_code == 200
    error = await alice.expect("error")
    assert error["code"] == "unauthorized"
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await alice.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    bob, _ = await agent(live_server.ws_url, await live_server.login("b@x.test"))
    await bob.send({"type": "status", "status": "online"})
    reoffer = await bob.expect("offer")
    assert reoffer["conversation_id"] == offer["conversation_id"]
    await client.expect("message", lambda f: f["author"] == "system")
    await client.close()
    await bob.close()

"""``chatdesk serve --workers 2``: two worker processes on one port chat normally.

The kernel spreads connections over the workers, so the visitor and the agent may land on
different processes; whichever they get, the hand-off, the messages both ways and typing
work, because the workers share PostgreSQL and Redis and nothing else.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import _create_pg_database, _drop_pg_database, require_service
from tests.support.clients import agent, say, visitor
from tests.support.cluster import cluster_env, settings_from_env
from tests.support.server import LiveServer, free_port, upgrade_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

STARTUP_S = 60  # hang protection: two workers import and load the FAQ in parallel


async def test_two_workers_on_one_port_serve_a_whole_chat(tmp_path: Path) -> None:
    admin_url = require_service("CHATDESK_TEST_DATABASE_URL")
    redis_url = require_service("CHATDESK_TEST_REDIS_URL")
    database_url, name = await _create_pg_database(admin_url)
    port = free_port()
    env = cluster_env(database_url=database_url, redis_url=redis_url, rate_limits="off")
    process: asyncio.subprocess.Process | None = None
    try:
        await upgrade_database(database_url)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatdesk", "serve", "--workers", "2", "--port", str(port),
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        async with asyncio.timeout(STARTUP_S), httpx.AsyncClient(base_url=base_url) as http:
            while True:
                assert process.returncode is None, "server exited"
                try:
                    ready = await http.get("/readyz")
                    if ready.status_code == 200 and ready.json()["redis"] == "ok":
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)  # the workers are still starting
        server = LiveServer(base_url=base_url, settings=settings_from_env(env))
        await server.create_agent(email="alice@x.test", name="Alice")
        token = await server.login("alice@x.test")
        ws_url = base_url.replace("http://", "ws://")
        console, _ = await agent(ws_url, token)
        await console.send({"type": "status", "status": "online"})
        await console.expect("status", lambda f: f["status"] == "online")

        client, welcome = await visitor(ws_url)
        conversation_id = welcome["conversation_id"]
        await say(client, "hello, I need a person")
        await client.send({"type": "handoff"})
        offer = await console.expect("offer")
        assert offer["conversation_id"] == conversation_id
        await console.send({"type": "accept", "conversation_id": conversation_id})
        await console.expect("assigned")
        assert (await client.expect("agent_joined"))["agent_name"] == "Alice"

        await client.send({"type": "typing", "on": True})
        assert (await console.expect("typing"))["author"] == "visitor"
        ack = await say(client, "my parcel is late")
        assert (await console.expect("message", lambda f: f["id"] == ack["id"]))["seq"] == ack[
            "seq"
        ]
        await console.send(
            {
                "type": "message",
                "conversation_id": conversation_id,
                "client_id": "reply-1",
                "text": "Let me check.",
            }
        )
        echoed = await console.expect("message", lambda f: f.get("client_id") == "reply-1")
        got = await client.expect("message", lambda f: f["author"] == "agent")
        assert (got["id"], got["seq"]) == (echoed["id"], ack["seq"] + 1)
        await client.close()
        await console.close()
    finally:
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()
        await _drop_pg_database(admin_url, name)

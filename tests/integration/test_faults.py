"""Faults against a real server subprocess: a connection dropped in the middle of a burst
resumes with nothing missing or duplicated; SIGKILL right after the last acknowledgement of
concurrent bursts (the group-commit path) loses no acknowledged message across a restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import websockets

from tests.conftest import DEMO_FAQ
from tests.integration.flows import check_integrity, stored_messages
from tests.support.server import ServerProcess, spawn_server, upgrade_database

BURST = 200
CLIENTS = 4
PER_CLIENT = 25


async def _server(tmp_path: Path, database_url: str) -> ServerProcess:
    if not database_url.startswith("sqlite"):
        await upgrade_database(database_url)
    return await spawn_server(
        tmp_path=tmp_path,
        env={
            "CHATDESK_DATABASE_URL": database_url,
            "CHATDESK_FAQ_DIR": str(DEMO_FAQ),
            "CHATDESK_SECRET_KEY": "test-secret-key-0123456789abcdef",
            "CHATDESK_RATE_LIMITS": "off",
        },
    )


async def _hello(ws_url: str, **fields: Any) -> tuple[Any, dict[str, Any]]:
    connection = await websockets.connect(f"{ws_url}/ws/visitor", compression=None, max_size=None)
    await connection.send(json.dumps({"type": "hello", "lang": "en", **fields}))
    async with asyncio.timeout(10):
        while True:
            frame = json.loads(await connection.recv())
            if frame["type"] == "welcome":
                return connection, frame


async def test_connection_dropped_mid_burst_resumes_without_loss_or_duplicates(
    tmp_path: Path, database_url: str
) -> None:
    server = await _server(tmp_path, database_url)
    try:
        connection, hello = await _hello(server.ws_url)
        cid = hello["conversation_id"]
        outbox = {f"b{n}": f"burst {n}" for n in range(BURST)}
        received: dict[int, dict[str, Any]] = {}
        acked: set[str] = set()
        for client_id, text in outbox.items():
            await connection.send(
                json.dumps({"type": "message", "client_id": client_id, "text": text})
            )
        async with asyncio.timeout(30):
            while len(acked) < BURST // 2:
                frame = json.loads(await connection.recv())
                if frame["type"] == "message":
                    assert frame["seq"] not in received
                    received[frame["seq"]] = frame
                    if frame["client_id"] in outbox:
                        acked.add(frame["client_id"])
        connection.transport.abort()  # the network drops mid-burst
        last = max(received)
        again, welcome = await _hello(
            server.ws_url, token=hello["token"], conversation_id=cid, after_seq=last
        )
        for frame in welcome["messages"]:
            assert frame["seq"] not in received and frame["seq"] > last
            received[frame["seq"]] = frame
            if frame["client_id"] in outbox:
                acked.add(frame["client_id"])
        # The widget re-sends its outbox: whatever was not acknowledged yet.
        for client_id in [c for c in outbox if c not in acked]:
            await again.send(
                json.dumps({"type": "message", "client_id": client_id, "text": outbox[client_id]})
            )
        async with asyncio.timeout(30):
            while len(acked) < BURST:
                frame = json.loads(await again.recv())
                if frame["type"] == "message":
                    if frame["client_id"] in outbox:
                        acked.add(frame["client_id"])
                    received.setdefault(frame["seq"], frame)
        rows = await stored_messages(database_url, cid)
        visitor_rows = [row for row in rows if row.author == "visitor"]
        assert sorted(row.client_id or "" for row in visitor_rows) == sorted(outbox)
        assert [row.text for row in visitor_rows] == [
            outbox[row.client_id or ""] for row in visitor_rows
        ]
        seen_visitor = {f["id"] for f in received.values() if f["author"] == "visitor"}
        assert seen_visitor == {row.id for row in visitor_rows}
        await again.close()
        await check_integrity(database_url)
    finally:
        server.terminate()


async def _client_burst(ws_url: str, index: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    connection, hello = await _hello(ws_url)
    ids = [f"c{index}-{n}" for n in range(PER_CLIENT)]
    for client_id in ids:
        await connection.send(
            json.dumps({"type": "message", "client_id": client_id, "text": client_id})
        )
    acks: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while len(acks) < PER_CLIENT:
            frame = json.loads(await connection.recv())
            if frame["type"] == "message" and frame["client_id"] in ids:
                acks.append(frame)
    connection.transport.abort()
    return hello, acks


async def test_sigkill_after_last_ack_of_concurrent_bursts_loses_nothing(
    tmp_path: Path, database_url: str
) -> None:
    server = await _server(tmp_path, database_url)
    try:
        results = await asyncio.gather(*(_client_burst(server.ws_url, n) for n in range(CLIENTS)))
        server.kill()  # SIGKILL right after the last acknowledgement
    finally:
        server.terminate()
    restarted = await _server(tmp_path, database_url)
    try:
        for hello, acks in results:
            _, welcome = await _hello(
                restarted.ws_url,
                token=hello["token"],
                conversation_id=hello["conversation_id"],
                after_seq=0,
            )
            replayed = {m["id"]: m for m in welcome["messages"]}
            for ack in acks:
                assert replayed[ack["id"]]["seq"] == ack["seq"]
                assert replayed[ack["id"]]["client_id"] == ack["client_id"]
            # Resume from the middle: exactly what follows, in order.
            middle = acks[len(acks) // 2]["seq"]
            _, partial = await _hello(
                restarted.ws_url,
                token=hello["token"],
                conversation_id=hello["conversation_id"],
                after_seq=middle,
            )
            assert [m["seq"] for m in partial["messages"]] == [
                m["seq"] for m in welcome["messages"] if m["seq"] > middle
            ]
        await check_integrity(database_url)
    finally:
        restarted.terminate()

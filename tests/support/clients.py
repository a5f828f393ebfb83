"""Real websocket clients for tests: frames in, frames out, with hang protection."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

FRAME_TIMEOUT_S = 10  # hang protection only, never a speed assertion


class WsClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.received: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, url: str, *, origin: str | None = None) -> WsClient:
        headers = {"Origin": origin} if origin else None
        connection = await websockets.connect(
            url, additional_headers=headers, compression=None, open_timeout=FRAME_TIMEOUT_S
        )
        return cls(connection)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))

    async def send_raw(self, raw: str) -> None:
        await self.connection.send(raw)

    async def recv(self) -> dict[str, Any]:
        if self._pending:
            return self._pending.pop(0)
        async with asyncio.timeout(FRAME_TIMEOUT_S):
            frame: dict[str, Any] = json.loads(await self.connection.recv())
        self.received.append(frame)
        return frame

    async def expect(
        self, frame_type: str, predicate: Callable[[dict[str, Any]], bool] | None = None
    ) -> dict[str, Any]:
        """The next frame of ``frame_type`` (matching ``predicate``); others are kept."""
        skipped: list[dict[str, Any]] = []
        try:
            for index, frame in enumerate(self._pending):
                if frame["type"] == frame_type and (predicate is None or predicate(frame)):
                    return self._pending.pop(index)
            async with asyncio.timeout(FRAME_TIMEOUT_S):
                while True:
                    frame = json.loads(await self.connection.recv())
                    self.received.append(frame)
                    if frame["type"] == frame_type and (predicate is None or predicate(frame)):
                        return frame
                    skipped.append(frame)
        finally:
            self._pending.extend(skipped)

    async def close(self) -> None:
        await self.connection.close()


def new_client_id() -> str:
    return uuid.uuid4().hex


async def visitor(
    ws_url: str, *, lang: str = "en", token: str | None = None, **hello: Any
) -> tuple[WsClient, dict[str, Any]]:
    client = await WsClient.connect(f"{ws_url}/ws/visitor")
    await client.send(
        {"type": "hello", "token": token, "lang": lang, "page_url": "http://shop.test/", **hello}
    )
    welcome = await client.expect("welcome")
    return client, welcome


async def agent(ws_url: str, token: str, **auth: Any) -> tuple[WsClient, dict[str, Any]]:
    client = await WsClient.connect(f"{ws_url}/ws/agent")
    await client.send({"type": "auth", "token": token, **auth})
    welcome = await client.expect("welcome")
    return client, welcome


async def say(client: WsClient, text: str, client_id: str | None = None) -> dict[str, Any]:
    """Send a visitor message and wait for its acknowledgement."""
    client_id = client_id or new_client_id()
    await client.send({"type": "message", "client_id": client_id, "text": text})
    return await client.expect("message", lambda f: f.get("client_id") == client_id)

"""What the visitor and agent websocket endpoints share: origin check, the first frame,
error frames, rate limiting and the reader/writer lifecycle (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from chatdesk.channels.connection import CLOSE_POLICY, Connection
from chatdesk.channels.frames import client_id_of
from chatdesk.channels.ratelimit import ABUSE_FACTOR, TokenBucket
from chatdesk.config import Settings
from chatdesk.errors import ChatdeskError, RateLimitedError

log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT_S = 15  # a client that connects and says nothing is dropped


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Browsers send ``Origin``; it must be this server or an allowed embedding site."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: no ambient credentials to protect
    origin = origin.rstrip("/")
    if origin in settings.allowed_origins or "*" in settings.allowed_origins:
        return True
    host = websocket.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.netloc == host and parts.scheme in ("http", "https")


def error_frame(exc: ChatdeskError, *, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame


async def refuse(websocket: WebSocket, code: int, exc: ChatdeskError | None = None) -> None:
    """Accept, say why (when there is a reason to give), close with ``code``."""
    with contextlib.suppress(Exception):
        await websocket.accept()
        if exc is not None:
            await websocket.send_json(error_frame(exc))
        await websocket.close(code)


async def first_frame(websocket: WebSocket) -> str | None:
    try:
        async with asyncio.timeout(FIRST_FRAME_TIMEOUT_S):
            return await websocket.receive_text()
    except (TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        return None


async def opening_frame(websocket: WebSocket, settings: Settings) -> str | None:
    """Check the origin, accept, and read the first frame; None after refusing (1008)."""
    if not origin_allowed(websocket, settings):
        await refuse(websocket, CLOSE_POLICY)
        return None
    await websocket.accept()
    raw = await first_frame(websocket)
    if raw is None:
        await refuse(websocket, CLOSE_POLICY)
    return raw


async def refuse_first_frame(websocket: WebSocket, exc: ChatdeskError) -> None:
    """A first frame that does not authenticate: ``error`` (always ``unauthorized`` for a
    malformed one, else the error's own code, e.g. ``forbidden``) and close 1008."""
    code = "unauthorized" if exc.code in ("bad_frame", "unknown_type") else exc.code
    with contextlib.suppress(Exception):
        await websocket.send_json({"type": "error", "code": code, "message": exc.message})
        await websocket.close(CLOSE_POLICY)


Handler = Callable[[Any, str], Awaitable[None]]


async def serve_frames(
    connection: Connection,
    *,
    parse: Callable[[str], Any],
    handle: Handler,
    bucket: TokenBucket | None,
) -> None:
    """Read frames until the peer leaves; errors become ``error`` frames, not closes.

    The writer task runs beside the reader; both end together. Unexpected exceptions are
    logged with context and answered ``internal``; the connection goes on.
    """
    websocket = connection.websocket
    reader = asyncio.current_task()
    assert reader is not None
    connection.bind_reader(reader)
    writer = asyncio.create_task(connection.writer(), name=f"writer-{connection.id}")
    refused_in_row = 0
    try:
        while not connection.closed.is_set():
            raw = await websocket.receive_text()
            if bucket is not None and not bucket.take(time.monotonic()):
                refused_in_row += 1
                if refused_in_row > ABUSE_FACTOR * bucket.burst:
                    connection.begin_close(CLOSE_POLICY, "flooding")
                    break
                connection.send(
                    error_frame(
                        RateLimitedError("too many frames; slow down"),
                        client_id=client_id_of(raw),
                    )
                )
                continue
            refused_in_row = 0
            try:
                frame = parse(raw)
                await handle(frame, raw)
            except ChatdeskError as exc:
                connection.send(error_frame(exc, client_id=client_id_of(raw)))
            except Exception:
                log.exception("frame handler failed on connection %s", connection.id)
                connection.send(
                    error_frame(
                        ChatdeskError("internal error; the frame was not processed"),
                        client_id=client_id_of(raw),
                    )
                )
    except (WebSocketDisconnect, RuntimeError, KeyError):
        pass
    except asyncio.CancelledError:
        # The writer closed the socket (slow client, kicked, shutdown) and cancelled us;
        # any other cancellation (the server stopping) goes on.
        if connection.close_code is None or reader.cancelling() > 1:
            raise
        reader.uncancel()
    finally:
        connection.bind_reader(None)  # reading is over: a closing writer must not cancel us
        if connection.close_code is not None and not writer.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), timeout=5)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

"""Uvicorn settings chatdesk relies on, shared by ``chatdesk serve`` and the test servers."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chatdesk.config import Settings

CLOSE_GOING_AWAY = 1001


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, closing with 1001 (going away) when the server stops.

    uvicorn closes open websockets with 1012 before the app's shutdown runs; the protocol
    (docs/protocol.md) promises 1001 so clients know to reconnect, to this or another process.
    """

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_GOING_AWAY})
            self.conn.send_close(CLOSE_GOING_AWAY)
            self.close_sent = True
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().shutdown()


WS_MAX_FRAME_BYTES = 64 * 1024  # a 4,000-character message is < 16 KB of JSON; more is abuse (1009)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Websocket pings detect dead peers within ``HEARTBEAT_S`` (ping every half, wait half).

    permessage-deflate stays off: it triples memory per connection.
    """
    half = settings.heartbeat_s / 2
    return {
        "host": settings.host,
        "port": settings.port,
        "ws": "chatdesk.server:GoingAwayWebSocketProtocol",
        "ws_per_message_deflate": False,
        "ws_ping_interval": half,
        "ws_ping_timeout": half,
        "ws_max_size": WS_MAX_FRAME_BYTES,
        "proxy_headers": True,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
    }

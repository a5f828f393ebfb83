"""Uvicorn settings chatdesk relies on, shared by ``chatdesk serve`` and the test servers."""

from __future__ import annotations

from typing import Any

from chatdesk.config import Settings

WS_MAX_FRAME_BYTES = 64 * 1024  # a 4,000-character message is < 16 KB of JSON; more is abuse (1009)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Websocket pings detect dead peers within ``HEARTBEAT_S`` (ping every half, wait half).

    permessage-deflate stays off: it triples memory per connection.
    """
    half = settings.heartbeat_s / 2
    return {
        "host": settings.host,
        "port": settings.port,
        "ws": "websockets-sansio",
        "ws_per_message_deflate": False,
        "ws_ping_interval": half,
        "ws_ping_timeout": half,
        "ws_max_size": WS_MAX_FRAME_BYTES,
        "proxy_headers": True,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
    }

"""The widget loads on every page of every site that embeds it, so it has a size budget."""

from __future__ import annotations

import gzip

import httpx

from tests.support.server import LiveServer

WIDGET_BUDGET_BYTES = 15 * 1024  # the design's promise: under 15 KB gzipped, as served


async def test_served_widget_is_a_script_under_15_kb_gzipped(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.get("/widget.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    size = len(gzip.compress(response.content, compresslevel=6))
    assert size <= WIDGET_BUDGET_BYTES, f"widget.js is {size} bytes gzipped"

"""The semantic extra inside the running server: on by default when installed, off the loop."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chatdesk.bot.semantic import semantic_available
from tests.support.server import LiveServer

pytestmark = pytest.mark.skipif(
    not semantic_available(),
    reason="the semantic extra is not installed (pip install 'chatdesk[semantic]')",
)

SETTLE_S = 120  # hang protection for the background embedding of the demo FAQ, not a bound


async def settled(server: LiveServer) -> None:
    assert server.runtime is not None
    async with asyncio.timeout(SETTLE_S):
        await server.runtime.faq.wait_until_settled()


# Asks about returns without the words of any return phrasing ("return", "refund", "send back").
PARAPHRASE = "I changed my mind about the bike, can I give it back to you?"


async def test_default_server_uses_the_model_and_suggests_a_paraphrased_entry(
    live_server: LiveServer,
) -> None:
    assert live_server.settings.bot_semantic == "auto"
    await settled(live_server)
    await live_server.create_agent(email="admin@x.test", role="admin")
    token = await live_server.login("admin@x.test")
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        status = await client.get(
            "/api/v1/admin/faq/status", headers={"Authorization": f"Bearer {token}"}
        )
        body = (await client.post("/api/v1/bot/ask", json={"text": PARAPHRASE})).json()
    assert status.json()["semantic"] == "multilingual-e5-small-q4"
    assert body["outcome"] == "suggest"
    assert body["suggestions"][0]["entry_id"] == "return-policy"


async def test_concurrent_questions_are_all_answered(live_server: LiveServer) -> None:
    """Embedding runs in worker threads: many questions at once all get their own reply."""
    texts = [f"{PARAPHRASE} order {n}" for n in range(12)] + ["kolik stoji doprava"] * 4
    await settled(live_server)
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/bot/ask", json={"text": text}) for text in texts)
        )
    bodies = [r.json() for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert [b["suggestions"][0]["entry_id"] for b in bodies[:12]] == ["return-policy"] * 12
    assert [b["entry_id"] for b in bodies[12:]] == ["shipping-cost"] * 4

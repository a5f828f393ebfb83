"""Nobody there: ``offline`` in the visitor's language (no agent online, or outside business
hours), ``leave_message`` makes the conversation ``pending``, agents coming online find it
listed, take it and reply, and the visitor sees the reply on coming back (point 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chatdesk.conversations.texts import system_text
from chatdesk.routing.hours import DAYS
from chatdesk.storage import db
from chatdesk.storage import tables as t
from tests.integration.routing_helpers import close_all, conversation_row, online_agent
from tests.support.clients import visitor
from tests.support.server import LiveServer, start_live_server


async def test_no_agent_online_tells_the_visitor_at_once_in_their_language(
    live_server: LiveServer,
) -> None:
    await live_server.create_agent(email="a@x.test")  # exists, but is offline
    client, welcome = await visitor(live_server.ws_url, lang="cs")
    await client.send({"type": "handoff"})
    offline = await client.expect("offline")
    assert offline["reason"] == "no_agents"
    assert offline["message"] == system_text("offline_no_agents", "cs")
    assert (await conversation_row(live_server, welcome["conversation_id"])).state == "bot"
    await client.close()


async def test_left_message_is_pending_listed_taken_and_answered_for_the_returning_visitor(
    live_server: LiveServer,
) -> None:
    client, welcome = await visitor(live_server.ws_url, lang="en")
    conversation_id = welcome["conversation_id"]
    await client.send({"type": "handoff"})
    await client.expect("offline")
    await client.send(
        {"type": "leave_message", "email": "eva@shop.test", "text": "Where is my parcel?"}
    )
    await client.expect("message", lambda f: f["author"] == "system")
    await client.close()
    row = await conversation_row(live_server, conversation_id)
    assert row.state == "pending"
    engine = db.create_engine(live_server.settings.database_url)
    try:
        async with db.session_factory(engine)() as session:
            left = (await session.execute(select(t.LeftMessage))).scalars().all()
            assert [(m.email, m.text) for m in left] == [("eva@shop.test", "Where is my parcel?")]
    finally:
        await engine.dispose()

    console, agent_id = await online_agent(live_server, "a@x.test", name="Ann")
    token = await live_server.login("a@x.test")
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        response = await http.get(
            "/api/v1/conversations",
            params={"state": "pending"},
            headers={"Authorization": f"Bearer {token}"},
        )
    response.raise_for_status()
    listed = response.json()
    assert [(c["id"], c["visitor_email"], c["preview"]) for c in listed] == [
        (conversation_id, "eva@shop.test", "Where is my parcel?")
    ]
    await console.send({"type": "accept", "conversation_id": conversation_id})
    assigned = await console.expect("assigned")
    assert "Where is my parcel?" in [m["text"] for m in assigned["messages"]]
    await console.send(
        {
            "type": "message",
            "conversation_id": conversation_id,
            "client_id": "r1",
            "text": "It ships today.",
        }
    )
    await console.expect("message", lambda f: f.get("client_id") == "r1")
    row = await conversation_row(live_server, conversation_id)
    assert (row.state, row.agent_id) == ("assigned", agent_id)

    back, welcome = await visitor(
        live_server.ws_url, lang="en", token=welcome["token"], conversation_id=conversation_id
    )
    assert welcome["conversation_id"] == conversation_id
    assert welcome["state"] == "assigned" and welcome["agent_name"] == "Ann"
    assert "It ships today." in [m["text"] for m in welcome["messages"]]
    await close_all(back, console)


def _closed_all_day_today() -> str:
    """A business-hours spec open only on a day three days away (so closed now, in UTC)."""
    other_day = DAYS[(datetime.now(UTC) + timedelta(days=3)).weekday()]
    return f"{other_day} 09:00-17:00"


@pytest.fixture
async def closed_server(database_url: str, server_env: dict[str, Any]) -> AsyncIterator[LiveServer]:
    env = {**server_env, "business_hours": _closed_all_day_today(), "timezone": "UTC"}
    async with start_live_server(database_url=database_url, **env) as server:
        yield server


async def test_outside_business_hours_the_visitor_is_told_even_with_agents_online(
    closed_server: LiveServer,
) -> None:
    console, _ = await online_agent(closed_server, "a@x.test")
    client, welcome = await visitor(closed_server.ws_url, lang="sk")
    assert welcome["online"] is False
    await client.send({"type": "handoff"})
    offline = await client.expect("offline")
    assert offline["reason"] == "outside_hours"
    assert offline["message"] == system_text("offline_outside_hours", "sk")
    assert (await conversation_row(closed_server, welcome["conversation_id"])).state == "bot"
    await close_all(client, console)

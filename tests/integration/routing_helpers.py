"""Shared steps for the routing integration tests: agents going online, visitors waiting,
and reads of the stored truth (conversation rows and their events)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from chatdesk.storage import tables as t
from tests.integration.flows import database
from tests.support.clients import WsClient, agent, visitor
from tests.support.server import LiveServer


async def online_agent(
    server: LiveServer, email: str, *, status: str = "online", **create: Any
) -> tuple[WsClient, str]:
    """Create an agent, log in, open the console socket and choose ``status``."""
    agent_id = await server.create_agent(email=email, **create)
    token = await server.login(email)
    console, _ = await agent(server.ws_url, token)
    await console.send({"type": "status", "status": status})
    await console.expect("status", lambda f: f["status"] == status)
    return console, agent_id


async def waiting_visitor(
    server: LiveServer, *, lang: str = "en", **hello: Any
) -> tuple[WsClient, str, dict[str, Any]]:
    """A visitor who asked for a person: the client, the conversation id, the first ``queued``."""
    client, welcome = await visitor(server.ws_url, lang=lang, **hello)
    await client.send({"type": "handoff"})
    queued = await client.expect("queued")
    return client, welcome["conversation_id"], queued


async def conversation_row(server: LiveServer, conversation_id: str) -> t.Conversation:
    async with database(server.settings.database_url) as session:
        row = await session.get(t.Conversation, conversation_id)
        assert row is not None
        return row


async def events(server: LiveServer, conversation_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The stored events of a conversation, in order: (type, data)."""
    async with database(server.settings.database_url) as session:
        result = await session.execute(
            select(t.ConversationEvent.type, t.ConversationEvent.data)
            .where(t.ConversationEvent.conversation_id == conversation_id)
            .order_by(t.ConversationEvent.id)
        )
        return [(kind, dict(data or {})) for kind, data in result.all()]


async def agent_row(server: LiveServer, agent_id: str) -> t.Agent:
    async with database(server.settings.database_url) as session:
        row = await session.get(t.Agent, agent_id)
        assert row is not None
        return row


async def close_all(*clients: WsClient) -> None:
    for client in clients:
        await client.close()


async def first_frame(
    consoles: dict[str, WsClient], frame_type: str, conversation_id: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Which console gets the next ``frame_type`` (for ``conversation_id``) first, and the frame.

    The other consoles' waits are cancelled; frames they already read stay queued in them.
    """

    def matches(frame: dict[str, Any]) -> bool:
        return conversation_id is None or frame.get("conversation_id") == conversation_id

    tasks = {
        asyncio.ensure_future(console.expect(frame_type, matches)): key
        for key, console in consoles.items()
    }
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    winner = next(iter(done))
    return tasks[winner], winner.result()


def forget_unread(*clients: WsClient) -> None:
    """Drop frames read but not consumed yet, so the next ``expect`` sees only newer ones."""
    for client in clients:
        client._pending.clear()

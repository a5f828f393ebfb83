"""Shared steps of the protocol tests: a chat handed to an agent, and database checks.

Helpers only (no tests here): they drive the real server through real websockets and read
the real database, so the tests that use them stay short.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from chatdesk.storage import db
from chatdesk.storage import tables as t
from tests.support.clients import WsClient, agent, visitor
from tests.support.server import LiveServer, upgrade_database


@dataclass
class Chat:
    visitor: WsClient
    welcome: dict[str, Any]
    console: WsClient
    agent_token: str
    conversation_id: str

    @property
    def token(self) -> str:
        return str(self.welcome["token"])


async def online_agent(
    server: LiveServer, email: str = "alice@x.test", name: str = "Alice", **kwargs: Any
) -> tuple[WsClient, str]:
    """A created, logged-in agent whose console is connected and online."""
    await server.create_agent(email=email, name=name, **kwargs)
    token = await server.login(email)
    console, _ = await agent(server.ws_url, token)
    await console.send({"type": "status", "status": "online"})
    await console.expect("status")
    return console, token


async def assigned_chat(server: LiveServer, *, lang: str = "en") -> Chat:
    """A visitor handed off to an online agent who accepted: conversation ``assigned``."""
    console, token = await online_agent(server)
    client, welcome = await visitor(server.ws_url, lang=lang)
    await client.send({"type": "handoff"})
    await client.expect("queued")
    offer = await console.expect("offer")
    await console.send({"type": "accept", "conversation_id": offer["conversation_id"]})
    await console.expect("assigned")
    await client.expect("agent_joined")
    return Chat(client, welcome, console, token, offer["conversation_id"])


@asynccontextmanager
async def database(url: str) -> AsyncIterator[AsyncSession]:
    engine = db.create_engine(url)
    try:
        async with db.session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@asynccontextmanager
async def migrated_engine(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on ``url`` with the schema at head (tests that run their own transactions)."""
    await upgrade_database(url)
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def read_messages(session: AsyncSession, conversation_id: str) -> list[t.Message]:
    """The conversation's stored messages by seq, read in a fresh transaction."""
    try:
        result = await session.execute(
            select(t.Message)
            .where(t.Message.conversation_id == conversation_id)
            .order_by(t.Message.seq)
        )
        return list(result.scalars())
    finally:
        await session.close()  # detached rows keep their values; the next read sees later commits


async def stored_messages(url: str, conversation_id: str) -> list[t.Message]:
    async with database(url) as session:
        return await read_messages(session, conversation_id)


async def events(url: str, conversation_id: str) -> list[str]:
    async with database(url) as session:
        result = await session.execute(
            select(t.ConversationEvent.type)
            .where(t.ConversationEvent.conversation_id == conversation_id)
            .order_by(t.ConversationEvent.id)
        )
        return list(result.scalars())


async def conversation_row(url: str, conversation_id: str) -> t.Conversation:
    async with database(url) as session:
        row = await session.get(t.Conversation, conversation_id)
        assert row is not None
        return row


async def check_integrity(url: str) -> None:
    """The database is sound: SQLite's own check, and per conversation gap-free seqs that
    end at the conversation's ``last_seq`` (client ids unique per sender)."""
    async with database(url) as session:
        if url.startswith("sqlite"):
            assert (await session.execute(text("PRAGMA integrity_check"))).scalar() == "ok"
            assert (await session.execute(text("PRAGMA foreign_key_check"))).all() == []
        # One statement, so one snapshot on both databases: the server may still be storing
        # (bot replies), and a message committed between reading ``last_seq`` and reading the
        # seqs in two statements would look like a gap (SQLite reads outside a transaction,
        # PostgreSQL's READ COMMITTED gives each statement the newest commits).
        rows = (
            await session.execute(
                select(t.Conversation.id, t.Conversation.last_seq, t.Message.seq)
                .outerjoin(t.Message, t.Message.conversation_id == t.Conversation.id)
                .order_by(t.Conversation.id, t.Message.seq)
            )
        ).all()
        seqs: dict[str, list[int]] = {}
        last_seqs: dict[str, int] = {}
        for conversation_id, last_seq, seq in rows:
            last_seqs[conversation_id] = last_seq
            seqs.setdefault(conversation_id, [])
            if seq is not None:
                seqs[conversation_id].append(seq)
        for conversation_id, last_seq in last_seqs.items():
            expected = list(range(1, last_seq + 1))
            assert seqs[conversation_id] == expected, (
                conversation_id,
                last_seq,
                seqs[conversation_id],
            )
        duplicates = (
            await session.execute(
                select(t.Message.conversation_id, t.Message.sender, t.Message.client_id)
                .where(t.Message.client_id.is_not(None))
                .group_by(t.Message.conversation_id, t.Message.sender, t.Message.client_id)
                .having(func.count() > 1)
            )
        ).all()
        assert duplicates == []


async def messages_until(
    client: WsClient, *, last: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every ``message`` frame the client receives up to and including the one matching
    ``last`` (other frame types are left for later ``expect`` calls)."""
    got: list[dict[str, Any]] = []
    while True:
        frame = await client.expect("message")
        got.append(frame)
        if last(frame):
            return got


def has_client_id(client_id: str) -> Callable[[dict[str, Any]], bool]:
    """A frame predicate: the message (or error) answering ``client_id``."""
    return lambda frame: frame.get("client_id") == client_id

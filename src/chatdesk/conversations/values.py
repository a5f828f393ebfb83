"""Domain values for conversations and messages, as the services and transports see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chatdesk.conversations.model import Author, State


def iso(ts: datetime) -> str:
    """ISO-8601 UTC with a ``Z``, millisecond precision (the protocol's ``ts``)."""
    ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class NewMessage:
    conversation_id: str
    author: Author
    sender: str
    author_name: str
    text: str
    client_id: str | None = None
    bot: dict[str, Any] | None = None
    # Stored only if the conversation is (still) in one of these states / owned by this agent.
    expect_states: frozenset[State] | None = None
    expect_agent: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    conversation_id: str
    seq: int
    author: Author
    sender: str
    author_name: str
    text: str
    client_id: str | None
    created_at: datetime
    bot: dict[str, Any] | None = None

    def frame(self, *, for_agent: bool = False) -> dict[str, Any]:
        """The ``message`` frame of the websocket protocol."""
        frame: dict[str, Any] = {
            "type": "message",
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "id": self.id,
            "client_id": self.client_id,
            "author": self.author.value,
            "author_name": self.author_name,
            "text": self.text,
            "ts": iso(self.created_at),
        }
        if self.bot is not None:
            suggestions = self.bot.get("suggestions")
            if suggestions:
                frame["suggestions"] = suggestions
            frame["bot"] = {
                key: self.bot[key] for key in ("entry_id", "outcome", "score") if key in self.bot
            }
            if for_agent and "candidates" in self.bot:
                frame["bot"]["candidates"] = self.bot["candidates"]
        return frame


@dataclass(frozen=True, slots=True)
class ConversationView:
    id: str
    visitor_id: str
    state: State
    lang: str
    department: str | None
    agent_id: str | None
    last_seq: int
    bot_failures: int
    priority: int
    queued_at: datetime | None
    offered_to: str | None
    offer_expires_at: datetime | None
    excluded_agents: frozenset[str]
    created_at: datetime
    closed_at: datetime | None
    last_activity_at: datetime
    assigned_at: datetime | None
    visitor_gone_at: datetime | None
    escalated: bool
    page_url: str | None
    rating: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

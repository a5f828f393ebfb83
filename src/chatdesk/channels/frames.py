"""Client frames of the websocket protocol as pydantic models (docs/protocol.md).

Frames are flat JSON objects with a ``type``. Unknown fields are ignored; an unknown ``type``
is ``unknown_type``; a missing or wrongly typed field is ``bad_frame``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from chatdesk.errors import BadRequestError, ChatdeskError

ClientId = Annotated[str, Field(min_length=1, max_length=64)]
ConversationId = Annotated[str, Field(min_length=1, max_length=64)]


class UnknownTypeError(ChatdeskError):
    code = "unknown_type"
    http_status = 400


class Frame(BaseModel):
    # strict: a wrongly typed field ("on": "yes", "score": "5") is bad_frame, not coerced.
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


# -- visitor -> server ---------------------------------------------------------------------


class Hello(Frame):
    type: Literal["hello"]
    token: str | None = None
    lang: str | None = Field(default=None, max_length=16)
    page_url: str | None = Field(default=None, max_length=2000)
    conversation_id: str | None = Field(default=None, max_length=64)
    after_seq: int | None = Field(default=None, ge=0)
    department: str | None = Field(default=None, max_length=100)


class VisitorMessage(Frame):
    type: Literal["message"]
    client_id: ClientId
    text: str


class Typing(Frame):
    type: Literal["typing"]
    on: bool


class Handoff(Frame):
    type: Literal["handoff"]


class Choose(Frame):
    type: Literal["choose"]
    entry_id: str = Field(min_length=1, max_length=200)


class Feedback(Frame):
    type: Literal["feedback"]
    message_id: str = Field(min_length=1, max_length=64)
    helpful: bool


class LeaveMessage(Frame):
    type: Literal["leave_message"]
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    text: str = Field(min_length=1)


class Rating(Frame):
    type: Literal["rating"]
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class Close(Frame):
    type: Literal["close"]


VisitorFrame = Annotated[
    Hello | VisitorMessage | Typing | Handoff | Choose | Feedback | LeaveMessage | Rating | Close,
    Field(discriminator="type"),
]

# -- agent -> server -----------------------------------------------------------------------


class Auth(Frame):
    type: Literal["auth"]
    token: str | None = None
    resume: dict[ConversationId, Annotated[int, Field(ge=0)]] | None = None


class SetStatus(Frame):
    type: Literal["status"]
    status: Literal["online", "away", "offline"]
    auto_accept: bool | None = None


class OnConversation(Frame):
    conversation_id: ConversationId


class Accept(OnConversation):
    type: Literal["accept"]


class Decline(OnConversation):
    type: Literal["decline"]


class AgentMessage(OnConversation):
    type: Literal["message"]
    client_id: ClientId
    text: str


class Note(OnConversation):
    type: Literal["note"]
    text: str


class AgentTyping(OnConversation):
    type: Literal["typing"]
    on: bool


class Transfer(OnConversation):
    type: Literal["transfer"]
    to_agent_id: str | None = Field(default=None, max_length=64)
    to_department: str | None = Field(default=None, max_length=100)
    note: str | None = None


class Escalate(OnConversation):
    type: Literal["escalate"]


class Watch(OnConversation):
    type: Literal["watch"]


class Takeover(OnConversation):
    type: Literal["takeover"]


class Handback(OnConversation):
    type: Literal["handback"]


class AgentClose(OnConversation):
    type: Literal["close"]


AgentFrame = Annotated[
    Auth
    | SetStatus
    | Accept
    | Decline
    | AgentMessage
    | Note
    | AgentTyping
    | Transfer
    | Escalate
    | Watch
    | Takeover
    | Handback
    | AgentClose,
    Field(discriminator="type"),
]

_VISITOR = TypeAdapter[Any](VisitorFrame)
_AGENT = TypeAdapter[Any](AgentFrame)
VISITOR_TYPES = frozenset(
    {
        "hello",
        "message",
        "typing",
        "handoff",
        "choose",
        "feedback",
        "leave_message",
        "rating",
        "close",
    }
)
AGENT_TYPES = frozenset(
    {
        "auth",
        "status",
        "accept",
        "decline",
        "message",
        "note",
        "typing",
        "transfer",
        "escalate",
        "watch",
        "takeover",
        "handback",
        "close",
    }
)


def _decode(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequestError("frame is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadRequestError("frame must be a JSON object")
    if not isinstance(data.get("type"), str):
        raise BadRequestError("frame has no string 'type'")
    return data


def _validate(adapter: TypeAdapter[Any], data: dict[str, Any], known: frozenset[str]) -> Any:
    if data["type"] not in known:
        raise UnknownTypeError(f"unknown frame type {data['type'][:40]!r}")
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
        raise BadRequestError(f"{where}: {first['msg']}") from exc


def parse_visitor_frame(raw: str) -> Any:
    """A visitor frame model; ``BadRequestError`` / ``UnknownTypeError`` otherwise."""
    return _validate(_VISITOR, _decode(raw), VISITOR_TYPES)


def parse_agent_frame(raw: str) -> Any:
    return _validate(_AGENT, _decode(raw), AGENT_TYPES)


def client_id_of(raw: str) -> str | None:
    """Best effort: the ``client_id`` of a frame that failed validation, to echo in the error."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    value = data.get("client_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None

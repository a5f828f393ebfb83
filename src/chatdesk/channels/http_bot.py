"""``POST /api/v1/bot/ask`` (public contract) and the admin views of the bot."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.bot.unanswered import Miss, draft_yaml, group_misses
from chatdesk.channels.auth import AdminAgent
from chatdesk.channels.deps import RuntimeDep
from chatdesk.conversations.model import Author
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t

router = APIRouter(tags=["bot"])
MAX_QUESTION_CHARS = 2000
UNANSWERED_LIMIT = 5000  # the newest misses grouped per request; older ones are history


class AskRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    lang: str | None = Field(default=None, max_length=16)
    conversation_id: str | None = Field(default=None, max_length=64)


class SuggestionOut(BaseModel):
    entry_id: str
    question: str
    score: float


class AskResponse(BaseModel):
    outcome: Literal["answer", "suggest", "handoff"]
    lang: str
    entry_id: str | None
    answer: str | None
    score: float
    suggestions: list[SuggestionOut]


@router.post("/api/v1/bot/ask")
async def ask(body: AskRequest, runtime: RuntimeDep) -> AskResponse:
    """Ask the FAQ bot; stateless unless ``conversation_id`` names a conversation."""
    conversation_lang = None
    failures = 0
    if body.conversation_id is not None:
        async with runtime.sessions() as session:
            conversation = await repo.get_conversation(session, body.conversation_id)
        if conversation is not None:
            conversation_lang, failures = conversation.lang, conversation.bot_failures
    engine = runtime.faq.engine
    hint = body.lang.lower().split("-")[0] if body.lang else None
    if hint not in engine.languages:
        hint = None  # an unsupported hint is ignored
    reply = await runtime.faq.ask(
        body.text, lang_hint=hint, conversation_lang=conversation_lang, failures_in_row=failures
    )
    return AskResponse(
        outcome=reply.outcome,
        lang=reply.lang,
        entry_id=reply.entry_id,
        answer=reply.answer,
        score=round(reply.score, 4),
        suggestions=[
            SuggestionOut(entry_id=s.entry_id, question=s.question, score=round(s.score, 4))
            for s in reply.suggestions
        ],
    )


async def _misses(runtime: RuntimeDep) -> list[Miss]:
    """The newest misses, each with the first human reply that followed it (if any): that
    reply seeds the draft FAQ answer."""
    async with runtime.sessions() as session:
        rows = list(
            (
                await session.execute(
                    select(t.BotMiss).order_by(t.BotMiss.created_at.desc()).limit(UNANSWERED_LIMIT)
                )
            ).scalars()
        )
        replies = await _first_agent_replies(session, rows)
    return [
        Miss(
            id=row.id,
            text=row.text,
            lang=row.lang,
            outcome=row.outcome,
            entry_id=row.entry_id,
            score=row.score,
            conversation_id=row.conversation_id,
            agent_reply=replies.get(row.id),
            created_at=row.created_at,
        )
        for row in rows
        if row.text.strip()
    ]


async def _first_agent_replies(session: AsyncSession, misses: list[t.BotMiss]) -> dict[str, str]:
    message_ids = [m.message_id for m in misses if m.message_id]
    conversation_ids = sorted({m.conversation_id for m in misses if m.conversation_id})
    if not message_ids or not conversation_ids:
        return {}
    seq_of = dict(
        (
            await session.execute(
                select(t.Message.id, t.Message.seq).where(t.Message.id.in_(message_ids))
            )
        ).all()
    )
    agent_messages: dict[str, list[tuple[int, str]]] = {}
    for conversation_id, seq, text in (
        await session.execute(
            select(t.Message.conversation_id, t.Message.seq, t.Message.text)
            .where(
                t.Message.conversation_id.in_(conversation_ids),
                t.Message.author == Author.AGENT.value,
            )
            .order_by(t.Message.seq)
        )
    ).all():
        agent_messages.setdefault(conversation_id, []).append((seq, text))
    replies: dict[str, str] = {}
    for miss in misses:
        after = seq_of.get(miss.message_id or "")
        if after is None or miss.conversation_id is None:
            continue
        reply = next(
            (text for seq, text in agent_messages.get(miss.conversation_id, []) if seq > after),
            None,
        )
        if reply is not None:
            replies[miss.id] = reply
    return replies


@router.get("/api/v1/admin/unanswered")
async def unanswered(runtime: RuntimeDep, _admin: AdminAgent) -> dict[str, object]:
    """Questions the bot did not answer well, near-duplicates grouped, largest group first."""
    groups = group_misses(await _misses(runtime))
    return {
        "groups": [
            {
                "key": group.key,
                "representative": group.representative,
                "lang": group.lang,
                "count": group.count,
                "best_entry_id": group.best_entry_id,
                "examples": [
                    {
                        "text": miss.text,
                        "outcome": miss.outcome,
                        "score": miss.score,
                        "conversation_id": miss.conversation_id,
                        "agent_reply": miss.agent_reply,
                        "created_at": miss.created_at.isoformat(),
                    }
                    for miss in group.misses[:10]
                ],
            }
            for group in groups
        ]
    }


@router.get("/api/v1/admin/unanswered/export", response_class=PlainTextResponse)
async def export_unanswered(runtime: RuntimeDep, _admin: AdminAgent) -> str:
    """Draft FAQ entries (YAML) for the groups, answers seeded with agents' replies."""
    return draft_yaml(group_misses(await _misses(runtime)))


@router.get("/api/v1/admin/faq/status")
async def faq_status(runtime: RuntimeDep, _admin: AdminAgent) -> dict[str, object]:
    status = runtime.faq.status()
    return {
        "directory": status.directory,
        "entries": status.entries,
        "languages": list(status.languages),
        "loaded_at": status.loaded_at.isoformat() if status.loaded_at else None,
        "ok": status.ok,
        "semantic": status.semantic,
        "problems": [
            {"file": p.file, "line": p.line, "message": p.message} for p in status.problems
        ],
    }

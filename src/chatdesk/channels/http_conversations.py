"""REST for the agent console: conversation details, pending list, quick replies, and the
supervisor's overview of the floor. Live changes arrive over ``/ws/agent``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from chatdesk.canned import load_canned, replies_for
from chatdesk.channels.auth import CurrentAgent, SupervisorAgent
from chatdesk.channels.deps import RuntimeDep
from chatdesk.conversations.model import WAITING_STATES, State
from chatdesk.conversations.values import iso
from chatdesk.errors import ForbiddenError, NotFoundError
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t

router = APIRouter(tags=["conversations"])
LIST_LIMIT = 200


@router.get("/api/v1/conversations/{conversation_id}")
async def conversation_detail(
    conversation_id: str, runtime: RuntimeDep, agent: CurrentAgent
) -> dict[str, Any]:
    """History (with private notes and the bot's scores), visitor context, earlier chats."""
    async with runtime.sessions() as session:
        conversation = await repo.get_conversation(session, conversation_id)
        if conversation is None:
            raise NotFoundError("no such conversation")
        supervisor = agent.role in ("supervisor", "admin")
        if (
            not supervisor
            and conversation.agent_id != agent.id
            and conversation.state
            not in (
                State.PENDING,
                State.OFFERED,
                State.QUEUED,
            )
        ):
            raise ForbiddenError("this conversation is not yours")
        messages = await repo.messages_after(session, conversation_id, 0, include_notes=True)
        visitor = await repo.visitor_info(session, conversation.visitor_id)
        earlier = [
            c
            for c in await repo.visitor_conversations(session, conversation.visitor_id)
            if c.id != conversation_id
        ]
        earlier_out = []
        for other in earlier:
            last = await repo.messages_after(session, other.id, max(0, other.last_seq - 1))
            earlier_out.append(
                {
                    "id": other.id,
                    "state": other.state.value,
                    "created_at": iso(other.created_at),
                    "closed_at": iso(other.closed_at) if other.closed_at else None,
                    "last_text": last[-1].text if last else "",
                }
            )
    return {
        "id": conversation.id,
        "state": conversation.state.value,
        "lang": conversation.lang,
        "department": conversation.department,
        "agent_id": conversation.agent_id,
        "page_url": conversation.page_url,
        "rating": conversation.rating,
        "visitor": visitor,
        "messages": [m.frame(for_agent=True) for m in messages],
        "earlier": earlier_out,
    }


@router.get("/api/v1/conversations")
async def list_conversations(
    runtime: RuntimeDep,
    _agent: CurrentAgent,
    state: Literal["pending", "queued", "offered", "assigned"] = Query(default="pending"),
) -> list[dict[str, Any]]:
    """Open conversations in one state, oldest first (``pending``: left messages to take)."""
    async with runtime.sessions() as session:
        conversations = await repo.conversations_in_states(
            session, (State(state),), limit=LIST_LIMIT
        )
        out = []
        for conversation in conversations:
            visitor = await repo.visitor_info(session, conversation.visitor_id)
            left = (
                await session.execute(
                    select(t.LeftMessage.text)
                    .where(t.LeftMessage.conversation_id == conversation.id)
                    .order_by(t.LeftMessage.created_at.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            out.append(
                {
                    "id": conversation.id,
                    "state": conversation.state.value,
                    "lang": conversation.lang,
                    "department": conversation.department,
                    "created_at": iso(conversation.created_at),
                    "preview": (left or "")[:200],
                    "visitor_email": visitor.get("email"),
                }
            )
    return out


@router.get("/api/v1/quick-replies")
async def quick_replies(
    runtime: RuntimeDep, _agent: CurrentAgent, lang: str = Query(default="en", max_length=16)
) -> dict[str, Any]:
    """FAQ answers in the conversation's language and the team's canned replies."""
    code = runtime.faq_language(lang)
    faq = [
        {"entry_id": reply.entry_id, "question": reply.question, "answer": reply.answer}
        for reply in runtime.faq.engine.quick_replies(code)
    ]
    canned = replies_for(
        load_canned(runtime.settings.canned_replies_file), code, runtime.settings.default_language
    )
    return {"lang": code, "faq": faq, "canned": canned}


@router.get("/api/v1/supervisor/overview")
async def overview(runtime: RuntimeDep, _supervisor: SupervisorAgent) -> dict[str, Any]:
    """The live floor: queue with waits and positions, agents with load, open chats."""
    now = runtime.clock()
    async with runtime.sessions() as session:
        views, rows = await runtime.router.agent_views(session, now)
        waiting = await repo.conversations_in_states(session, WAITING_STATES)
        assigned = await repo.conversations_in_states(session, (State.ASSIGNED,))
    estimates = runtime.router.overview_estimates(
        waiting, views, await runtime.router.handle_time()
    )
    names = {row_id: row.name for row_id, row in rows.items()}
    return {
        "queue": [
            {
                "conversation_id": c.id,
                "state": c.state.value,
                "lang": c.lang,
                "department": c.department,
                "priority": c.priority,
                "escalated": c.escalated,
                "offered_to": c.offered_to,
                "waiting_s": int((now - (c.queued_at or c.created_at)).total_seconds()),
                "position": estimates.get(c.id, (None, None))[0],
                "eta_seconds": estimates.get(c.id, (None, None))[1],
            }
            for c in sorted(waiting, key=lambda c: (-c.priority, c.queued_at or c.created_at))
        ],
        "agents": [
            {
                "id": view.id,
                "name": names.get(view.id, ""),
                "role": rows[view.id].role,
                "status": view.status,
                "connected": view.connected,
                "languages": sorted(view.languages),
                "departments": sorted(view.departments),
                "active_chats": view.active_chats,
                "pending_offers": view.pending_offers,
                "max_chats": view.max_chats,
            }
            for view in views
        ],
        "conversations": [
            {
                "id": c.id,
                "state": c.state.value,
                "agent_id": c.agent_id,
                "agent_name": names.get(c.agent_id or "", ""),
                "lang": c.lang,
                "since_s": int((now - (c.assigned_at or c.created_at)).total_seconds()),
            }
            for c in assigned
        ],
    }

"""Repositories: domain verbs over the tables, returning domain values (never ORM rows).

Every state change of a conversation is a *conditional* update (``WHERE state IN (...)``),
so two processes racing on the same conversation cannot both win: the database is the
authority. Callers check the returned row count / value and treat a lost race as
``IllegalStateError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.clock import new_id
from chatdesk.conversations.model import OPEN_STATES, Author, State
from chatdesk.conversations.values import ConversationView, NewMessage, StoredMessage
from chatdesk.errors import NotFoundError
from chatdesk.storage import tables as t


def _split(value: str) -> frozenset[str]:
    return frozenset(part for part in value.split(",") if part)


def conversation_view(row: t.Conversation) -> ConversationView:
    return ConversationView(
        id=row.id,
        visitor_id=row.visitor_id,
        state=State(row.state),
        lang=row.lang,
        department=row.department,
        agent_id=row.agent_id,
        last_seq=row.last_seq,
        bot_failures=row.bot_failures,
        priority=row.priority,
        queued_at=row.queued_at,
        offered_to=row.offered_to,
        offer_expires_at=row.offer_expires_at,
        excluded_agents=_split(row.excluded_agents),
        created_at=row.created_at,
        closed_at=row.closed_at,
        last_activity_at=row.last_activity_at,
        assigned_at=row.assigned_at,
        visitor_gone_at=row.visitor_gone_at,
        escalated=row.escalated,
        page_url=row.page_url,
        rating=row.rating,
    )


def message_value(row: t.Message | Row[Any]) -> StoredMessage:
    """A stored message from an ORM row or a Core row of ``messages``."""
    return StoredMessage(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        author=Author(row.author),
        sender=row.sender,
        author_name=row.author_name,
        text=row.text,
        client_id=row.client_id,
        created_at=row.created_at,
        bot=row.bot,
    )


# -- visitors ---------------------------------------------------------------------------


async def create_visitor(
    session: AsyncSession, *, now: datetime, lang: str | None, page_url: str | None
) -> str:
    visitor_id = new_id()
    session.add(
        t.Visitor(id=visitor_id, created_at=now, last_seen_at=now, lang=lang, page_url=page_url)
    )
    return visitor_id


async def visitor_exists(session: AsyncSession, visitor_id: str) -> bool:
    return await session.get(t.Visitor, visitor_id) is not None


async def touch_visitor(
    session: AsyncSession,
    visitor_id: str,
    *,
    now: datetime,
    lang: str | None = None,
    page_url: str | None = None,
    email: str | None = None,
) -> None:
    values: dict[str, Any] = {"last_seen_at": now}
    if lang:
        values["lang"] = lang
    if page_url:
        values["page_url"] = page_url
    if email:
        values["email"] = email
    await session.execute(update(t.Visitor).where(t.Visitor.id == visitor_id).values(**values))


async def visitor_info(session: AsyncSession, visitor_id: str) -> dict[str, Any]:
    row = await session.get(t.Visitor, visitor_id)
    if row is None:
        return {"id": visitor_id}
    return {"id": row.id, "lang": row.lang, "page_url": row.page_url, "email": row.email}


# -- conversations ----------------------------------------------------------------------


async def create_conversation(
    session: AsyncSession,
    *,
    visitor_id: str,
    lang: str,
    department: str | None,
    page_url: str | None,
    now: datetime,
    channel: str = "web",
) -> ConversationView:
    row = t.Conversation(
        id=new_id(),
        visitor_id=visitor_id,
        state=State.BOT.value,
        lang=lang,
        department=department,
        channel=channel,
        last_seq=0,
        bot_failures=0,
        priority=0,
        excluded_agents="",
        escalated=False,
        page_url=page_url,
        created_at=now,
        last_activity_at=now,
    )
    session.add(row)
    await session.flush()
    return conversation_view(row)


async def get_conversation(session: AsyncSession, conversation_id: str) -> ConversationView | None:
    row = await session.get(t.Conversation, conversation_id, populate_existing=True)
    return None if row is None else conversation_view(row)


async def lock_conversation(session: AsyncSession, conversation_id: str) -> ConversationView | None:
    """Read a conversation under a row lock (PostgreSQL); SQLite serialises writers anyway.

    ``FOR NO KEY UPDATE``: it excludes every other writer of the row, yet lets other
    transactions insert rows that reference the conversation (their foreign key check only
    key-share-locks it); no update under this lock changes the conversation's id.
    """
    result = await session.execute(
        select(t.Conversation)
        .where(t.Conversation.id == conversation_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    row = result.scalar_one_or_none()
    return None if row is None else conversation_view(row)


async def latest_conversation(session: AsyncSession, visitor_id: str) -> ConversationView | None:
    result = await session.execute(
        select(t.Conversation)
        .where(t.Conversation.visitor_id == visitor_id)
        .order_by(t.Conversation.created_at.desc(), t.Conversation.id.desc())
        .limit(1)
    )
    row = result.scalar_one_or_none()
    return None if row is None else conversation_view(row)


async def visitor_conversations(
    session: AsyncSession, visitor_id: str, *, limit: int = 20
) -> list[ConversationView]:
    result = await session.execute(
        select(t.Conversation)
        .where(t.Conversation.visitor_id == visitor_id)
        .order_by(t.Conversation.created_at.desc())
        .limit(limit)
    )
    return [conversation_view(row) for row in result.scalars()]


async def update_conversation(
    session: AsyncSession,
    conversation_id: str,
    *,
    from_states: Iterable[State] | None = None,
    where_agent: str | None = None,
    where_offered_to: str | None = None,
    unchanged: dict[str, Any] | None = None,
    **values: Any,
) -> bool:
    """A conditional update: applied only if the row is still in one of ``from_states``.

    ``unchanged`` maps column names to the values read before deciding (None: still NULL),
    so a decision taken on a read outside the write's transaction (SQLite reads before the
    first write are not in it) is applied only if the row still looks the same.
    """
    stmt = update(t.Conversation).where(t.Conversation.id == conversation_id)
    for column_name, expected in (unchanged or {}).items():
        column = getattr(t.Conversation, column_name)
        stmt = stmt.where(column.is_(None) if expected is None else column == expected)
    if from_states is not None:
        stmt = stmt.where(t.Conversation.state.in_([state.value for state in from_states]))
    if where_agent is not None:
        stmt = stmt.where(t.Conversation.agent_id == where_agent)
    if where_offered_to is not None:
        stmt = stmt.where(t.Conversation.offered_to == where_offered_to)
    if "state" in values and isinstance(values["state"], State):
        values["state"] = values["state"].value
    if "excluded_agents" in values and not isinstance(values["excluded_agents"], str):
        values["excluded_agents"] = ",".join(sorted(values["excluded_agents"]))
    result = await session.execute(stmt.values(**values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def conversations_in_states(
    session: AsyncSession, states: Iterable[State], *, limit: int = 10_000
) -> list[ConversationView]:
    result = await session.execute(
        select(t.Conversation)
        .where(t.Conversation.state.in_([state.value for state in states]))
        .order_by(t.Conversation.created_at)
        .limit(limit)
    )
    return [conversation_view(row) for row in result.scalars()]


async def agent_conversations(
    session: AsyncSession, agent_id: str, *, states: Iterable[State] = (State.ASSIGNED,)
) -> list[ConversationView]:
    result = await session.execute(
        select(t.Conversation)
        .where(
            t.Conversation.agent_id == agent_id,
            t.Conversation.state.in_([state.value for state in states]),
        )
        .order_by(t.Conversation.assigned_at)
    )
    return [conversation_view(row) for row in result.scalars()]


async def active_chat_counts(session: AsyncSession) -> dict[str, int]:
    """Per agent: assigned conversations plus pending offers (both count toward capacity)."""
    counts: dict[str, int] = {}
    assigned = await session.execute(
        select(t.Conversation.agent_id, func.count())
        .where(t.Conversation.state == State.ASSIGNED.value)
        .group_by(t.Conversation.agent_id)
    )
    for agent_id, count in assigned.all():
        if agent_id is not None:
            counts[agent_id] = counts.get(agent_id, 0) + int(count)
    offered = await session.execute(
        select(t.Conversation.offered_to, func.count())
        .where(t.Conversation.state == State.OFFERED.value)
        .group_by(t.Conversation.offered_to)
    )
    for agent_id, count in offered.all():
        if agent_id is not None:
            counts[agent_id] = counts.get(agent_id, 0) + int(count)
    return counts


async def load_for_agent(session: AsyncSession, agent_id: str) -> int:
    """Assigned conversations plus pending offers of one agent (read under the agent's lock)."""
    result = await session.execute(
        select(func.count()).where(
            ((t.Conversation.agent_id == agent_id) & (t.Conversation.state == "assigned"))
            | ((t.Conversation.offered_to == agent_id) & (t.Conversation.state == "offered"))
        )
    )
    return int(result.scalar_one())


async def record_event(
    session: AsyncSession,
    conversation_id: str,
    event_type: str,
    *,
    now: datetime,
    actor: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        t.ConversationEvent(
            conversation_id=conversation_id,
            type=event_type,
            actor=actor,
            data=data or {},
            created_at=now,
        )
    )


async def events_of(
    session: AsyncSession, conversation_id: str
) -> list[tuple[str, str, dict[str, Any]]]:
    result = await session.execute(
        select(t.ConversationEvent)
        .where(t.ConversationEvent.conversation_id == conversation_id)
        .order_by(t.ConversationEvent.id)
    )
    return [(row.type, row.actor, row.data) for row in result.scalars()]


# -- messages ---------------------------------------------------------------------------


async def messages_after(
    session: AsyncSession,
    conversation_id: str,
    after_seq: int = 0,
    *,
    include_notes: bool = False,
    limit: int = 10_000,
) -> list[StoredMessage]:
    stmt = (
        select(t.Message)
        .where(t.Message.conversation_id == conversation_id, t.Message.seq > after_seq)
        .order_by(t.Message.seq)
        .limit(limit)
    )
    if not include_notes:
        stmt = stmt.where(t.Message.author != Author.NOTE.value)
    result = await session.execute(stmt)
    return [message_value(row) for row in result.scalars()]


async def get_message(session: AsyncSession, message_id: str) -> StoredMessage | None:
    row = await session.get(t.Message, message_id)
    return None if row is None else message_value(row)


async def append_messages(
    session: AsyncSession, items: Sequence[NewMessage], *, now: datetime
) -> list[tuple[StoredMessage, bool]]:
    """Store messages of ONE conversation, allocating gap-free seqs in this transaction.

    Returns, per item, the stored message and whether it was created now (False: the
    ``client_id`` was already stored by that sender, and the earlier message is returned).
    """
    if not items:
        return []
    conversation_id = items[0].conversation_id
    existing: dict[tuple[str, str], StoredMessage] = {}
    keyed = [(item.sender, item.client_id) for item in items if item.client_id is not None]
    if keyed:
        senders = {sender for sender, _ in keyed}
        client_ids = {client_id for _, client_id in keyed}
        result = await session.execute(
            select(t.Message).where(
                t.Message.conversation_id == conversation_id,
                t.Message.sender.in_(senders),
                t.Message.client_id.in_(client_ids),
            )
        )
        for row in result.scalars():
            existing[(row.sender, row.client_id or "")] = message_value(row)
    fresh = _first_of_each_client_id(items, existing)
    rows: list[t.Message] = []
    if fresh:
        result = await session.execute(
            update(t.Conversation)
            .where(t.Conversation.id == conversation_id)
            .values(last_seq=t.Conversation.last_seq + len(fresh), last_activity_at=now)
            .returning(t.Conversation.last_seq)
        )
        last_seq = cast("int | None", result.scalar_one_or_none())
        if last_seq is None:
            raise NotFoundError("no such conversation")
        rows = [
            t.Message(
                id=new_id(),
                conversation_id=conversation_id,
                seq=last_seq - len(fresh) + 1 + offset,
                author=item.author.value,
                sender=item.sender,
                author_name=item.author_name,
                text=item.text,
                client_id=item.client_id,
                created_at=now,
                bot=item.bot,
            )
            for offset, item in enumerate(fresh)
        ]
        session.add_all(rows)
    created = {id(item): message_value(row) for item, row in zip(fresh, rows, strict=True)}
    for item, message in zip(fresh, created.values(), strict=True):
        if item.client_id is not None:
            existing.setdefault((item.sender, item.client_id), message)
    out: list[tuple[StoredMessage, bool]] = []
    for item in items:
        if id(item) in created:
            out.append((created[id(item)], True))
        else:
            out.append((existing[(item.sender, item.client_id or "")], False))
    return out


def _first_of_each_client_id(
    items: Sequence[NewMessage], existing: dict[tuple[str, str], StoredMessage]
) -> list[NewMessage]:
    """Items to insert: not stored before, and the first of any repeat inside the batch."""
    fresh: list[NewMessage] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if item.client_id is not None:
            key = (item.sender, item.client_id)
            if key in existing or key in seen:
                continue
            seen.add(key)
        fresh.append(item)
    return fresh


async def set_helpful(
    session: AsyncSession, *, message_id: str, conversation_id: str, helpful: bool
) -> StoredMessage | None:
    row = await session.get(t.Message, message_id)
    if row is None or row.conversation_id != conversation_id or row.author != Author.BOT.value:
        return None
    row.helpful = helpful
    return message_value(row)


def is_open(state: State) -> bool:
    return state in OPEN_STATES

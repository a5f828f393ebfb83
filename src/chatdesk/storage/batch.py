"""Store a batch of messages of many conversations in a fixed handful of statements.

The group committer's hot path, in SQLAlchemy Core (no ORM unit of work): whatever the
batch size, one transaction runs

1. (PostgreSQL) ``SELECT … FOR NO KEY UPDATE`` of the batch's conversations in id order, so
   two processes writing the same conversations lock them in the same order (no deadlock),
   while other transactions may still insert rows that reference them (their foreign key
   check takes only a key-share lock; nothing here changes a conversation's id);
2. ``UPDATE conversations SET last_activity_at … RETURNING`` — the first *write*, so on
   SQLite the transaction holds the write lock from here on and the snapshot it returns
   (state, owner, ``last_seq``) cannot change under it;
3. one ``SELECT`` of already stored ``client_id``s (idempotent re-sends);
4. one ``INSERT`` of the new rows and one ``UPDATE`` of ``last_seq`` (both executemany).

Seqs continue each conversation's ``last_seq`` without gaps, in batch order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.clock import new_id
from chatdesk.conversations.model import State
from chatdesk.conversations.values import NewMessage, StoredMessage
from chatdesk.errors import ChatdeskError, IllegalStateError, NotFoundError
from chatdesk.storage import tables as t
from chatdesk.storage.repositories import message_value


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The conversation as it was when the message was stored (same transaction)."""

    id: str
    state: State
    agent_id: str | None
    visitor_id: str
    lang: str
    bot_failures: int


@dataclass(frozen=True, slots=True)
class Appended:
    message: StoredMessage
    created: bool  # False: this sender's client_id was stored before; this is that message
    conversation: Snapshot


Outcome = Appended | ChatdeskError

_CONVERSATIONS = t.Conversation.__table__
assert isinstance(_CONVERSATIONS, Table)
_SET_LAST_SEQ = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("cid"))
    .values(last_seq=bindparam("last"))
)


async def append_batch(
    session: AsyncSession, items: Sequence[NewMessage], *, now: datetime
) -> list[Outcome]:
    """Store ``items`` (any conversations) in the session's transaction; one outcome each.

    An item whose conversation is missing, or not in ``expect_states`` / owned by
    ``expect_agent``, gets an error and stores nothing; a re-sent ``client_id`` gets the
    stored message back (checked first, so a re-send after the conversation moved on is
    still acknowledged).
    """
    ids = sorted({item.conversation_id for item in items})
    conv = t.Conversation.__table__
    assert isinstance(conv, Table)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            select(conv.c.id)
            .where(conv.c.id.in_(ids))
            .order_by(conv.c.id)
            .with_for_update(key_share=True)
        )
    rows = await session.execute(
        update(conv)
        .where(conv.c.id.in_(ids))
        .values(last_activity_at=now)
        .returning(
            conv.c.id,
            conv.c.state,
            conv.c.agent_id,
            conv.c.visitor_id,
            conv.c.lang,
            conv.c.bot_failures,
            conv.c.last_seq,
        )
    )
    snapshots: dict[str, Snapshot] = {}
    last_seq: dict[str, int] = {}
    for row in rows:
        snapshots[row.id] = Snapshot(
            id=row.id,
            state=State(row.state),
            agent_id=row.agent_id,
            visitor_id=row.visitor_id,
            lang=row.lang,
            bot_failures=row.bot_failures,
        )
        last_seq[row.id] = row.last_seq
    stored = await _stored_client_ids(session, items, ids)
    outcomes: list[Outcome] = []
    new_rows: list[dict[str, Any]] = []
    for item in items:
        snapshot = snapshots.get(item.conversation_id)
        if snapshot is None:
            outcomes.append(NotFoundError("no such conversation"))
            continue
        key = (item.conversation_id, item.sender, item.client_id)
        if item.client_id is not None and key in stored:
            outcomes.append(Appended(stored[key], created=False, conversation=snapshot))
            continue
        refused = _refusal(item, snapshot)
        if refused is not None:
            outcomes.append(refused)
            continue
        seq = last_seq[item.conversation_id] + 1
        last_seq[item.conversation_id] = seq
        message = StoredMessage(
            id=new_id(),
            conversation_id=item.conversation_id,
            seq=seq,
            author=item.author,
            sender=item.sender,
            author_name=item.author_name,
            text=item.text,
            client_id=item.client_id,
            created_at=now,
            bot=item.bot,
        )
        if item.client_id is not None:
            stored[key] = message
        new_rows.append(_row(message))
        outcomes.append(Appended(message, created=True, conversation=snapshot))
    if new_rows:
        await session.execute(insert(t.Message), new_rows)
        changed = sorted({row["conversation_id"] for row in new_rows})
        # executemany of one fixed statement: compiled once and cached, whatever the batch
        # (a CASE over the batch's ids would be compiled anew for every batch size).
        await session.execute(
            _SET_LAST_SEQ, [{"cid": cid, "last": last_seq[cid]} for cid in changed]
        )
    return outcomes


def _refusal(item: NewMessage, snapshot: Snapshot) -> ChatdeskError | None:
    if item.expect_states is not None and snapshot.state not in item.expect_states:
        return IllegalStateError(f"the conversation is {snapshot.state.value}")
    if item.expect_agent is not None and snapshot.agent_id != item.expect_agent:
        return IllegalStateError("only the assigned agent can write in this conversation")
    return None


async def _stored_client_ids(
    session: AsyncSession, items: Sequence[NewMessage], ids: list[str]
) -> dict[tuple[str, str, str | None], StoredMessage]:
    client_ids = sorted({item.client_id for item in items if item.client_id is not None})
    if not client_ids:
        return {}
    table = t.Message.__table__
    assert isinstance(table, Table)
    result = await session.execute(
        select(table).where(table.c.conversation_id.in_(ids), table.c.client_id.in_(client_ids))
    )
    return {(row.conversation_id, row.sender, row.client_id): message_value(row) for row in result}


def _row(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "seq": message.seq,
        "author": message.author.value,
        "sender": message.sender,
        "author_name": message.author_name,
        "text": message.text,
        "client_id": message.client_id,
        "created_at": message.created_at,
        "bot": message.bot,
        "helpful": None,
    }

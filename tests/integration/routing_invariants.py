"""The routing invariants, checked from the stored event log (shared by the load test, the
naive control and ``bench/routing_load.py``).

Every lifecycle transition is stored as a ``conversation_events`` row. Replaying them in id
order rebuilds, for each conversation, who held it (an offer or an assignment) and, for
each agent, how many conversations they held at every step. Ids come from one sequence
and a transaction that depends on another's commit (an offer after a close freed the seat)
inserts after that commit, so id order respects every cause and effect the invariants are
about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.storage import tables as t

# Events after which nobody holds the conversation any more.
RELEASING = frozenset(
    {"offer_declined", "offer_expired", "requeued", "handed_back", "dequeued", "closed"}
)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    conversation_id: str
    type: str
    actor: str
    data: Mapping[str, Any]


@dataclass
class Report:
    """What the replay found: violations, and numbers worth printing."""

    violations: list[str] = field(default_factory=list)
    assigned_conversations: set[str] = field(default_factory=set)
    closed_by_system: set[str] = field(default_factory=set)
    max_load: dict[str, int] = field(default_factory=dict)
    assignments: int = 0
    offers: int = 0
    declines: int = 0
    expiries: int = 0
    requeues: int = 0


def check_events(events: Iterable[Event], max_chats: Mapping[str, int]) -> Report:
    """Replay ``events`` (in id order) and report every broken invariant.

    - an ``assigned`` event only for a conversation nobody holds, or that is offered to
      that same agent (an accept): never two agents on one conversation;
    - an ``offered`` event only for a conversation nobody holds;
    - an agent's held conversations (assigned plus offered) never above ``max_chats``.
    """
    report = Report()
    holder: dict[str, tuple[str, str]] = {}  # conversation -> (agent, "offered"|"assigned")
    load: dict[str, int] = {}

    def take(conversation_id: str, agent_id: str, kind: str, event: Event) -> None:
        load[agent_id] = load.get(agent_id, 0) + 1
        holder[conversation_id] = (agent_id, kind)
        report.max_load[agent_id] = max(report.max_load.get(agent_id, 0), load[agent_id])
        limit = max_chats.get(agent_id)
        if limit is not None and load[agent_id] > limit:
            report.violations.append(
                f"event {event.id}: agent {agent_id} holds {load[agent_id]} > max_chats {limit}"
            )

    def release(conversation_id: str) -> None:
        held = holder.pop(conversation_id, None)
        if held is not None:
            load[held[0]] -= 1

    for event in events:
        cid = event.conversation_id
        if event.type == "offered":
            report.offers += 1
            if cid in holder:
                report.violations.append(
                    f"event {event.id}: {cid} offered to {event.data.get('agent_id')} while "
                    f"{holder[cid][1]} to {holder[cid][0]}"
                )
                release(cid)
            take(cid, str(event.data["agent_id"]), "offered", event)
        elif event.type in ("assigned", "transferred", "taken_over"):
            agent_id = str(event.data.get("agent_id") or event.data.get("to"))
            held = holder.get(cid)
            if event.type == "assigned" and held is not None and held != (agent_id, "offered"):
                report.violations.append(
                    f"event {event.id}: {cid} assigned to {agent_id} while {held[1]} to {held[0]}"
                )
            release(cid)
            take(cid, agent_id, "assigned", event)
            report.assignments += event.type == "assigned"
            report.assigned_conversations.add(cid)
        elif event.type in RELEASING:
            release(cid)
            report.declines += event.type == "offer_declined"
            report.expiries += event.type == "offer_expired"
            report.requeues += event.type == "requeued"
            if event.type in ("closed", "dequeued") and not event.actor.startswith(
                ("agent:", "visitor:")
            ):
                report.closed_by_system.add(cid)
    return report


async def load_events(session: AsyncSession) -> list[Event]:
    result = await session.execute(
        select(
            t.ConversationEvent.id,
            t.ConversationEvent.conversation_id,
            t.ConversationEvent.type,
            t.ConversationEvent.actor,
            t.ConversationEvent.data,
        ).order_by(t.ConversationEvent.id)
    )
    return [
        Event(id=i, conversation_id=c, type=kind, actor=actor or "", data=data or {})
        for i, c, kind, actor, data in result.all()
    ]


async def load_limits(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(t.Agent.id, t.Agent.max_chats))
    return {str(agent_id): int(limit) for agent_id, limit in result.all()}


async def sample_loads(session: AsyncSession) -> dict[str, int]:
    """Each agent's held conversations right now, straight from the conversation rows."""
    loads: dict[str, int] = {}
    assigned = await session.execute(
        select(t.Conversation.agent_id, func.count())
        .where(t.Conversation.state == "assigned")
        .group_by(t.Conversation.agent_id)
    )
    offered = await session.execute(
        select(t.Conversation.offered_to, func.count())
        .where(t.Conversation.state == "offered")
        .group_by(t.Conversation.offered_to)
    )
    for agent_id, count in [*assigned.all(), *offered.all()]:
        if agent_id is not None:
            loads[agent_id] = loads.get(agent_id, 0) + int(count)
    return loads

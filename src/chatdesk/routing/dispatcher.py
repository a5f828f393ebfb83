"""Routing with the database as the authority: offers, accept/decline, expiry, presence.

The pure rules (``rules.py``) plan who gets what; this module applies each decision with
conditional updates under row locks, so concurrent processes can never double-assign a
conversation or overfill an agent (docs/routing.md, "Atomicity across processes"):

- an offer is ``UPDATE … SET state='offered' WHERE state='queued'`` after locking the
  agent's row (``SELECT … FOR UPDATE``) and counting their load inside that lock;
- accepting is ``… WHERE state='offered' AND offered_to=:agent``;
- every deadline (offer expiry, presence grace, visitor gone, idle close) is a column, and
  the sweep that acts on it is a conditional update too: it fires once in the cluster,
  whichever process runs it, even if the process that set it has died;
- every transaction runs through ``db.run_transaction`` (re-run on a lost deadlock) and
  takes its row locks in the global order written there: agent, then conversation(s) in
  id order; frames go out after the commit.

Every process runs the same loop (``run``): woken by events, and once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatdesk.accounts.service import AgentAccount
from chatdesk.broker.liveness import Liveness, LivenessUnavailableError
from chatdesk.channels.hub import Hub
from chatdesk.coalesce import Coalescer
from chatdesk.config import Settings
from chatdesk.conversations.model import WAITING_STATES, Action, State
from chatdesk.conversations.service import ConversationService, Transitioned
from chatdesk.conversations.texts import system_text
from chatdesk.conversations.values import ConversationView
from chatdesk.errors import ForbiddenError, IllegalStateError, NotFoundError, OfferExpiredError
from chatdesk.routing import eta, rules
from chatdesk.routing.hours import WeeklyHours, is_open, parse_hours
from chatdesk.routing.presence_rules import after_offer_expired
from chatdesk.storage import db
from chatdesk.storage import repositories as repo
from chatdesk.storage import tables as t

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 1.0  # deadlines are seconds-grained; a pass costs a few small queries
PRIORITY_ESCALATED = 50  # angry visitors go ahead of normal ones, behind requeued chats
VISITOR_PRESENCE_BATCH = 500  # visitor ids per query (far below SQLite's bound-variable cap)


def agent_key(agent_id: str) -> str:
    return f"agent:{agent_id}"


def visitor_key(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


class Router:
    def __init__(
        self,
        *,
        service: ConversationService,
        hub: Hub,
        liveness: Liveness,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.service = service
        self.sessions = service.sessions
        self.hub = hub
        self.liveness = liveness
        self.settings = settings
        self.clock = clock
        self.hours: WeeklyHours | None = (
            parse_hours(settings.business_hours, timezone=settings.timezone)
            if settings.business_hours.strip()
            else None
        )
        self._wake = asyncio.Event()
        # Visitors' comings and goings, batched: a mass reconnect costs a few queries, not
        # one per socket queued behind the connection pool.
        self._visitors_back = Coalescer(
            self._mark_back, max_batch=VISITOR_PRESENCE_BATCH, name="visitors-back"
        )
        self._visitors_gone = Coalescer(
            self._mark_gone, max_batch=VISITOR_PRESENCE_BATCH, name="visitors-gone"
        )
        self._queue_sent: dict[str, tuple[int, int | None]] | None = None
        service.request_handoff = self.handoff
        hub.on_route = self.wake

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """The routing loop of this process (owned by the runtime)."""
        while True:
            try:
                async with asyncio.timeout(SWEEP_INTERVAL_S):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.pass_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing pass failed; retrying on the next tick")

    async def pass_once(self) -> None:
        """One routing pass; each step runs even if an earlier one failed (e.g. liveness
        unknown while Redis restarts must not stop offers or expiries)."""
        now = self.clock()
        for step in (
            self._expire_offers,
            self._sweep_presence,
            self._sweep_ghosts,
            self._sweep_idle,
            self._assign,
            self._publish_queue,
        ):
            try:
                await step(now)
            except asyncio.CancelledError:
                raise
            except LivenessUnavailableError:
                log.warning("liveness unknown (Redis down?): skipped %s", step.__name__)
            except Exception:
                log.exception("routing step %s failed; retrying on the next tick", step.__name__)

    # -- state of the floor ------------------------------------------------------------------

    async def _agent_rows(self, session: AsyncSession) -> list[t.Agent]:
        result = await session.execute(select(t.Agent).where(t.Agent.disabled.is_(False)))
        return list(result.scalars())

    async def _connected(self, agent_ids: list[str]) -> set[str]:
        if not agent_ids:
            return set()
        try:
            keys = await self.liveness.connected_keys([agent_key(a) for a in agent_ids])
        except LivenessUnavailableError:
            # Unknown (Redis restarting): count everyone as present rather than requeue every
            # chat; the presence sweep catches real departures once liveness is back.
            return set(agent_ids)
        return {key.split(":", 1)[1] for key in keys}

    async def _still_connected(self, key: str) -> bool:
        """Another socket of this key is alive somewhere (unknown counts as yes: the sweep
        decides once liveness is back)."""
        try:
            return await self.liveness.is_connected(key)
        except LivenessUnavailableError:
            return True

    async def agent_views(
        self, session: AsyncSession, now: datetime
    ) -> tuple[list[rules.AgentView], dict[str, t.Agent]]:
        rows = await self._agent_rows(session)
        connected = await self._connected([row.id for row in rows if row.status == "online"])
        grace = timedelta(seconds=self.settings.presence_grace_s)
        assigned: dict[str, int] = {}
        offered: dict[str, int] = {}
        for conv in await repo.conversations_in_states(session, (State.ASSIGNED, State.OFFERED)):
            if conv.state == State.ASSIGNED and conv.agent_id:
                assigned[conv.agent_id] = assigned.get(conv.agent_id, 0) + 1
            elif conv.state == State.OFFERED and conv.offered_to:
                offered[conv.offered_to] = offered.get(conv.offered_to, 0) + 1
        views = []
        for row in rows:
            in_grace = row.disconnected_at is not None and now - row.disconnected_at < grace
            views.append(
                rules.AgentView(
                    id=row.id,
                    status=row.status,
                    connected=row.id in connected or in_grace,
                    languages=frozenset(filter(None, row.languages.split(","))),
                    departments=frozenset(filter(None, row.departments.split(","))),
                    max_chats=row.max_chats,
                    active_chats=assigned.get(row.id, 0),
                    pending_offers=offered.get(row.id, 0),
                    last_assigned_at=row.last_assigned_at,
                )
            )
        return views, {row.id: row for row in rows}

    @staticmethod
    def waiting_view(conv: ConversationView) -> rules.WaitingView:
        return rules.WaitingView(
            conversation_id=conv.id,
            lang=conv.lang,
            department=conv.department,
            queued_at=conv.queued_at or conv.created_at,
            priority=conv.priority,
            excluded_agents=conv.excluded_agents,
            offered_to=conv.offered_to if conv.state == State.OFFERED else None,
        )

    async def is_online(self) -> bool:
        """Some agent is accepting chats and has a free seat (the widget's "we're online")."""
        if self.hours is not None and not is_open(self.hours, self.clock()):
            return False
        async with self.sessions() as session:
            views, _ = await self.agent_views(session, self.clock())
        return rules.accepting_agents_exist(views)

    # -- hand-off ------------------------------------------------------------------------------

    async def handoff(self, conversation_id: str, *, escalate: bool = False, actor: str) -> None:
        """The visitor wants a person: queue (``queued`` frame) or say nobody is there."""
        now = self.clock()
        conversation = await self.service.get(conversation_id)
        if conversation.state in WAITING_STATES or conversation.state == State.ASSIGNED:
            await self._send_position(conversation)
            return
        async with self.sessions() as session:
            views, _ = await self.agent_views(session, now)
        reason = None
        if self.hours is not None and not is_open(self.hours, now):
            reason = "outside_hours"
        elif not any(v.status == "online" and v.connected for v in views):
            reason = "no_agents"
        if reason is not None:
            await self.hub.publish_frame(
                {
                    "type": "offline",
                    "reason": reason,
                    "message": system_text(f"offline_{reason}", conversation.lang),
                },
                visitor_id=conversation.visitor_id,
                conversation_id=conversation.id,
            )
            return
        result = await self.service.apply(
            conversation_id,
            Action.HANDOFF,
            actor=actor,
            values={
                "queued_at": now,
                "priority": PRIORITY_ESCALATED if escalate else 0,
                "escalated": escalate,
                "excluded_agents": "",
                "visitor_gone_at": None,
            },
            event_data={"escalated": escalate},
        )
        await self._send_position(result.after)
        if escalate:
            await self._offer_to_supervisor(conversation_id, now=now)
        await self._after_change()

    async def _offer_to_supervisor(self, conversation_id: str, *, now: datetime) -> None:
        """An angry visitor is offered to an online supervisor with a free seat first.

        When none is there, or the offer is lost to a concurrent one, the conversation simply
        stays in the queue with its escalated priority.
        """
        async with self.sessions() as session:
            views, rows = await self.agent_views(session, now)
        supervisors = [
            v
            for v in views
            if rows[v.id].role in ("supervisor", "admin")
            and v.status == "online"
            and v.connected
            and v.free_seats > 0
        ]
        if not supervisors:
            return
        target = min(supervisors, key=lambda v: (v.load, v.id))
        with contextlib.suppress(IllegalStateError):
            await self.offer(conversation_id, target.id, auto_accept=rows[target.id].auto_accept)

    async def _send_position(self, conversation: ConversationView) -> None:
        """``queued`` right after a hand-off, even when an agent is free at once."""
        async with self.sessions() as session:
            waiting = await repo.conversations_in_states(session, WAITING_STATES)
            views, _ = await self.agent_views(session, self.clock())
        estimate = self._estimates(waiting, views, await self._handle_time()).get(
            conversation.id, (1, None)
        )
        await self.hub.publish_frame(
            {"type": "queued", "position": estimate[0], "eta_seconds": estimate[1]},
            visitor_id=conversation.visitor_id,
            conversation_id=conversation.id,
        )

    # -- offers ----------------------------------------------------------------------------------

    async def _assign(self, now: datetime) -> None:
        async with self.sessions() as session:
            waiting = await repo.conversations_in_states(session, WAITING_STATES)
            if not waiting:
                return
            views, rows = await self.agent_views(session, now)
        plan = rules.plan_assignments(
            [self.waiting_view(conv) for conv in waiting],
            views,
            now=now,
            language_fallback_s=self.settings.language_fallback_s,
        )
        for assignment in plan:
            try:
                await self.offer(
                    assignment.conversation_id,
                    assignment.agent_id,
                    auto_accept=rows[assignment.agent_id].auto_accept,
                )
            except IllegalStateError:
                continue  # another process got there first; the next pass re-plans

    async def offer(self, conversation_id: str, agent_id: str, *, auto_accept: bool) -> None:
        """Offer a waiting conversation to an agent with a free seat (agent row, then the
        conversation's: the lock order); the offer frame goes out after the commit."""
        now = self.clock()
        expires = now + timedelta(seconds=self.settings.offer_timeout_s)

        async def work(session: AsyncSession) -> tuple[str, Transitioned, str, dict[str, Any]]:
            agent = await self._lock_agent(session, agent_id)
            if agent is None or agent.status != "online" or agent.disabled:
                raise IllegalStateError("agent is not accepting chats")
            if await repo.load_for_agent(session, agent_id) >= agent.max_chats:
                raise IllegalStateError("agent is at capacity")
            result = await self.service.apply(
                conversation_id,
                Action.OFFER,
                actor="router",
                values={"offered_to": agent_id, "offer_expires_at": expires},
                event_data={"agent_id": agent_id},
                session=session,
            )
            preview = await self._preview(session, conversation_id)
            visitor = await repo.visitor_info(session, result.after.visitor_id)
            return agent.name, result, preview, visitor

        agent_name, result, preview, visitor = await db.run_transaction(self.sessions, work)
        if auto_accept:
            await self.accept(conversation_id, agent_id=agent_id, agent_name=agent_name)
            return
        await self.hub.publish_frame(
            {
                "type": "offer",
                "conversation_id": conversation_id,
                "visitor": {
                    "id": visitor["id"],
                    "page_url": visitor.get("page_url"),
                    "lang": result.after.lang,
                },
                "lang": result.after.lang,
                "department": result.after.department,
                "preview": preview,
                "escalated": result.after.escalated,
                "expires_in": self.settings.offer_timeout_s,
            },
            agent_id=agent_id,
        )

    async def _lock_agent(self, session: AsyncSession, agent_id: str) -> t.Agent | None:
        """The agent's row, locked for the rest of the transaction (call it first).

        The no-op write takes the lock on every database: a row lock on PostgreSQL, the
        database write lock on SQLite, whose plain reads would otherwise run outside the
        transaction, so two capacity checks could both pass before either writes.
        """
        await session.execute(
            update(t.Agent).where(t.Agent.id == agent_id).values(max_chats=t.Agent.max_chats)
        )
        result = await session.execute(
            select(t.Agent)
            .where(t.Agent.id == agent_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def _preview(self, session: AsyncSession, conversation_id: str) -> str:
        messages = await repo.messages_after(session, conversation_id, 0)
        visitor_texts = [m.text for m in messages if m.author.value == "visitor"]
        return (visitor_texts[-1] if visitor_texts else "")[:200]

    async def accept(self, conversation_id: str, *, agent_id: str, agent_name: str) -> None:
        """Accept an offer, or take a pending conversation (capacity checked under lock);
        a transaction that loses a deadlock on PostgreSQL is run again, and the assignment
        is announced once, after the commit."""
        result = await db.run_transaction(
            self.sessions,
            lambda session: self._accept_in(session, conversation_id, agent_id, agent_name),
        )
        await self._announce_assignment(result, agent_name=agent_name)

    async def _accept_in(
        self, session: AsyncSession, conversation_id: str, agent_id: str, agent_name: str
    ) -> Transitioned:
        """The accept transaction: the agent's row, then the conversation's (lock order)."""
        now = self.clock()
        agent = await self._lock_agent(session, agent_id)
        if agent is None:
            raise NotFoundError("no such agent")
        conversation = await repo.lock_conversation(session, conversation_id)
        if conversation is None:
            raise NotFoundError("no such conversation")
        if conversation.state == State.OFFERED:
            if conversation.offered_to != agent_id:
                raise OfferExpiredError("this offer is no longer yours")
            action = Action.ACCEPT
        elif conversation.state == State.PENDING:
            action = Action.TAKE
            if await repo.load_for_agent(session, agent_id) >= agent.max_chats:
                raise IllegalStateError("you are at capacity")
        elif conversation.state in (State.QUEUED, State.CLOSED) or (
            conversation.state == State.ASSIGNED and conversation.agent_id != agent_id
        ):
            # A late answer to an offer that expired, moved on or was taken meanwhile.
            raise OfferExpiredError("this offer expired")
        else:
            raise IllegalStateError(f"conversation is {conversation.state.value}")
        result = await self.service.apply(
            conversation_id,
            action,
            actor=agent_key(agent_id),
            values={
                "agent_id": agent_id,
                "assigned_at": now,
                "offered_to": None,
                "offer_expires_at": None,
            },
            system=("agent_joined", {"name": agent_name}),
            event_data={"agent_id": agent_id},
            session=session,
        )
        await session.execute(
            update(t.Agent)
            .where(t.Agent.id == agent_id)
            .values(last_assigned_at=now, expired_offers_in_row=0)
        )
        return result

    async def _announce_assignment(self, result: Transitioned, *, agent_name: str) -> None:
        conversation = result.after
        assert conversation.agent_id is not None
        await self.hub.publish_assigned(conversation.id, conversation.agent_id)
        await self.service.announce(result)
        await self.hub.publish_frame(
            {"type": "agent_joined", "agent_name": agent_name},
            visitor_id=conversation.visitor_id,
            conversation_id=conversation.id,
        )
        await self._after_change()

    async def decline(self, conversation_id: str, *, agent_id: str) -> None:
        await self.service.apply(
            conversation_id,
            Action.DECLINE,
            actor=agent_key(agent_id),
            values_from=_back_in_queue(agent_id),
            check=_offered_to(agent_id),
            event_data={"agent_id": agent_id},
        )
        await self._update_agent(agent_id, expired_offers_in_row=0)
        await self._after_change()

    async def _expire_offers(self, now: datetime) -> None:
        async with self.sessions() as session:
            result = await session.execute(
                select(t.Conversation.id, t.Conversation.offered_to).where(
                    t.Conversation.state == State.OFFERED.value,
                    t.Conversation.offer_expires_at <= now,
                )
            )
            expired = list(result.all())
        for conversation_id, agent_id in expired:
            if agent_id is None:
                continue
            try:
                await self.service.apply(
                    conversation_id,
                    Action.EXPIRE,
                    actor="router",
                    values_from=_back_in_queue(agent_id),
                    check=_offer_due(now),
                    event_data={"agent_id": agent_id},
                )
            except IllegalStateError:
                continue  # accepted or expired by another process meanwhile
            await self.hub.publish_frame(
                {"type": "offer_revoked", "conversation_id": conversation_id, "reason": "expired"},
                agent_id=agent_id,
            )
            await self._count_expiry(agent_id)
        if expired:
            self.wake()

    async def _count_expiry(self, agent_id: str) -> None:
        """Count a missed offer; the second in a row sets the agent away (told after commit)."""

        async def work(session: AsyncSession) -> bool:
            agent = await self._lock_agent(session, agent_id)
            if agent is None:
                return False
            outcome = after_offer_expired(agent.expired_offers_in_row)
            agent.expired_offers_in_row = outcome.consecutive_expired
            if outcome.set_away and agent.status == "online":
                agent.status = "away"
                return True
            return False

        if not await db.run_transaction(self.sessions, work):
            return
        await self.hub.publish_frame(
            {"type": "status", "status": "away", "reason": "missed_offers"}, agent_id=agent_id
        )

    # -- presence, ghosts, idle ----------------------------------------------------------------

    async def agent_connected(self, agent_id: str) -> None:
        await self._update_agent(agent_id, disconnected_at=None)
        self.wake()

    async def agent_disconnected(self, agent_id: str) -> None:
        if await self._still_connected(agent_key(agent_id)):
            return
        await self._update_agent(
            agent_id, t.Agent.disconnected_at.is_(None), disconnected_at=self.clock()
        )
        self.wake()

    async def _update_agent(
        self, agent_id: str, *conditions: ColumnElement[bool], **values: Any
    ) -> None:
        """One conditional update of an agent's row, as a transaction of its own."""

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(t.Agent).where(t.Agent.id == agent_id, *conditions).values(**values)
            )

        await db.run_transaction(self.sessions, work)

    async def _sweep_presence(self, now: datetime) -> None:
        """Agents gone past the grace lose their chats (front of the queue) and offers."""
        grace_start = now - timedelta(seconds=self.settings.presence_grace_s)

        async def work(session: AsyncSession) -> list[str]:
            # Several agents' rows: the ORM flushes their updates in ascending id (lock order).
            watched = list(
                (
                    await session.execute(
                        select(t.Agent).where(
                            (t.Agent.status == "online") | t.Agent.disconnected_at.is_not(None)
                        )
                    )
                ).scalars()
            )
            connected = await self._connected([a.id for a in watched])
            for agent in watched:
                if agent.disconnected_at is None and agent.id not in connected:
                    agent.disconnected_at = now  # a process died without telling: TTL lapsed
                elif agent.disconnected_at is not None and agent.id in connected:
                    # Back within the grace without a new socket event here: Redis restarted
                    # empty and the heartbeat re-registered them, or they reconnected.
                    agent.disconnected_at = None
            return list(
                (
                    await session.execute(
                        select(t.Agent.id).where(t.Agent.disconnected_at <= grace_start)
                    )
                ).scalars()
            )

        for agent_id in await db.run_transaction(self.sessions, work):
            async with self.sessions() as session:
                owned = await repo.agent_conversations(session, agent_id, states=(State.ASSIGNED,))
                offered = [
                    c
                    for c in await repo.conversations_in_states(session, (State.OFFERED,))
                    if c.offered_to == agent_id
                ]
            for conversation in owned:
                await self.requeue(conversation.id, from_agent=agent_id, reason="agent_gone")
            for conversation in offered:
                with contextlib.suppress(IllegalStateError):
                    await self.service.apply(
                        conversation.id,
                        Action.EXPIRE,
                        actor="router",
                        values_from=_back_in_queue(agent_id),
                        check=_offered_to(agent_id),
                        event_data={"agent_id": agent_id, "reason": "agent_gone"},
                    )

    async def requeue(self, conversation_id: str, *, from_agent: str, reason: str) -> None:
        try:
            result = await self.service.apply(
                conversation_id,
                Action.REQUEUE,
                actor="router",
                values={
                    "agent_id": None,
                    "priority": rules.PRIORITY_AGENT_GONE,
                    "offered_to": None,
                    "offer_expires_at": None,
                },
                check=_owned_by(from_agent),
                system=("requeued", {}),
                event_data={"agent_id": from_agent, "reason": reason},
            )
        except IllegalStateError:
            return
        await self.hub.publish_unassigned(conversation_id, from_agent)
        await self.service.announce(result)
        await self._send_position(result.after)
        self.wake()

    async def visitor_connected(self, visitor_id: str) -> None:
        """A visitor's socket opened: their waiting conversations are no longer "gone"."""
        await self._visitors_back.submit(visitor_id)

    async def visitor_disconnected(self, visitor_id: str) -> None:
        """A visitor's socket closed: if it was their last anywhere, their waiting
        conversations are "gone" from now (dequeued past the grace, ``_sweep_ghosts``)."""
        await self._visitors_gone.submit(visitor_id)

    async def finish_presence(self) -> None:
        """Finish the visitors' comings and goings already submitted (at shutdown)."""
        await self._visitors_back.close()
        await self._visitors_gone.close()

    async def _mark_back(self, visitor_ids: list[str]) -> None:
        await self._update_conversations(
            t.Conversation.visitor_id.in_(visitor_ids),
            t.Conversation.visitor_gone_at.is_not(None),
            visitor_gone_at=None,
        )

    async def _mark_gone(self, visitor_ids: list[str]) -> None:
        try:
            live = await self.liveness.connected_keys([visitor_key(v) for v in visitor_ids])
        except LivenessUnavailableError:
            return  # unknown counts as still there: the ghost sweep decides once it is back
        gone = [v for v in visitor_ids if visitor_key(v) not in live]
        if gone:
            await self._update_conversations(
                t.Conversation.visitor_id.in_(gone),
                t.Conversation.state.in_([s.value for s in WAITING_STATES]),
                t.Conversation.visitor_gone_at.is_(None),
                visitor_gone_at=self.clock(),
            )

    async def _update_conversations(self, *conditions: ColumnElement[bool], **values: Any) -> None:
        """Update every conversation matching ``conditions``, as a transaction of its own.

        Most calls match nothing (every visitor's connect and disconnect calls this, and
        few of them wait for an agent), so a plain read comes first and spares those the
        write transaction, which on SQLite holds the database's one write lock: a mass
        reconnect would otherwise queue thousands of empty writes. The update re-checks the
        conditions under its locks. The rows are locked in ascending id first (``FOR
        UPDATE`` in the subquery; SQLite has no row locks and omits it), the order every
        other transaction that holds several conversations uses, so this update cannot
        deadlock with the message writer or another sweep.
        """
        async with self.sessions() as session:
            first = await session.execute(select(t.Conversation.id).where(*conditions).limit(1))
            if first.first() is None:
                return
        in_order = (
            select(t.Conversation.id)
            .where(*conditions)
            .order_by(t.Conversation.id)
            .with_for_update(key_share=True)
        )

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(t.Conversation)
                .where(t.Conversation.id.in_(in_order.scalar_subquery()), *conditions)
                .values(**values)
            )

        await db.run_transaction(self.sessions, work)

    async def _sweep_ghosts(self, now: datetime) -> None:
        """A visitor gone while waiting past the grace is dequeued (no ghosts offered)."""
        cutoff = now - timedelta(seconds=self.settings.presence_grace_s)
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(t.Conversation.id, t.Conversation.visitor_id).where(
                        t.Conversation.state.in_([s.value for s in WAITING_STATES]),
                    )
                )
            ).all()
        if not rows:
            return
        live = await self.liveness.connected_keys([visitor_key(v) for _, v in rows])
        back = [v for _, v in rows if visitor_key(v) in live]
        if back:  # e.g. re-registered by a heartbeat after Redis restarted empty
            await self._update_conversations(
                t.Conversation.visitor_id.in_(back),
                t.Conversation.visitor_gone_at.is_not(None),
                visitor_gone_at=None,
            )
        for conversation_id, visitor_id in rows:
            if visitor_key(visitor_id) in live:
                continue
            await self._update_conversations(
                t.Conversation.id == conversation_id,
                t.Conversation.visitor_gone_at.is_(None),
                visitor_gone_at=now,
            )
            conversation = await self.service.get(conversation_id)
            if conversation.visitor_gone_at is None or conversation.visitor_gone_at > cutoff:
                continue
            try:
                result = await self.service.apply(
                    conversation_id,
                    Action.DEQUEUE,
                    actor="router",
                    check=_visitor_gone_before(cutoff),
                    system=("dequeued", {}),
                )
            except IllegalStateError:
                continue
            if result.before.offered_to:
                await self.hub.publish_frame(
                    {
                        "type": "offer_revoked",
                        "conversation_id": conversation_id,
                        "reason": "visitor_left",
                    },
                    agent_id=result.before.offered_to,
                )
            await self.service.publish_closed(result)

    async def _sweep_idle(self, now: datetime) -> None:
        cutoff = now - timedelta(seconds=self.settings.idle_close_s)
        async with self.sessions() as session:
            idle = list(
                (
                    await session.execute(
                        select(t.Conversation.id).where(
                            t.Conversation.state.in_(
                                [State.BOT.value, State.ASSIGNED.value, State.QUEUED.value]
                            ),
                            t.Conversation.last_activity_at < cutoff,
                        )
                    )
                ).scalars()
            )
        for conversation_id in idle:
            try:
                await self.service.close(conversation_id, actor="router", idle=True)
            except IllegalStateError:
                continue

    # -- queue positions -------------------------------------------------------------------------

    async def _handle_time(self) -> float:
        async with self.sessions() as session:
            result = await session.execute(
                select(t.Conversation.assigned_at, t.Conversation.closed_at)
                .where(
                    t.Conversation.state == State.CLOSED.value,
                    t.Conversation.assigned_at.is_not(None),
                )
                .order_by(t.Conversation.closed_at.desc())
                .limit(eta.HANDLE_TIME_WINDOW)
            )
            durations = [
                (closed - assigned).total_seconds()
                for assigned, closed in result.all()
                if closed is not None and assigned is not None
            ]
        return eta.recent_handle_time(list(reversed(durations)))

    def _estimates(
        self,
        waiting: list[ConversationView],
        views: list[rules.AgentView],
        handle_time_s: float,
    ) -> dict[str, tuple[int, int | None]]:
        now = self.clock()
        waiting_views = [self.waiting_view(conv) for conv in waiting]
        positions = rules.queue_positions(waiting_views)
        out: dict[str, tuple[int, int | None]] = {}
        for view in waiting_views:
            seats = rules.seat_counts(
                view, views, now=now, language_fallback_s=self.settings.language_fallback_s
            )
            position = positions[view.conversation_id]
            out[view.conversation_id] = (
                position,
                eta.estimate_wait(
                    position,
                    free_seats=seats.free_seats,
                    total_seats=seats.total_seats,
                    recent_handle_time_s=handle_time_s,
                    not_before_s=seats.not_before_s,
                ),
            )
        return out

    async def _publish_queue(self, now: datetime) -> None:
        async with self.sessions() as session:
            waiting = await repo.conversations_in_states(session, WAITING_STATES)
            views, _ = await self.agent_views(session, now) if waiting else ([], {})
        estimates = self._estimates(waiting, views, await self._handle_time()) if waiting else {}
        if estimates == self._queue_sent:
            return
        self._queue_sent = estimates
        oldest = min((c.queued_at or c.created_at for c in waiting), default=now)
        await self.hub.publish_queue(
            estimates, waiting=len(waiting), oldest_s=int((now - oldest).total_seconds())
        )

    async def _after_change(self) -> None:
        self.wake()
        await self.hub.publish_route()

    # -- transfer, escalation, supervision -------------------------------------------------------

    async def transfer(
        self,
        conversation_id: str,
        *,
        agent: AgentAccount,
        to_agent_id: str | None,
        to_department: str | None,
        note: str | None,
    ) -> None:
        if (to_agent_id is None) == (to_department is None):
            raise IllegalStateError("transfer needs exactly one of to_agent_id, to_department")
        if note:
            await self.service.note(
                agent_id=agent.id,
                agent_name=agent.name,
                conversation_id=conversation_id,
                text=note,
            )
        if to_agent_id is not None:
            await self.assign_directly(
                conversation_id, to_agent_id=to_agent_id, by=agent, action=Action.TRANSFER
            )
            return
        result = await self.service.apply(
            conversation_id,
            Action.REQUEUE,
            actor=agent_key(agent.id),
            values={
                "agent_id": None,
                "department": to_department,
                "queued_at": self.clock(),
                "priority": 0,
                "excluded_agents": {agent.id},
            },
            check=_owned_by(agent.id),
            event_data={"to_department": to_department},
        )
        await self.hub.publish_unassigned(conversation_id, agent.id)
        await self.hub.publish_frame(
            {
                "type": "transferred",
                "conversation_id": conversation_id,
                "to_department": to_department,
            },
            agent_id=agent.id,
        )
        await self._send_position(result.after)
        await self._after_change()

    async def assign_directly(
        self,
        conversation_id: str,
        *,
        to_agent_id: str,
        by: AgentAccount,
        action: Action,
    ) -> None:
        """Transfer to a named agent, or a supervisor's takeover: capacity checked under the
        target's lock (then the conversation's: the lock order); told after the commit."""
        now = self.clock()

        async def work(session: AsyncSession) -> tuple[str, Transitioned]:
            target = await self._lock_agent(session, to_agent_id)
            if target is None or target.disabled:
                raise NotFoundError("no such agent")
            if await repo.load_for_agent(session, to_agent_id) >= target.max_chats:
                raise IllegalStateError(f"{target.name} has no free seat")
            check = _owned_by(by.id) if action == Action.TRANSFER else None
            result = await self.service.apply(
                conversation_id,
                action,
                actor=agent_key(by.id),
                values={
                    "agent_id": to_agent_id,
                    "assigned_at": now,
                    "offered_to": None,
                    "offer_expires_at": None,
                },
                check=check,
                system=("transferred", {"name": target.name}),
                event_data={"from": by.id, "to": to_agent_id},
                session=session,
            )
            target.last_assigned_at = now
            return target.name, result

        target_name, result = await db.run_transaction(self.sessions, work)
        previous = result.before.agent_id or result.before.offered_to
        if previous and previous != to_agent_id:
            await self.hub.publish_unassigned(conversation_id, previous)
            await self.hub.publish_frame(
                {
                    "type": "transferred",
                    "conversation_id": conversation_id,
                    "to_agent_name": target_name,
                },
                agent_id=previous,
            )
        await self.hub.publish_assigned(conversation_id, to_agent_id)
        await self.service.announce(result)
        await self.hub.publish_frame(
            {"type": "agent_joined", "agent_name": target_name},
            visitor_id=result.after.visitor_id,
            conversation_id=conversation_id,
        )
        await self._after_change()

    async def escalate(self, conversation_id: str, *, agent: AgentAccount) -> None:
        """To an online supervisor with a free seat first, else the queue with priority."""
        now = self.clock()
        async with self.sessions() as session:
            views, rows = await self.agent_views(session, now)
        supervisors = [
            v
            for v in views
            if rows[v.id].role in ("supervisor", "admin")
            and v.id != agent.id
            and v.status == "online"
            and v.connected
            and v.free_seats > 0
        ]
        if supervisors:
            target = min(supervisors, key=lambda v: (v.load, v.id))
            await self.assign_directly(
                conversation_id, to_agent_id=target.id, by=agent, action=Action.TRANSFER
            )
            return
        result = await self.service.apply(
            conversation_id,
            Action.REQUEUE,
            actor=agent_key(agent.id),
            values={
                "agent_id": None,
                "queued_at": now,
                "priority": PRIORITY_ESCALATED,
                "escalated": True,
                "excluded_agents": {agent.id},
            },
            check=_owned_by(agent.id),
            event_data={"escalated": True},
        )
        await self.hub.publish_unassigned(conversation_id, agent.id)
        await self._send_position(result.after)
        await self._after_change()

    async def takeover(self, conversation_id: str, *, supervisor: AgentAccount) -> None:
        if supervisor.role not in ("supervisor", "admin"):
            raise ForbiddenError("only supervisors can take over")
        await self.assign_directly(
            conversation_id, to_agent_id=supervisor.id, by=supervisor, action=Action.TAKEOVER
        )

    async def handback(self, conversation_id: str, *, agent: AgentAccount) -> None:
        result = await self.service.apply(
            conversation_id,
            Action.HANDBACK,
            actor=agent_key(agent.id),
            values={"agent_id": None, "bot_failures": 0},
            check=_owned_by(agent.id),
            system=("handed_back", {}),
        )
        await self.hub.publish_unassigned(conversation_id, agent.id)
        await self.service.announce(result)
        await self._after_change()

    async def close(self, conversation_id: str, *, agent: AgentAccount) -> None:
        conversation = await self.service.get(conversation_id)
        if conversation.agent_id != agent.id and agent.role not in ("supervisor", "admin"):
            raise ForbiddenError("only the assigned agent or a supervisor can close this")
        await self.service.close(conversation_id, actor=agent_key(agent.id))

    def overview_estimates(
        self, waiting: list[ConversationView], views: list[rules.AgentView], handle_time_s: float
    ) -> dict[str, tuple[int, int | None]]:
        return self._estimates(waiting, views, handle_time_s)

    async def handle_time(self) -> float:
        return await self._handle_time()


def _offered_to(agent_id: str) -> Callable[[ConversationView], None]:
    def check(conversation: ConversationView) -> None:
        if conversation.offered_to != agent_id:
            raise IllegalStateError("this offer is not yours")

    return check


def _back_in_queue(agent_id: str) -> Callable[[ConversationView], dict[str, object]]:
    """Declined or expired: the offer is cleared and that agent excluded (same transaction)."""

    def values(conversation: ConversationView) -> dict[str, object]:
        return {
            "offered_to": None,
            "offer_expires_at": None,
            "excluded_agents": conversation.excluded_agents | {agent_id},
        }

    return values


def _owned_by(agent_id: str) -> Callable[[ConversationView], None]:
    def check(conversation: ConversationView) -> None:
        if conversation.agent_id != agent_id:
            raise IllegalStateError("you are not assigned to this conversation")

    return check


def _offer_due(now: datetime) -> Callable[[ConversationView], None]:
    def check(conversation: ConversationView) -> None:
        if conversation.offer_expires_at is None or conversation.offer_expires_at > now:
            raise IllegalStateError("offer not due")

    return check


def _visitor_gone_before(cutoff: datetime) -> Callable[[ConversationView], None]:
    def check(conversation: ConversationView) -> None:
        if conversation.visitor_gone_at is None or conversation.visitor_gone_at > cutoff:
            raise IllegalStateError("visitor is back")

    return check

"""The conversation lifecycle: states, actions and the pure transition rule (no I/O).

::

    bot ──handoff──▶ queued ──offer──▶ offered ──accept──▶ assigned ──close──▶ closed
     ▲  └─go_pending─▶ pending ─take─────────────────────────▲   │
     │                   ▲          offered ──decline/expire──▶ queued
     │                   └─ queued (nobody online, visitor leaves a message)
     └──────────── handback ◀── assigned ──agent_gone / transfer to queue──▶ queued (front)

Every applied action becomes an event stored with the conversation; an illegal one raises
``IllegalStateError`` and changes nothing. See docs/protocol.md for the frames around it.
"""

from __future__ import annotations

from enum import StrEnum

from chatdesk.errors import IllegalStateError


class State(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    PENDING = "pending"
    CLOSED = "closed"


class Author(StrEnum):
    VISITOR = "visitor"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"
    NOTE = "note"  # private to agents: never delivered to the visitor


class Action(StrEnum):
    HANDOFF = "handoff"
    GO_PENDING = "go_pending"
    OFFER = "offer"
    DECLINE = "decline"
    EXPIRE = "expire"
    ACCEPT = "accept"
    TAKE = "take"
    REQUEUE = "requeue"
    TRANSFER = "transfer"
    TAKEOVER = "takeover"
    HANDBACK = "handback"
    DEQUEUE = "dequeue"
    CLOSE = "close"


OPEN_STATES = frozenset({State.BOT, State.QUEUED, State.OFFERED, State.ASSIGNED, State.PENDING})
WAITING_STATES = frozenset({State.QUEUED, State.OFFERED})

_TRANSITIONS: dict[Action, dict[State, State]] = {
    Action.HANDOFF: {State.BOT: State.QUEUED},
    Action.GO_PENDING: {State.BOT: State.PENDING, State.QUEUED: State.PENDING},
    Action.OFFER: {State.QUEUED: State.OFFERED},
    Action.DECLINE: {State.OFFERED: State.QUEUED},
    Action.EXPIRE: {State.OFFERED: State.QUEUED},
    Action.ACCEPT: {State.OFFERED: State.ASSIGNED},
    Action.TAKE: {State.PENDING: State.ASSIGNED, State.QUEUED: State.ASSIGNED},
    Action.REQUEUE: {State.ASSIGNED: State.QUEUED, State.OFFERED: State.QUEUED},
    Action.TRANSFER: {State.ASSIGNED: State.ASSIGNED},
    Action.TAKEOVER: {State.ASSIGNED: State.ASSIGNED, State.QUEUED: State.ASSIGNED},
    Action.HANDBACK: {State.ASSIGNED: State.BOT},
    Action.DEQUEUE: {State.QUEUED: State.CLOSED, State.OFFERED: State.CLOSED},
    Action.CLOSE: dict.fromkeys(OPEN_STATES, State.CLOSED),
}

EVENT_NAMES: dict[Action, str] = {
    Action.HANDOFF: "handed_off",
    Action.GO_PENDING: "went_pending",
    Action.OFFER: "offered",
    Action.DECLINE: "offer_declined",
    Action.EXPIRE: "offer_expired",
    Action.ACCEPT: "assigned",
    Action.TAKE: "assigned",
    Action.REQUEUE: "requeued",
    Action.TRANSFER: "transferred",
    Action.TAKEOVER: "taken_over",
    Action.HANDBACK: "handed_back",
    Action.DEQUEUE: "dequeued",
    Action.CLOSE: "closed",
}


def allowed_from(action: Action) -> frozenset[State]:
    """States in which ``action`` may be applied (used for conditional updates)."""
    return frozenset(_TRANSITIONS[action])


def transition(state: State, action: Action) -> State:
    """The state after ``action``; raises ``IllegalStateError`` when not allowed from ``state``."""
    target = _TRANSITIONS[action].get(state)
    if target is None:
        raise IllegalStateError(f"cannot {action.value} a conversation that is {state.value}")
    return target

"""Socket liveness, the presence grace and unanswered offers, as pure decisions.

An agent's chosen status (``online|away|offline``) lives in the database; whether their
console is actually there comes on top. A dropped socket (a reload, a flaky network)
keeps the agent's chats for ``PRESENCE_GRACE_S``; past it, their conversations go back to
the front of the queue. Rules and examples: ``docs/routing.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

PRESENCE_GRACE_S: Final = 30.0  # long enough for a console reload, short for a waiting visitor
HEARTBEAT_S: Final = 20.0
# A socket silent for this many heartbeats is treated as dropped even if never closed
# (half-open TCP): one missed heartbeat is normal jitter, two are not.
MISSED_HEARTBEATS: Final = 2
# Two offers in a row left to expire mean nobody is at the console: stop offering.
EXPIRED_OFFERS_BEFORE_AWAY: Final = 2


class Liveness(StrEnum):
    """Whether an agent's console counts as present for routing."""

    CONNECTED = "connected"
    IN_GRACE = "in_grace"  # socket lost, still counts as connected, keeps their chats
    GONE = "gone"  # past the grace: not connected, their conversations are requeued


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def liveness(
    *,
    last_seen: datetime | None,
    disconnected_at: datetime | None,
    now: datetime,
    grace_s: float = PRESENCE_GRACE_S,
    heartbeat_s: float = HEARTBEAT_S,
) -> Liveness:
    """Classify an agent's console from its last sign of life.

    ``last_seen`` is the last frame or heartbeat from any of the agent's sockets (None:
    never connected); ``disconnected_at`` is when their last socket closed (None while one
    is open). The connection counts as lost at ``disconnected_at``, or, for a socket that
    went silent, at ``last_seen + MISSED_HEARTBEATS * heartbeat_s``; the grace runs from
    that moment.
    """
    for value, name in (
        (last_seen, "last_seen"),
        (disconnected_at, "disconnected_at"),
        (now, "now"),
    ):
        _require_aware(value, name)
    if grace_s < 0 or heartbeat_s <= 0:
        raise ValueError("grace_s must be >= 0 and heartbeat_s > 0")
    if last_seen is None and disconnected_at is None:
        return Liveness.GONE
    lost_at = disconnected_at
    if lost_at is None and last_seen is not None:
        silent_at = last_seen + timedelta(seconds=MISSED_HEARTBEATS * heartbeat_s)
        lost_at = silent_at if silent_at <= now else None
    if lost_at is None:
        return Liveness.CONNECTED
    if now - lost_at < timedelta(seconds=grace_s):
        return Liveness.IN_GRACE
    return Liveness.GONE


def counts_as_connected(state: Liveness) -> bool:
    """The ``connected`` flag of ``rules.AgentView``: present or within the grace."""
    return state is not Liveness.GONE


@dataclass(frozen=True, slots=True)
class GraceOutcome:
    """What to do with an agent's conversations given their liveness.

    ``requeue_front``: assigned conversations to put back at the front of the queue
    (priority ``rules.PRIORITY_AGENT_GONE``, original ``queued_at``).
    ``revoke_offers``: pending offers to withdraw; those conversations return to the queue
    keeping their place, with the agent added to their excluded agents.
    """

    requeue_front: tuple[str, ...]
    revoke_offers: tuple[str, ...]


def grace_outcome(
    state: Liveness, *, assigned: Sequence[str], offered: Sequence[str]
) -> GraceOutcome:
    """Nothing while the agent is connected or in grace; everything back once gone."""
    if state is not Liveness.GONE:
        return GraceOutcome(requeue_front=(), revoke_offers=())
    return GraceOutcome(requeue_front=tuple(assigned), revoke_offers=tuple(offered))


@dataclass(frozen=True, slots=True)
class ExpiryOutcome:
    """After an offer expired: the new streak count, and whether to set the agent away."""

    consecutive_expired: int
    set_away: bool


def after_offer_expired(consecutive_expired: int) -> ExpiryOutcome:
    """Count an expired offer; the ``EXPIRED_OFFERS_BEFORE_AWAY``-th in a row sets away.

    The streak restarts at 0 once the agent is set away, so coming back online starts
    fresh.
    """
    if consecutive_expired < 0:
        raise ValueError(f"consecutive_expired must be >= 0, got {consecutive_expired}")
    count = consecutive_expired + 1
    if count >= EXPIRED_OFFERS_BEFORE_AWAY:
        return ExpiryOutcome(consecutive_expired=0, set_away=True)
    return ExpiryOutcome(consecutive_expired=count, set_away=False)


def after_offer_answered() -> int:
    """An accept or a decline proves someone is at the console: the streak restarts."""
    return 0

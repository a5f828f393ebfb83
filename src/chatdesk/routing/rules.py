"""Who may take which waiting conversation, and in which order: the pure routing rules.

Everything here is a function of its arguments (time included), so the dispatcher, the
tests and routing simulations all see the same decisions. No I/O: the caller loads the
views from storage and applies the returned offers with conditional updates (see
``docs/routing.md``, "Atomicity across processes").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

LANGUAGE_FALLBACK_S: Final = 60.0  # a visitor waits this long for a speaker before anyone helps

PRIORITY_NORMAL: Final = 0
# A conversation whose agent vanished past the presence grace already waited once and was
# being served; it goes ahead of everyone who has not been served yet.
PRIORITY_AGENT_GONE: Final = 100


class AgentStatus(StrEnum):
    """The status an agent chose (stored in the database); socket liveness is separate."""

    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


@dataclass(frozen=True, slots=True)
class AgentView:
    """What routing needs to know about one agent at one moment.

    ``connected`` already includes the presence grace (see ``presence_rules``);
    ``pending_offers`` counts offers made to the agent and not yet answered, because an
    accepted offer becomes a chat and must fit under ``max_chats``.
    """

    id: str
    status: str
    connected: bool
    languages: frozenset[str]
    departments: frozenset[str]
    max_chats: int
    active_chats: int
    pending_offers: int
    last_assigned_at: datetime | None

    def __post_init__(self) -> None:
        if self.status not in {s.value for s in AgentStatus}:
            allowed = ", ".join(s.value for s in AgentStatus)
            raise ValueError(f"agent {self.id!r}: status {self.status!r} is not one of {allowed}")
        for name in ("max_chats", "active_chats", "pending_offers"):
            if getattr(self, name) < 0:
                raise ValueError(f"agent {self.id!r}: {name} must be >= 0")
        _require_aware(self.last_assigned_at, f"agent {self.id!r}: last_assigned_at")

    @property
    def load(self) -> int:
        """Chats the agent has or is about to have (pending offers count)."""
        return self.active_chats + self.pending_offers

    @property
    def free_seats(self) -> int:
        return max(0, self.max_chats - self.load)


@dataclass(frozen=True, slots=True)
class WaitingView:
    """A conversation that wants a human: ``queued``, or ``offered`` when ``offered_to`` is set.

    ``excluded_agents`` are agents who declined it or let its offer expire.
    """

    conversation_id: str
    lang: str
    department: str | None
    queued_at: datetime
    priority: int
    excluded_agents: frozenset[str]
    offered_to: str | None

    def __post_init__(self) -> None:
        _require_aware(self.queued_at, f"conversation {self.conversation_id!r}: queued_at")

    @property
    def requirement(self) -> tuple[str, str | None]:
        """The FIFO the conversation waits in: (language, department)."""
        return (self.lang, self.department)


@dataclass(frozen=True, slots=True)
class Assignment:
    """An offer to make now: ``conversation_id`` goes to ``agent_id``."""

    conversation_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class SeatCounts:
    """Seats of the agents who could serve a conversation, for the wait estimate.

    ``not_before_s`` is the time left until the language fallback opens those seats (0 when
    speakers of the language are present).
    """

    free_seats: int
    total_seats: int
    not_before_s: float


def _accepting(agent: AgentView) -> bool:
    return agent.status == AgentStatus.ONLINE and agent.connected


def _in_department(agent: AgentView, conv: WaitingView) -> bool:
    return conv.department is None or conv.department in agent.departments


def _present_speaker_exists(conv: WaitingView, agents: Iterable[AgentView]) -> bool:
    """Someone accepting, in the department, speaks the language (busy or not)."""
    return any(
        _accepting(a) and _in_department(a, conv) and conv.lang in a.languages for a in agents
    )


def language_fallback_applies(
    conv: WaitingView, agents: Sequence[AgentView], *, now: datetime, language_fallback_s: float
) -> bool:
    """True when the language requirement is dropped for ``conv``.

    Only when no agent who is accepting (online and connected) and in the conversation's
    department speaks the language, and the conversation has waited at least
    ``language_fallback_s``. A busy speaker blocks the fallback: the visitor waits for them.
    """
    _require_aware(now, "now")
    waited_s = (now - conv.queued_at).total_seconds()
    return waited_s >= language_fallback_s and not _present_speaker_exists(conv, agents)


def _base_eligible(agent: AgentView, conv: WaitingView, *, fallback: bool) -> bool:
    return (
        _accepting(agent)
        and agent.load < agent.max_chats
        and _in_department(agent, conv)
        and (fallback or conv.lang in agent.languages)
    )


def _eligible_agents(
    conv: WaitingView, agents: Sequence[AgentView], *, fallback: bool
) -> list[AgentView]:
    """Eligible agents after the exclusion rule: excluded ones only when nobody else is."""
    base = [a for a in agents if _base_eligible(a, conv, fallback=fallback)]
    fresh = [a for a in base if a.id not in conv.excluded_agents]
    return fresh or base


def is_eligible(
    agent: AgentView,
    conv: WaitingView,
    *,
    agents: Sequence[AgentView],
    now: datetime,
    language_fallback_s: float,
) -> bool:
    """May ``agent`` be offered ``conv`` now? ``agents`` is every known agent.

    Online, connected, under capacity (pending offers count), in the department, speaks the
    language (or the language fallback applies), and not excluded by ``conv`` unless every
    eligible agent is excluded.
    """
    fallback = language_fallback_applies(
        conv, agents, now=now, language_fallback_s=language_fallback_s
    )
    if not _base_eligible(agent, conv, fallback=fallback):
        return False
    if agent.id not in conv.excluded_agents:
        return True
    others = (a for a in agents if a.id != agent.id and a.id not in conv.excluded_agents)
    return not any(_base_eligible(a, conv, fallback=fallback) for a in others)


def _choice_key(agent: AgentView) -> tuple[int, int, float, str]:
    # Never assigned sorts before any assignment; then the oldest assignment first.
    if agent.last_assigned_at is None:
        return (agent.load, 0, 0.0, agent.id)
    return (agent.load, 1, agent.last_assigned_at.timestamp(), agent.id)


def choose_agent(
    conv: WaitingView, agents: Sequence[AgentView], *, now: datetime, language_fallback_s: float
) -> AgentView | None:
    """The agent to offer ``conv`` to, or None when nobody is eligible.

    Fewest chats (pending offers count), then longest since the last assignment (never
    assigned counts as longest), then the smallest id so the choice is deterministic.
    """
    fallback = language_fallback_applies(
        conv, agents, now=now, language_fallback_s=language_fallback_s
    )
    candidates = _eligible_agents(conv, agents, fallback=fallback)
    return min(candidates, key=_choice_key) if candidates else None


def queue_order(waiting: Sequence[WaitingView]) -> list[WaitingView]:
    """Higher priority first, then the oldest ``queued_at``, then conversation id."""
    return sorted(waiting, key=lambda w: (-w.priority, w.queued_at, w.conversation_id))


def _check_unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)


def plan_assignments(
    waiting: Sequence[WaitingView],
    agents: Sequence[AgentView],
    *,
    now: datetime,
    language_fallback_s: float,
) -> list[Assignment]:
    """The offers to make right now, in queue order.

    Walks the queue oldest-first (``queue_order``); each conversation without a pending
    offer gets the best eligible agent, whose load then grows by one (and who counts as
    assigned ``now`` for later tie-breaks), so the plan never exceeds anyone's capacity.
    Conversations already offered are skipped: one pending offer per conversation.
    """
    _require_aware(now, "now")
    _check_unique((w.conversation_id for w in waiting), "conversation")
    _check_unique((a.id for a in agents), "agent")
    current = {a.id: a for a in agents}
    plan: list[Assignment] = []
    for conv in queue_order(waiting):
        if conv.offered_to is not None:
            continue
        snapshot = list(current.values())
        agent = choose_agent(conv, snapshot, now=now, language_fallback_s=language_fallback_s)
        if agent is None:
            continue
        plan.append(Assignment(conversation_id=conv.conversation_id, agent_id=agent.id))
        current[agent.id] = replace(
            agent, pending_offers=agent.pending_offers + 1, last_assigned_at=now
        )
    return plan


def queue_positions(waiting: Sequence[WaitingView]) -> dict[str, int]:
    """1-based position of each conversation among those with the same (language, department).

    Conversations with other requirements are served by other agents (or in parallel), so
    they do not count; higher-priority ones in the same requirement count first.
    """
    _check_unique((w.conversation_id for w in waiting), "conversation")
    counters: dict[tuple[str, str | None], int] = {}
    positions: dict[str, int] = {}
    for conv in queue_order(waiting):
        counters[conv.requirement] = counters.get(conv.requirement, 0) + 1
        positions[conv.conversation_id] = counters[conv.requirement]
    return positions


def accepting_agents_exist(agents: Sequence[AgentView]) -> bool:
    """Whether the widget may say "we're online": someone accepting with a free seat."""
    return any(_accepting(a) and a.load < a.max_chats for a in agents)


def seat_counts(
    conv: WaitingView, agents: Sequence[AgentView], *, now: datetime, language_fallback_s: float
) -> SeatCounts:
    """Seats of the agents who serve ``conv`` now or once the language fallback opens.

    Speakers of the language when any is accepting; otherwise every accepting agent of the
    department, available only after the fallback delay. Exclusions are ignored: an
    excluded agent still gets the conversation when nobody else can.
    """
    _require_aware(now, "now")
    present = [a for a in agents if _accepting(a) and _in_department(a, conv)]
    speakers = [a for a in present if conv.lang in a.languages]
    if speakers:
        pool, not_before_s = speakers, 0.0
    else:
        waited_s = (now - conv.queued_at).total_seconds()
        pool, not_before_s = present, max(0.0, language_fallback_s - waited_s)
    return SeatCounts(
        free_seats=sum(a.free_seats for a in pool),
        total_seats=sum(a.max_chats for a in pool),
        not_before_s=not_before_s,
    )

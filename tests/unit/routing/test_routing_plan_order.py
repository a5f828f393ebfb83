"""The plan serves the queue oldest-first: the fix for a plan that walked it newest-first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatdesk.routing.rules import AgentView, Assignment, WaitingView, plan_assignments

NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


def _agent(agent_id: str, *, max_chats: int = 1, last_ago_s: float | None = None) -> AgentView:
    return AgentView(
        id=agent_id,
        status="online",
        connected=True,
        languages=frozenset({"en"}),
        departments=frozenset(),
        max_chats=max_chats,
        active_chats=0,
        pending_offers=0,
        last_assigned_at=None if last_ago_s is None else NOW - timedelta(seconds=last_ago_s),
    )


def _waiting(conv_id: str, *, waited_s: float, priority: int = 0) -> WaitingView:
    return WaitingView(
        conversation_id=conv_id,
        lang="en",
        department=None,
        queued_at=NOW - timedelta(seconds=waited_s),
        priority=priority,
        excluded_agents=frozenset(),
        offered_to=None,
    )


def test_single_free_seat_goes_to_the_oldest_waiting_conversation() -> None:
    waiting = [_waiting("new", waited_s=5), _waiting("old", waited_s=120)]
    plan = plan_assignments(waiting, [_agent("a")], now=NOW, language_fallback_s=60)
    assert plan == [Assignment(conversation_id="old", agent_id="a")]


def test_higher_priority_is_served_before_an_older_normal_one() -> None:
    waiting = [_waiting("old", waited_s=300), _waiting("requeued", waited_s=10, priority=100)]
    plan = plan_assignments(waiting, [_agent("a")], now=NOW, language_fallback_s=60)
    assert plan == [Assignment(conversation_id="requeued", agent_id="a")]


def test_oldest_conversation_gets_the_agent_idle_the_longest() -> None:
    waiting = [_waiting("second", waited_s=10), _waiting("first", waited_s=20)]
    agents = [_agent("recent", last_ago_s=5), _agent("idle", last_ago_s=600)]
    plan = plan_assignments(waiting, agents, now=NOW, language_fallback_s=60)
    assert plan == [
        Assignment(conversation_id="first", agent_id="idle"),
        Assignment(conversation_id="second", agent_id="recent"),
    ]

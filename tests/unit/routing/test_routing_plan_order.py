"""The plan serves the queue oldest-first: the fix for a plan that walked it newest-first."""

from __future__ import annotations

from chatdesk.routing.rules import Assignment, plan_assignments
from tests.unit.routing.views import NOW, agent, waiting


def test_single_free_seat_goes_to_the_oldest_waiting_conversation() -> None:
    queue = [waiting("new", waited_s=5), waiting("old", waited_s=120)]
    plan = plan_assignments(queue, [agent("a", max_chats=1)], now=NOW, language_fallback_s=60)
    assert plan == [Assignment(conversation_id="old", agent_id="a")]


def test_higher_priority_is_served_before_an_older_normal_one() -> None:
    queue = [waiting("old", waited_s=300), waiting("requeued", waited_s=10, priority=100)]
    plan = plan_assignments(queue, [agent("a", max_chats=1)], now=NOW, language_fallback_s=60)
    assert plan == [Assignment(conversation_id="requeued", agent_id="a")]


def test_oldest_conversation_gets_the_agent_idle_the_longest() -> None:
    queue = [waiting("second", waited_s=10), waiting("first", waited_s=20)]
    agents = [
        agent("recent", max_chats=1, last_assigned_ago_s=5),
        agent("idle", max_chats=1, last_assigned_ago_s=600),
    ]
    plan = plan_assignments(queue, agents, now=NOW, language_fallback_s=60)
    assert plan == [
        Assignment(conversation_id="first", agent_id="idle"),
        Assignment(conversation_id="second", agent_id="recent"),
    ]

"""Example-based tests of each routing rule (docs/routing.md)."""

from __future__ import annotations

from datetime import datetime

import pytest

from chatdesk.routing.rules import (
    PRIORITY_AGENT_GONE,
    AgentView,
    Assignment,
    SeatCounts,
    WaitingView,
    accepting_agents_exist,
    choose_agent,
    is_eligible,
    language_fallback_applies,
    plan_assignments,
    queue_order,
    queue_positions,
    seat_counts,
)
from tests.unit.routing.views import NOW, agent, waiting

FALLBACK_S = 60.0


def eligible(a: AgentView, conv: WaitingView, agents: list[AgentView] | None = None) -> bool:
    return is_eligible(
        a, conv, agents=agents if agents is not None else [a], now=NOW, language_fallback_s=60
    )


def choose(conv: WaitingView, agents: list[AgentView]) -> str | None:
    chosen = choose_agent(conv, agents, now=NOW, language_fallback_s=FALLBACK_S)
    return None if chosen is None else chosen.id


def plan(waits: list[WaitingView], agents: list[AgentView]) -> list[tuple[str, str]]:
    result = plan_assignments(waits, agents, now=NOW, language_fallback_s=FALLBACK_S)
    return [(a.conversation_id, a.agent_id) for a in result]


# --- eligibility -------------------------------------------------------------------------


def test_online_connected_agent_with_capacity_is_eligible() -> None:
    assert eligible(agent("a"), waiting("c"))


@pytest.mark.parametrize("status", ["away", "offline"])
def test_agent_not_online_is_not_eligible(status: str) -> None:
    assert not eligible(agent("a", status=status), waiting("c"))


def test_online_agent_without_socket_past_grace_is_not_eligible() -> None:
    assert not eligible(agent("a", connected=False), waiting("c"))


def test_agent_at_capacity_is_not_eligible() -> None:
    assert not eligible(agent("a", max_chats=2, active_chats=2), waiting("c"))


def test_pending_offers_count_toward_capacity() -> None:
    assert not eligible(agent("a", max_chats=2, active_chats=1, pending_offers=1), waiting("c"))


def test_conversation_without_department_goes_to_any_department() -> None:
    assert eligible(agent("a", departments=("sales",)), waiting("c", department=None))
    assert eligible(agent("b", departments=()), waiting("c", department=None))


def test_conversation_with_department_needs_that_department() -> None:
    conv = waiting("c", department="billing")
    assert eligible(agent("a", departments=("sales", "billing")), conv)
    assert not eligible(agent("b", departments=("sales",)), conv)
    assert not eligible(agent("c", departments=()), conv)


def test_department_is_never_relaxed_even_after_language_fallback() -> None:
    conv = waiting("c", lang="et", department="billing", waited_s=3600)
    assert not eligible(agent("a", languages=("en",), departments=("sales",)), conv)
    assert choose(conv, [agent("a", departments=("sales",))]) is None


def test_agent_must_speak_the_language_before_the_fallback_delay() -> None:
    conv = waiting("c", lang="cs", waited_s=59)
    assert not eligible(agent("a", languages=("en",)), conv)
    assert eligible(agent("b", languages=("cs", "en")), conv)


def test_language_fallback_opens_to_anyone_after_delay_when_nobody_speaks_it() -> None:
    conv = waiting("c", lang="lv", waited_s=60)
    assert eligible(agent("a", languages=("en",)), conv)


def test_busy_speaker_online_blocks_the_language_fallback() -> None:
    conv = waiting("c", lang="cs", waited_s=600)
    busy_czech = agent("cz", languages=("cs",), max_chats=1, active_chats=1)
    english = agent("en", languages=("en",))
    agents = [busy_czech, english]
    assert not language_fallback_applies(conv, agents, now=NOW, language_fallback_s=FALLBACK_S)
    assert choose(conv, agents) is None


def test_speaker_who_is_away_does_not_block_the_language_fallback() -> None:
    conv = waiting("c", lang="cs", waited_s=600)
    agents = [agent("cz", languages=("cs",), status="away"), agent("en", languages=("en",))]
    assert choose(conv, agents) == "en"


def test_speaker_in_another_department_does_not_block_the_language_fallback() -> None:
    conv = waiting("c", lang="cs", department="sales", waited_s=600)
    agents = [
        agent("cz", languages=("cs",), departments=("support",)),
        agent("en", languages=("en",), departments=("sales",)),
    ]
    assert choose(conv, agents) == "en"


def test_excluded_agent_is_skipped_while_another_is_eligible() -> None:
    conv = waiting("c", excluded=("a",))
    agents = [agent("a"), agent("b", active_chats=2)]
    assert not eligible(agents[0], conv, agents)
    assert choose(conv, agents) == "b"


def test_excluded_agent_gets_the_conversation_again_when_nobody_else_can() -> None:
    conv = waiting("c", excluded=("a",))
    agents = [agent("a"), agent("b", status="away")]
    assert eligible(agents[0], conv, agents)
    assert choose(conv, agents) == "a"


# --- choice --------------------------------------------------------------------------


def test_fewest_active_chats_wins() -> None:
    agents = [agent("a", active_chats=2), agent("b", active_chats=1), agent("c", active_chats=2)]
    assert choose(waiting("x"), agents) == "b"


def test_pending_offers_count_as_chats_when_choosing() -> None:
    agents = [agent("a", active_chats=0, pending_offers=1), agent("b", active_chats=1)]
    assert choose(waiting("x"), agents) == "a"  # tie on load 1: a's id is smaller
    agents = [agent("a", active_chats=0, pending_offers=2), agent("b", active_chats=1)]
    assert choose(waiting("x"), agents) == "b"


def test_longest_since_last_assignment_breaks_a_tie() -> None:
    agents = [agent("a", last_assigned_ago_s=30), agent("b", last_assigned_ago_s=300)]
    assert choose(waiting("x"), agents) == "b"


def test_never_assigned_agent_counts_as_longest_waiting() -> None:
    agents = [agent("a", last_assigned_ago_s=86_400), agent("z", last_assigned_ago_s=None)]
    assert choose(waiting("x"), agents) == "z"


def test_agent_id_breaks_a_full_tie() -> None:
    agents = [agent("b", last_assigned_ago_s=5), agent("a", last_assigned_ago_s=5)]
    assert choose(waiting("x"), agents) == "a"


def test_nobody_eligible_gives_none() -> None:
    assert choose(waiting("x", lang="pl"), [agent("a", languages=("en",))]) is None


# --- queue ---------------------------------------------------------------------------


def test_queue_orders_priority_then_oldest_then_id() -> None:
    waits = [
        waiting("new", waited_s=5),
        waiting("old", waited_s=50),
        waiting("same-b", waited_s=20),
        waiting("same-a", waited_s=20),
        waiting("requeued", waited_s=1, priority=PRIORITY_AGENT_GONE),
    ]
    order = [w.conversation_id for w in queue_order(waits)]
    assert order == ["requeued", "old", "same-a", "same-b", "new"]


def test_queue_positions_count_only_the_same_requirement() -> None:
    waits = [
        waiting("en1", lang="en", waited_s=40),
        waiting("cs1", lang="cs", waited_s=30),
        waiting("en2", lang="en", waited_s=20),
        waiting("en-sales", lang="en", department="sales", waited_s=35),
        waiting("en0", lang="en", waited_s=1, priority=PRIORITY_AGENT_GONE),
    ]
    assert queue_positions(waits) == {"en0": 1, "en1": 2, "en2": 3, "cs1": 1, "en-sales": 1}


def test_duplicate_conversation_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate conversation id 'c'"):
        queue_positions([waiting("c"), waiting("c")])


# --- planning ------------------------------------------------------------------------


def test_plan_serves_oldest_first_when_capacity_is_short() -> None:
    waits = [waiting("young", waited_s=5), waiting("old", waited_s=50)]
    assert plan(waits, [agent("a", max_chats=1)]) == [("old", "a")]


def test_plan_spreads_offers_and_respects_capacity() -> None:
    waits = [waiting(f"c{i}", waited_s=100 - i) for i in range(5)]
    agents = [agent("a", max_chats=2), agent("b", max_chats=2, active_chats=1)]
    # a (load 0) first; then a and b tie at load 1 and b, never assigned, beats a (offered
    # "now"); b is then full, a takes c2 and is full too; c3 and c4 wait.
    assert plan(waits, agents) == [("c0", "a"), ("c1", "b"), ("c2", "a")]


def test_plan_skips_conversations_with_a_pending_offer() -> None:
    waits = [waiting("offered", waited_s=90, offered_to="a"), waiting("next", waited_s=10)]
    agents = [agent("a", max_chats=2, pending_offers=1), agent("b", max_chats=1, active_chats=1)]
    assert plan(waits, agents) == [("next", "a")]


def test_plan_gives_agent_gone_requeue_the_first_free_seat() -> None:
    waits = [waiting("long", waited_s=500), waiting("back", waited_s=5, priority=100)]
    assert plan(waits, [agent("a", max_chats=1)]) == [("back", "a")]


def test_plan_does_not_let_a_blocked_conversation_hold_up_others() -> None:
    waits = [waiting("cs", lang="cs", waited_s=30), waiting("en", lang="en", waited_s=10)]
    assert plan(waits, [agent("a", languages=("en",), max_chats=1)]) == [("en", "a")]


def test_plan_rejects_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_assignments([], [], now=datetime(2024, 1, 1), language_fallback_s=60)


def test_plan_returns_assignment_values() -> None:
    result = plan_assignments([waiting("c")], [agent("a")], now=NOW, language_fallback_s=60)
    assert result == [Assignment(conversation_id="c", agent_id="a")]


# --- widget and seats ----------------------------------------------------------------


def test_accepting_agents_exist_needs_online_connected_and_a_free_seat() -> None:
    assert not accepting_agents_exist([])
    assert not accepting_agents_exist([agent("a", status="away")])
    assert not accepting_agents_exist([agent("a", connected=False)])
    assert not accepting_agents_exist([agent("a", max_chats=1, pending_offers=1)])
    assert accepting_agents_exist([agent("a", status="away"), agent("b", max_chats=1)])


def test_seat_counts_use_speakers_when_any_is_present() -> None:
    conv = waiting("c", lang="cs")
    agents = [
        agent("cz", languages=("cs",), max_chats=3, active_chats=1, pending_offers=1),
        agent("en", languages=("en",), max_chats=5),
    ]
    counts = seat_counts(conv, agents, now=NOW, language_fallback_s=FALLBACK_S)
    assert counts == SeatCounts(free_seats=1, total_seats=3, not_before_s=0.0)


def test_seat_counts_without_speakers_wait_for_the_fallback() -> None:
    conv = waiting("c", lang="lv", waited_s=15)
    agents = [agent("en", languages=("en",), max_chats=2), agent("off", status="offline")]
    counts = seat_counts(conv, agents, now=NOW, language_fallback_s=FALLBACK_S)
    assert counts == SeatCounts(free_seats=2, total_seats=2, not_before_s=45.0)


def test_agent_view_rejects_unknown_status_and_negative_counts() -> None:
    with pytest.raises(ValueError, match="status 'busy' is not one of online, away, offline"):
        agent("a", status="busy")
    with pytest.raises(ValueError, match="active_chats must be >= 0"):
        agent("a", active_chats=-1)


def test_waiting_view_rejects_naive_queued_at() -> None:
    with pytest.raises(ValueError, match="queued_at must be timezone-aware"):
        WaitingView("c", "en", None, datetime(2024, 1, 1), 0, frozenset(), None)

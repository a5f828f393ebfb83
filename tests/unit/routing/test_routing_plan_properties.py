"""Property tests of ``plan_assignments`` against an independently written eligibility oracle.

The oracle below restates the rules of docs/routing.md directly (no shared helpers with
the implementation), so a drift in either shows up as a failing property.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatdesk.routing.rules import (
    AgentView,
    Assignment,
    WaitingView,
    plan_assignments,
    queue_order,
)

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
FALLBACK_S = 60.0
LANGS = ("en", "cs", "lv")
DEPTS = ("sales", "support")
AGENT_IDS = tuple(f"a{i}" for i in range(5))
# No per-example deadline or slow-generation check: these are correctness properties, and a
# loaded test machine must not turn them into timed assertions.
untimed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def agents_st(draw: st.DrawFn, *, crowded: bool) -> list[AgentView]:
    """Agents; ``crowded`` makes everyone online, mostly free and able to serve everything,
    so that choices (exclusions, tie-breaks) actually compete."""
    ids = draw(st.lists(st.sampled_from(AGENT_IDS), unique=True, max_size=len(AGENT_IDS)))
    result = []
    statuses = ["online"] if crowded else ["online", "online", "away", "offline"]
    for agent_id in ids:
        last = draw(st.none() | st.integers(0, 3600))
        result.append(
            AgentView(
                id=agent_id,
                status=draw(st.sampled_from(statuses)),
                connected=crowded or draw(st.booleans() | st.just(True)),
                languages=frozenset(LANGS)
                if crowded
                else draw(st.frozensets(st.sampled_from(LANGS), max_size=2)),
                departments=frozenset(DEPTS)
                if crowded
                else draw(st.frozensets(st.sampled_from(DEPTS))),
                max_chats=draw(st.integers(1 if crowded else 0, 3)),
                active_chats=draw(st.integers(0, 1 if crowded else 3)),
                pending_offers=0 if crowded else draw(st.integers(0, 2)),
                last_assigned_at=None if last is None else NOW - timedelta(seconds=last),
            )
        )
    return result


@st.composite
def waiting_st(draw: st.DrawFn) -> list[WaitingView]:
    count = draw(st.integers(0, 10))
    return [
        WaitingView(
            conversation_id=f"c{i}",
            lang=draw(st.sampled_from(LANGS)),
            department=draw(st.none() | st.sampled_from(DEPTS)),
            queued_at=NOW - timedelta(seconds=draw(st.integers(0, 120))),
            priority=draw(st.sampled_from([0, 0, 0, 100])),
            excluded_agents=draw(st.frozensets(st.sampled_from(AGENT_IDS), max_size=3)),
            offered_to=draw(st.none() | st.none() | st.sampled_from(AGENT_IDS)),
        )
        for i in range(count)
    ]


scenarios = st.one_of(
    st.tuples(waiting_st(), agents_st(crowded=False)),
    st.tuples(waiting_st(), agents_st(crowded=True)),
)


def _speaker_present(conv: WaitingView, agents: list[AgentView]) -> bool:
    for a in agents:
        dept_ok = conv.department is None or conv.department in a.departments
        if a.status == "online" and a.connected and dept_ok and conv.lang in a.languages:
            return True
    return False


def oracle_may_serve(a: AgentView, conv: WaitingView, agents: list[AgentView]) -> bool:
    """Eligibility ignoring capacity and exclusions, restated from the rules."""
    if a.status != "online" or not a.connected:
        return False
    if conv.department is not None and conv.department not in a.departments:
        return False
    if conv.lang in a.languages:
        return True
    waited = (NOW - conv.queued_at).total_seconds()
    return waited >= FALLBACK_S and not _speaker_present(conv, agents)


def run(waiting: list[WaitingView], agents: list[AgentView]) -> list[Assignment]:
    return plan_assignments(waiting, agents, now=NOW, language_fallback_s=FALLBACK_S)


def remaining_after(plan: list[Assignment], agents: list[AgentView]) -> dict[str, int]:
    given_now = Counter(p.agent_id for p in plan)
    return {a.id: a.max_chats - a.active_chats - a.pending_offers - given_now[a.id] for a in agents}


@untimed
@given(scenarios)
def test_each_conversation_gets_at_most_one_offer_and_only_if_none_pending(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    plan = run(waiting, agents)
    ids = [p.conversation_id for p in plan]
    assert len(ids) == len(set(ids))
    by_id = {w.conversation_id: w for w in waiting}
    assert all(by_id[c].offered_to is None for c in ids)


@untimed
@given(scenarios)
def test_no_agent_exceeds_capacity_counting_chats_and_pending_offers(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    plan = run(waiting, agents)
    remaining = remaining_after(plan, agents)
    for agent_id in {p.agent_id for p in plan}:
        assert remaining[agent_id] >= 0


@untimed
@given(scenarios)
def test_every_offer_goes_to_an_agent_who_may_serve_the_conversation(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    by_conv = {w.conversation_id: w for w in waiting}
    by_agent = {a.id: a for a in agents}
    for p in run(waiting, agents):
        assert oracle_may_serve(by_agent[p.agent_id], by_conv[p.conversation_id], agents)


@untimed
@given(scenarios)
def test_no_agent_with_a_free_seat_idles_while_a_conversation_it_may_serve_waits(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    plan = run(waiting, agents)
    remaining = remaining_after(plan, agents)
    served = {p.conversation_id for p in plan}
    for conv in waiting:
        if conv.offered_to is not None or conv.conversation_id in served:
            continue
        for a in agents:
            assert not (remaining[a.id] > 0 and oracle_may_serve(a, conv, agents)), (
                f"{a.id} idles while {conv.conversation_id} waits"
            )


@untimed
@given(scenarios)
def test_no_later_conversation_takes_an_agent_an_earlier_unserved_one_could_have(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    plan = run(waiting, agents)
    order = [w.conversation_id for w in queue_order(waiting)]
    rank = {c: i for i, c in enumerate(order)}
    by_agent = {a.id: a for a in agents}
    served = {p.conversation_id for p in plan}
    for conv in waiting:
        if conv.offered_to is not None or conv.conversation_id in served:
            continue
        for p in plan:
            if rank[p.conversation_id] > rank[conv.conversation_id]:
                assert not oracle_may_serve(by_agent[p.agent_id], conv, agents)


@untimed
@given(scenarios)
def test_oldest_first_within_a_requirement_and_priority(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    served = {p.conversation_id for p in run(waiting, agents)}
    open_convs = [w for w in queue_order(waiting) if w.offered_to is None]
    for i, earlier in enumerate(open_convs):
        for later in open_convs[i + 1 :]:
            same = (earlier.requirement, earlier.priority) == (later.requirement, later.priority)
            if same and later.conversation_id in served:
                assert earlier.conversation_id in served


@untimed
@given(scenarios)
def test_excluded_agent_is_offered_only_when_no_other_could_take_it_then(
    scenario: tuple[list[WaitingView], list[AgentView]],
) -> None:
    waiting, agents = scenario
    plan = run(waiting, agents)
    by_conv = {w.conversation_id: w for w in waiting}
    used: Counter[str] = Counter()
    for p in plan:  # the plan is in queue order: replay capacity as it was at each step
        conv = by_conv[p.conversation_id]
        if p.agent_id in conv.excluded_agents:
            for a in agents:
                free = a.max_chats - a.active_chats - a.pending_offers - used[a.id]
                if a.id not in conv.excluded_agents and free > 0:
                    assert not oracle_may_serve(a, conv, agents)
        used[p.agent_id] += 1


@untimed
@given(scenarios, st.randoms(use_true_random=False))
def test_plan_does_not_depend_on_input_order(
    scenario: tuple[list[WaitingView], list[AgentView]], rnd: random.Random
) -> None:
    waiting, agents = scenario
    shuffled_waiting, shuffled_agents = list(waiting), list(agents)
    rnd.shuffle(shuffled_waiting)
    rnd.shuffle(shuffled_agents)
    assert run(shuffled_waiting, shuffled_agents) == run(waiting, agents)


@untimed
@given(scenarios)
def test_plan_is_in_queue_order(scenario: tuple[list[WaitingView], list[AgentView]]) -> None:
    waiting, agents = scenario
    rank = {w.conversation_id: i for i, w in enumerate(queue_order(waiting))}
    ranks = [rank[p.conversation_id] for p in run(waiting, agents)]
    assert ranks == sorted(ranks)

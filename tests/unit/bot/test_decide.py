"""Decision rules: answer, suggest, hand-off, in the documented order."""

from __future__ import annotations

import pytest

from chatdesk.bot.decide import Thresholds, decide
from chatdesk.bot.intents import Intent
from chatdesk.bot.matcher import Candidate

T = Thresholds(answer=0.6, suggest=0.2, margin=0.1)


def cand(entry_id: str, score: float) -> Candidate:
    return Candidate(entry_id, score, score, score, score, score, entry_id, "en")


def run(candidates: list[Candidate], intent: Intent | None = None, failures: int = 0):  # type: ignore[no-untyped-def]
    return decide(
        candidates,
        thresholds=T,
        intent=intent,
        handoff_entries={"human"},
        failures_in_row=failures,
    )


def test_confident_match_is_answered() -> None:
    d = run([cand("a", 0.8), cand("b", 0.5)])
    assert (d.outcome, d.reason, d.entry_id, d.score) == ("answer", "confident", "a", 0.8)


def test_close_runner_up_makes_it_a_suggestion_of_distinct_entries() -> None:
    d = run([cand("a", 0.8), cand("b", 0.75), cand("c", 0.3), cand("d", 0.25), cand("e", 0.1)])
    assert (d.outcome, d.reason, d.entry_id) == ("suggest", "unsure", None)
    assert [c.entry_id for c in d.suggestions] == ["a", "b", "c"]


def test_nothing_above_suggest_threshold_is_no_match() -> None:
    d = run([cand("a", 0.1)])
    assert (d.outcome, d.reason, d.suggestions, d.score) == ("suggest", "no_match", (), 0.1)
    assert run([]).reason == "no_match"


def test_confident_handoff_entry_wins_over_keyword_rules() -> None:
    d = run([cand("human", 0.9), cand("a", 0.2)], intent=Intent.ANGRY)
    assert (d.outcome, d.reason, d.entry_id) == ("handoff", "handoff_entry", "human")


def test_angry_hands_off_even_when_an_answer_is_confident() -> None:
    d = run([cand("a", 0.9)], intent=Intent.ANGRY)
    assert (d.outcome, d.reason, d.entry_id) == ("handoff", "angry", None)


def test_asking_for_a_person_carries_the_handoff_entry_when_it_is_a_candidate() -> None:
    d = run([cand("a", 0.5), cand("human", 0.4)], intent=Intent.ASKED_FOR_PERSON)
    assert (d.outcome, d.reason, d.entry_id) == ("handoff", "asked_for_person", "human")
    d = run([cand("a", 0.5)], intent=Intent.ASKED_FOR_PERSON)
    assert (d.outcome, d.entry_id) == ("handoff", None)


def test_asking_for_a_person_prefers_the_entry_written_for_that() -> None:
    """A complaints entry may match the rest of the message better; the visitor asked for a
    person, so the entry written for that is shown when it is a candidate at all."""
    candidates = [cand("complaint", 0.5), cand("a", 0.45), cand("human", 0.3)]
    for person_entries, carried in (({"human"}, "human"), (set(), "complaint")):
        d = decide(
            candidates,
            thresholds=T,
            intent=Intent.ASKED_FOR_PERSON,
            handoff_entries={"human", "complaint"},
            failures_in_row=0,
            person_entries=person_entries,
        )
        assert (d.outcome, d.entry_id) == ("handoff", carried)
    d = decide(
        [cand("complaint", 0.5)],
        thresholds=T,
        intent=Intent.ASKED_FOR_PERSON,
        handoff_entries={"human", "complaint"},
        failures_in_row=0,
        person_entries={"human"},
    )
    assert d.entry_id == "complaint"  # not a candidate: the best hand-off entry that is


@pytest.mark.parametrize(("failures", "outcome"), [(0, "suggest"), (1, "suggest"), (2, "handoff")])
def test_after_two_failed_turns_another_failure_hands_off(failures: int, outcome: str) -> None:
    d = run([cand("a", 0.3)], failures=failures)
    assert d.outcome == outcome
    if outcome == "handoff":
        assert d.reason == "repeated_failure"


def test_a_confident_answer_resets_nothing_and_is_answered_after_failures() -> None:
    assert run([cand("a", 0.9)], failures=5).outcome == "answer"


def test_thresholds_are_validated() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        Thresholds(answer=1.5, suggest=0.2, margin=0.1)
    with pytest.raises(ValueError, match="must not exceed"):
        Thresholds(answer=0.3, suggest=0.5, margin=0.1)


def test_confidence_from_a_clause_reaches_the_answer_threshold_but_not_the_margin() -> None:
    def with_confidence(candidates: list[Candidate], confidence: float):  # type: ignore[no-untyped-def]
        return decide(
            candidates,
            thresholds=T,
            intent=None,
            handoff_entries=(),
            failures_in_row=0,
            confidence=confidence,
        )

    d = with_confidence([cand("a", 0.3), cand("b", 0.1)], 0.7)
    assert (d.outcome, d.entry_id, d.score) == ("answer", "a", 0.3)
    d = with_confidence([cand("a", 0.3), cand("b", 0.25)], 0.9)
    assert (d.outcome, d.entry_id) == ("suggest", None)
    assert with_confidence([cand("a", 0.3), cand("b", 0.1)], 0.5).outcome == "suggest"

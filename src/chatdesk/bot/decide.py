"""The bot's decision for one question: answer, suggest or hand off. Pure.

Order of the rules, and why:

1. A confident match on a ``handoff: true`` entry wins over everything (the FAQ author wrote
   that entry for exactly this situation; its answer tells the visitor what happens next).
2. Angry -> hand off (reason ``angry``): the caller escalates to a supervisor. Even a confident
   answer would read as dismissive.
3. Asks for a person -> hand off (reason ``asked_for_person``), carrying the best ``handoff: true``
   entry among the candidates when there is one, so its answer can be shown. Among them, an
   entry written for asking for a person (``person_entries``) goes before others such as a
   complaints entry (which the rest of the message may match better).
4. Confident (the top entry's confidence >= answer threshold, and its score ahead of the next
   entry's by the margin) -> answer. The confidence is the score unless the caller found
   stronger evidence for the same entry (the engine: the best clause of a chatty message).
5. Otherwise the turn failed: suggest up to 3 entries above the suggest threshold (reason
   ``unsure``) or none (``no_match``), taken from ``suggestion_pool`` when the caller has a
   ranking better at recall than at confidence (the engine's semantic fusion), else from the
   candidates. If the bot had already failed twice in a row in this
   conversation (``failures_in_row >= FAILURES_BEFORE_HANDOFF``), hand off instead (reason
   ``repeated_failure``): the visitor saw two unhelpful replies, a third one would be worse
   than a human.

A wrong confident answer is worse than a hand-off, so the thresholds are set from measured
wrong-answer rates (bench/faq_eval.py, docs/bot.md "Thresholds").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from chatdesk.bot.intents import Intent
from chatdesk.bot.matcher import Candidate

Outcome = Literal["answer", "suggest", "handoff"]
MAX_SUGGESTIONS = 3
# Consecutive failed turns before this one after which a further failure hands off.
FAILURES_BEFORE_HANDOFF = 2


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds on the 0..1 candidate score."""

    answer: float
    suggest: float
    margin: float

    def __post_init__(self) -> None:
        for name in ("answer", "suggest", "margin"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold {name} must be within 0..1, got {value}")
        if self.suggest > self.answer:
            raise ValueError("the suggest threshold must not exceed the answer threshold")


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do; ``entry_id`` is set for answers and for hand-offs from an entry."""

    outcome: Outcome
    reason: str
    entry_id: str | None
    suggestions: tuple[Candidate, ...]
    score: float


def is_confident(
    candidates: Sequence[Candidate], thresholds: Thresholds, confidence: float | None = None
) -> bool:
    """Top entry's confidence high enough and its score far enough ahead of the next entry.

    ``confidence`` (default: the top score) is the evidence for the top entry; the margin is
    measured on the scores of the ranking itself, where both entries saw the same text.
    """
    if not candidates:
        return False
    top = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    level = top if confidence is None else max(top, confidence)
    return level >= thresholds.answer and top - runner_up >= thresholds.margin


def decide(
    candidates: Sequence[Candidate],
    *,
    thresholds: Thresholds,
    intent: Intent | None,
    handoff_entries: Collection[str],
    failures_in_row: int,
    confidence: float | None = None,
    suggestion_pool: Sequence[Candidate] | None = None,
    person_entries: Collection[str] = (),
) -> Decision:
    """Apply the rules of the module docstring to ranked, one-per-entry candidates.

    ``confidence``: evidence for the top candidate used against the answer threshold (default
    its score); ``Decision.score`` stays the top candidate's score. ``suggestion_pool``: the
    ranking to suggest from when not answering (default the candidates).
    ``person_entries``: the hand-off entries whose own phrasings ask for a person.
    """
    score = candidates[0].score if candidates else 0.0
    confident = is_confident(candidates, thresholds, confidence)
    if confident and candidates[0].entry_id in handoff_entries:
        return Decision("handoff", "handoff_entry", candidates[0].entry_id, (), score)
    if intent is Intent.ANGRY:
        return Decision("handoff", Intent.ANGRY.value, None, (), score)
    if intent is Intent.ASKED_FOR_PERSON:
        offered = [c.entry_id for c in candidates if c.score >= thresholds.suggest]
        entry = next((e for e in offered if e in person_entries), None) or next(
            (e for e in offered if e in handoff_entries), None
        )
        return Decision("handoff", Intent.ASKED_FOR_PERSON.value, entry, (), score)
    if confident:
        return Decision("answer", "confident", candidates[0].entry_id, (), score)
    pool = candidates if suggestion_pool is None else suggestion_pool
    suggestions = tuple(c for c in pool if c.score >= thresholds.suggest)[:MAX_SUGGESTIONS]
    if failures_in_row >= FAILURES_BEFORE_HANDOFF:
        return Decision("handoff", "repeated_failure", None, suggestions, score)
    return Decision("suggest", "unsure" if suggestions else "no_match", None, suggestions, score)

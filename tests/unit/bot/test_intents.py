"""Asks-for-person and angry detection, on a labelled set with lures in six languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatdesk.bot.intents import Intent, detect_intent

SET = Path(__file__).parent / "data" / "intents" / "person_angry.jsonl"
LABELS = {"person": Intent.ASKED_FOR_PERSON, "angry": Intent.ANGRY}


def load() -> list[dict[str, str]]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line]


def test_labelled_set_covers_six_languages_with_lures() -> None:
    rows = load()
    for lang in ("en", "cs", "sk", "pl", "et", "lv"):
        labels = {r["label"] for r in rows if r["lang"] == lang}
        assert labels == {"person", "angry", "none"}, lang


@pytest.mark.parametrize("label", ["person", "angry"])
def test_precision_and_recall_on_the_labelled_set(label: str) -> None:
    tp = fp = fn = 0
    for row in load():
        match = detect_intent(row["text"])
        got = match is not None and match.intent is LABELS[label]
        tp += got and row["label"] == label
        fp += got and row["label"] != label
        fn += (not got) and row["label"] == label
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "I want to meet new people",
        "this TV is insanely good",
        "this TV is insanely good!!!",
        "Is the agent app free?",
        "WiFi",
        "chci poznat nové lidi",
    ],
)
def test_lures_are_not_intents(text: str) -> None:
    assert detect_intent(text) is None


def test_shouting_needs_several_upper_case_words() -> None:
    assert detect_intent("WHERE IS MY PARCEL") is not None
    assert detect_intent("Is the TV HDR ready?") is None


def test_evidence_is_reported() -> None:
    match = detect_intent("chci mluvit s operátorem")
    assert match is not None
    assert match.intent is Intent.ASKED_FOR_PERSON
    assert "operator" in match.evidence

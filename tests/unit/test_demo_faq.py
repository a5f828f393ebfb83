"""The shipped demo FAQ (Velora, a fictional bike shop) and its held-out query set stay sound.

The demo FAQ is what `chatdesk serve` answers with out of the box and what the bench scores the
matcher against, so it must always validate, cover every language, and keep its held-out
queries honest: complete, and never copied into the FAQ they are meant to test.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from chatdesk.bot.faq import Faq, load_faq

REPO_ROOT = Path(__file__).resolve().parents[2]
FAQ_DIR = REPO_ROOT / "faq"
QUERIES_DIR = REPO_ROOT / "bench" / "faq_queries"
LANGUAGES = ("en", "cs", "sk", "pl", "et", "lv")
IN_SCOPE_KINDS = ("paraphrase", "noisy", "chatty")
HANDOFF_ENTRIES = {"talk-to-human", "complaint"}
MIN_ENTRIES = 30
MIN_PHRASINGS = 3
MIN_OOS_PER_LANGUAGE = 20
MAX_KEYWORD_WORDS = 4  # a "short keyword phrasing" such as "return policy" or "vrácení zboží"


def _fold(text: str) -> str:
    """Case-, diacritics- and punctuation-insensitive form, as a visitor's typing varies."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", stripped).strip()


@pytest.fixture(scope="module")
def faq() -> Faq:
    return load_faq(FAQ_DIR, languages=LANGUAGES)


@pytest.fixture(scope="module")
def queries() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in sorted(QUERIES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def test_demo_faq_loads_without_problems_and_has_enough_entries(faq: Faq) -> None:
    assert len(faq.entries) >= MIN_ENTRIES


def test_every_entry_has_all_languages_with_phrasings_and_an_answer(faq: Faq) -> None:
    for entry in faq.entries:
        assert set(entry.questions) == set(LANGUAGES), entry.id
        assert set(entry.answer) == set(LANGUAGES), entry.id
        for lang in LANGUAGES:
            phrasings = entry.questions[lang]
            assert len(phrasings) >= MIN_PHRASINGS, (entry.id, lang)
            assert all(p.strip() for p in phrasings), (entry.id, lang)
            assert entry.answer[lang].strip(), (entry.id, lang)


def test_every_entry_has_a_short_keyword_phrasing_per_language(faq: Faq) -> None:
    for entry in faq.entries:
        for lang in LANGUAGES:
            shortest = min(len(p.split()) for p in entry.questions[lang])
            assert shortest <= MAX_KEYWORD_WORDS, (entry.id, lang)


def test_only_the_person_and_complaint_entries_hand_off(faq: Faq) -> None:
    assert {entry.id for entry in faq.entries if entry.handoff} == HANDOFF_ENTRIES


def test_held_out_rows_are_well_formed(faq: Faq, queries: list[dict[str, object]]) -> None:
    ids = {entry.id for entry in faq.entries}
    assert queries
    for row in queries:
        assert set(row) == {"text", "lang", "expected", "kind"}, row
        assert isinstance(row["text"], str) and row["text"].strip(), row
        assert row["lang"] in LANGUAGES, row
        if row["kind"] == "oos":
            assert row["expected"] is None, row
        else:
            assert row["kind"] in IN_SCOPE_KINDS, row
            assert row["expected"] in ids, row


def test_held_out_set_covers_every_entry_language_and_kind(
    faq: Faq, queries: list[dict[str, object]]
) -> None:
    seen = Counter((q["expected"], q["lang"], q["kind"]) for q in queries if q["kind"] != "oos")
    missing = [
        (entry.id, lang, kind)
        for entry in faq.entries
        for lang in LANGUAGES
        for kind in IN_SCOPE_KINDS
        if seen[(entry.id, lang, kind)] == 0
    ]
    assert missing == []


def test_held_out_set_has_enough_out_of_scope_queries_per_language(
    queries: list[dict[str, object]],
) -> None:
    oos = Counter(q["lang"] for q in queries if q["kind"] == "oos")
    assert {lang: oos[lang] for lang in LANGUAGES if oos[lang] < MIN_OOS_PER_LANGUAGE} == {}


def test_noisy_queries_are_lower_case_without_diacritics(
    queries: list[dict[str, object]],
) -> None:
    for row in queries:
        if row["kind"] == "noisy":
            text = str(row["text"])
            assert text == text.lower(), row
            assert text.isascii(), row


def test_no_held_out_query_repeats_an_faq_example_question(
    faq: Faq, queries: list[dict[str, object]]
) -> None:
    examples = {
        _fold(phrasing)
        for entry in faq.entries
        for phrasings in entry.questions.values()
        for phrasing in phrasings
    }
    copied = [q["text"] for q in queries if _fold(str(q["text"])) in examples]
    assert copied == []

"""Matching is robust to diacritics, case, typos, inflection, word order, noise and language."""

from __future__ import annotations

import pytest

from chatdesk.bot.faq import Faq
from chatdesk.bot.matcher import FaqIndex, token_similarity


@pytest.fixture(scope="module")
def index(shop_faq: Faq) -> FaqIndex:
    return FaqIndex(shop_faq)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("kolik stoji doprava", "cs", "shipping-cost"),  # no diacritics
        ("KOLIK STOJÍ DOPRAVA", "cs", "shipping-cost"),  # case
        ("kolik stoij doprva", "cs", "shipping-cost"),  # typos
        ("kde je moje objednavku", "cs", "order-status"),  # inflection
        ("stav mojí objednávce", "cs", "order-status"),  # inflection
        ("doprava stojí kolik", "cs", "shipping-cost"),  # word order
        ("Dobrý den, kde je objednávka 2024-55812? Díky", "cs", "order-status"),  # noise
        ("ile kosztuje wysylka", "pl", "shipping-cost"),  # Polish without ł/ą
        ("zwrot towaru prosze", "pl", "returns"),
        ("kur ir mans pasutijums", "lv", "order-status"),
        ("kus mu tellimus on", "et", "order-status"),
        ("kolko stoji doprava", "sk", "shipping-cost"),
        ("Jak vrátit zboží", "sk", "returns"),  # entry has no Slovak: Czech phrasing matches
        ("platba kartou", "pl", "payment-methods"),  # matched through another language
    ],
)
def test_question_variants_rank_the_right_entry_first(
    index: FaqIndex, text: str, lang: str, expected: str
) -> None:
    candidates = index.search(text, lang=lang)
    assert candidates[0].entry_id == expected
    assert candidates[0].score > 0.5


def test_one_shared_word_does_not_make_a_strong_match(index: FaqIndex) -> None:
    """Unlike WRatio/partial scorers, a lure sharing one word scores far below a real match."""
    lure = index.search("what is the best cost for a holiday flight to Spain", lang="en")
    real = index.search("how much does shipping cost", lang="en")
    assert real[0].score - lure[0].score > 0.4


def test_subset_of_words_is_not_a_perfect_match(index: FaqIndex) -> None:
    """token_set_ratio gives 100 when one word set contains the other; we do not."""
    (top, *_) = index.search("shipping cost of wooden garden furniture to Norway", lang="en")
    assert top.score < 0.6


def test_candidates_are_distinct_entries_best_first(index: FaqIndex) -> None:
    candidates = index.search("order shipping cost status", lang="en", limit=10)
    ids = [c.entry_id for c in candidates]
    assert len(ids) == len(set(ids))
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)


def test_text_without_words_finds_nothing(index: FaqIndex) -> None:
    assert index.search("12345 !!!", lang="en") == []


def test_token_similarity_accepts_typos_and_inflection_but_not_different_words() -> None:
    assert token_similarity("doprava", "doprava") == 1.0
    assert token_similarity("objednavka", "objednavku") > 0.85
    assert token_similarity("doprava", "doprva") > 0.8
    assert token_similarity("cost", "cast") == 0.0
    assert token_similarity("kos", "kot") == 0.0


def test_vocabulary_expansion_agrees_with_token_similarity(index: FaqIndex) -> None:
    """The vectorised typo lookup keeps exactly the words ``token_similarity`` accepts."""
    for word in ("objednavku", "doprva", "zamowienia", "shiping", "kosztuj", "pasutijum"):
        expanded = dict(index.expand(word))
        assert expanded, word
        for token, sim in expanded.items():
            other = index.word(token)
            assert sim == pytest.approx(token_similarity(word, other)), (word, other)


def test_index_of_an_faq_without_entries_finds_nothing() -> None:
    assert FaqIndex(Faq(entries=())).search("shipping cost", lang="en") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("kolik stoji doprava a vraceni", "cs"),
        ("where is my order, can I pay by card", "en"),
        ("ile kosztuje wysylka", None),
        ("opening hours delivery fee return policy", "en"),
    ],
)
def test_entry_score_equals_the_score_search_gives_that_entry(
    index: FaqIndex, text: str, lang: str | None
) -> None:
    candidates = index.search(text, lang=lang, limit=10)
    assert candidates
    for candidate in candidates:
        assert index.entry_score(text, candidate.entry_id, lang=lang) == pytest.approx(
            candidate.score, abs=1e-9
        )
    assert index.entry_score(text, "no-such-entry", lang=lang) == 0.0

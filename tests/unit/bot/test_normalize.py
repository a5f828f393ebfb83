"""Normalisation: folding, noise removal and light stemming."""

from __future__ import annotations

from chatdesk.bot.normalize import content_words, fold, split_clauses, stem, words


def test_fold_removes_diacritics_including_polish_l_with_stroke() -> None:
    assert fold("Łódź ŻÓŁW Příliš žluťoučký Ģirts õun") == "lodz zolw prilis zlutoucky girts oun"


def test_words_drop_order_numbers_and_punctuation() -> None:
    assert words("Objednávka č. 2024-55812, kód AB12CD!") == ["objednavka", "c", "kod"]


def test_content_words_drop_greetings_and_function_words() -> None:
    assert content_words("Dobrý den, kolik stojí doprava prosím?") == ["stoji", "doprava"]
    assert content_words("hello") == ["hello"]


def test_inflected_forms_share_a_stem() -> None:
    forms = {stem(w) for w in ("objednavka", "objednavky", "objednavku", "objednavce")}
    assert forms == {"objednav"}
    assert stem("zamowienia") == stem("zamowienie")


def test_short_words_are_not_stemmed() -> None:
    assert stem("auto") == "auto"
    assert stem("kos") == "kos"


def test_clauses_drop_greetings_thanks_and_bare_numbers() -> None:
    text = "Hi! I ordered a lamp - 55812. Where is my parcel? Thanks"
    assert split_clauses(text) == ["I ordered a lamp", "Where is my parcel"]


def test_decimal_comma_does_not_split_a_clause() -> None:
    assert split_clauses("Dobrý den, doprava stojí 4,90 EUR; díky") == ["doprava stojí 4,90 EUR"]
    assert split_clauses("hello") == []

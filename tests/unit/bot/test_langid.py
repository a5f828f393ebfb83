"""Language: hint, then conversation, then identification among the FAQ's languages."""

from __future__ import annotations

import pytest

from chatdesk.bot.engine import BotEngine


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("proc jeste neprisla moje objednavka", "cs"),
        ("preco este neprisla moja objednavka", "sk"),
        ("gdzie jest moje zamowienie", "pl"),
        ("kus on minu tellimus", "et"),
        ("kur ir mans pasutijums", "lv"),
        ("where is my order", "en"),
        ("Příliš žluťoučký kůň", "cs"),
        ("Ľúbim ťa", "sk"),
    ],
)
def test_text_identification_among_faq_languages(
    engine: BotEngine, text: str, expected: str
) -> None:
    assert engine.detect_language(text) == expected


def test_hint_wins_over_text(engine: BotEngine) -> None:
    assert engine.detect_language("where is my order", lang_hint="cs") == "cs"


def test_regional_hint_is_folded(engine: BotEngine) -> None:
    assert engine.detect_language("where is my order", lang_hint="pl-PL") == "pl"


def test_unsupported_hint_falls_back_to_conversation_then_text(engine: BotEngine) -> None:
    assert engine.detect_language("gdzie jest moje zamowienie", lang_hint="de") == "pl"
    assert engine.detect_language("gdzie", lang_hint="de", conversation_lang="lv") == "lv"


def test_czech_slovak_tie_is_broken_by_either_hint(engine: BotEngine) -> None:
    ambiguous = "cena dopravy"
    assert engine.detect_language(ambiguous, lang_hint="sk") == "sk"
    assert engine.detect_language(ambiguous, conversation_lang="cs") == "cs"


def test_text_without_letters_gets_the_default_language(engine: BotEngine) -> None:
    assert engine.detect_language("12345 ?!") == "en"

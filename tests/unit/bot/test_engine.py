"""BotEngine: the reply contract of POST /api/v1/bot/ask, end to end on the shop FAQ."""

from __future__ import annotations

import pytest

from chatdesk.bot.engine import (
    DEFAULT_ANSWER_THRESHOLD,
    BotEngine,
    BotSettings,
    format_test_report,
)
from chatdesk.bot.faq import Faq


def test_confident_question_is_answered_in_its_language(engine: BotEngine) -> None:
    reply = engine.ask("Dobrý den, kolik stojí doprava?")
    assert (reply.outcome, reply.lang, reply.entry_id) == ("answer", "cs", "shipping-cost")
    assert reply.answer == "Doprava v rámci EU stojí 4,90 EUR."
    assert (
        reply.score == reply.candidates[0].score
        or abs(reply.score - reply.candidates[0].score) < 1e-3
    )
    assert reply.suggestions == ()


def test_answer_falls_back_to_default_language(engine: BotEngine) -> None:
    reply = engine.ask("kiedy jest otwarty sklep opening hours", lang_hint="pl")
    assert reply.entry_id == "opening-hours"
    assert reply.lang == "pl"
    assert reply.answer is not None and reply.answer.startswith("Our shop")


def test_unsure_question_gets_distinct_suggestions_in_reply_language(engine: BotEngine) -> None:
    reply = engine.ask("doprava a vrácení", lang_hint="cs")
    assert reply.outcome == "suggest"
    assert reply.entry_id is None and reply.answer is None
    ids = [s.entry_id for s in reply.suggestions]
    assert 1 <= len(ids) <= 3 and len(set(ids)) == len(ids)
    assert {s.question for s in reply.suggestions} == {"Kolik stojí doprava?", "Jak vrátit zboží?"}


def test_handoff_entry_returns_its_id_and_answer(engine: BotEngine) -> None:
    reply = engine.ask("I want to talk to a human agent")
    assert (reply.outcome, reply.reason, reply.entry_id) == (
        "handoff",
        "handoff_entry",
        "human-agent",
    )
    assert reply.answer == "Connecting you with a colleague."


@pytest.mark.parametrize("text", ["gribu runāt ar cilvēku", "połącz mnie z konsultantem"])
def test_asking_for_a_person_in_any_language_hands_off(engine: BotEngine, text: str) -> None:
    reply = engine.ask(text)
    assert reply.outcome == "handoff"
    assert reply.reason in {"asked_for_person", "handoff_entry"}


def test_angry_visitor_is_handed_off(engine: BotEngine) -> None:
    reply = engine.ask("WHERE IS MY ORDER, THIS IS RIDICULOUS")
    assert (reply.outcome, reply.reason, reply.entry_id, reply.answer) == (
        "handoff",
        "angry",
        None,
        None,
    )


def test_third_failure_in_a_row_hands_off(engine: BotEngine) -> None:
    first = engine.ask("do you sell bicycles", failures_in_row=0)
    assert first.failed and first.outcome == "suggest"
    assert engine.ask("do you sell bicycles", failures_in_row=1).outcome == "suggest"
    third = engine.ask("do you sell bicycles", failures_in_row=2)
    assert (third.outcome, third.reason) == ("handoff", "repeated_failure")


def test_reply_language_is_always_an_faq_language(shop_faq: Faq) -> None:
    engine = BotEngine.build(
        shop_faq, BotSettings(languages=("en", "cs"), default_language="cs", semantic="off")
    )
    assert engine.languages == ("cs", "en")
    assert engine.ask("gdzie jest moje zamówienie", lang_hint="pl").lang in {"cs", "en"}
    assert engine.ask("?!").lang == "cs"


def test_empty_faq_still_replies(settings: BotSettings) -> None:
    engine = BotEngine.build(Faq(entries=()), settings)
    reply = engine.ask("hello")
    assert (reply.outcome, reply.reason, reply.lang, reply.score) == (
        "suggest",
        "no_match",
        "en",
        0.0,
    )


def test_quick_replies_in_language_with_fallback(engine: BotEngine) -> None:
    replies = {r.entry_id: r for r in engine.quick_replies("cs-CZ")}
    assert replies["shipping-cost"].question == "Kolik stojí doprava?"
    assert replies["payment-methods"].answer.startswith("Přijímáme")
    assert replies["returns"].answer == "Zboží můžete vrátit do 30 dnů."
    et = {r.entry_id: r for r in engine.quick_replies("et")}
    assert et["returns"].answer == "You can return goods within 30 days."
    assert len(et) == 6


def test_test_report_shows_decision_and_component_scores(engine: BotEngine) -> None:
    report = format_test_report(engine.ask("kolik stoji doprava", lang_hint="cs"))
    assert report.splitlines()[0].startswith("decision: answer (confident)  lang: cs")
    assert "query" in report and "bag" in report and "chars" in report
    assert "shipping-cost" in report
    assert "confidence: " in report.splitlines()[0]


def test_chatty_message_is_answered_from_its_question_clause(engine: BotEngine) -> None:
    text = (
        "Hello! We moved to a new flat last week and the kids love the new garden, order"
        " 55812. How much is the delivery fee? Thanks a lot, have a nice day"
    )
    reply = engine.ask(text, lang_hint="en")
    assert (reply.outcome, reply.entry_id) == ("answer", "shipping-cost")
    assert reply.score < DEFAULT_ANSWER_THRESHOLD < reply.confidence


def test_single_clause_confidence_is_the_top_score(engine: BotEngine) -> None:
    reply = engine.ask("kolik stojí doprava", lang_hint="cs")
    assert reply.confidence == reply.score


def test_handoff_entries_written_for_asking_for_a_person_are_known(engine: BotEngine) -> None:
    assert engine.person_entries == frozenset({"human-agent"})

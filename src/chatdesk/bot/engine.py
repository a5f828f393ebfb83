"""The FAQ bot engine: language -> intents -> matching -> decision -> reply. Pure, no I/O.

Built once per FAQ (``BotEngine.build``), then immutable, so a hot reload swaps whole engines
and a question never sees a half-built index. ``ask`` is CPU-only and takes about a
millisecond of CPU even on a 1,000-entry FAQ (bench/faq_speed.py), so callers may run it on the
event loop.
See docs/bot.md for the pipeline and how the thresholds were chosen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Literal

from chatdesk.bot.decide import Thresholds, decide
from chatdesk.bot.faq import Faq, FaqEntry, normalize_language
from chatdesk.bot.intents import Intent, detect_intent
from chatdesk.bot.langid import LanguageIdentifier
from chatdesk.bot.matcher import Candidate, FaqIndex, best_phrasing
from chatdesk.bot.normalize import split_clauses
from chatdesk.bot.semantic import SemanticIndex, SemanticMode, fuse, load_embedder

__all__ = [
    "DEFAULT_ANSWER_THRESHOLD",
    "DEFAULT_MARGIN",
    "DEFAULT_SUGGEST_THRESHOLD",
    "BotEngine",
    "BotReply",
    "BotSettings",
    "Candidate",
    "QuickReply",
    "Suggestion",
    "format_test_report",
]

# One setting for every FAQ, chosen with bench/faq_eval.py on two FAQs at once (the visible
# "Linka" set and the demo company's held-out set): among the (threshold, margin) pairs that kept
# wrong answers <= 5 % and answered out-of-scope questions <= 10 % on both, the one with the best
# top-1 on the worse of the two (docs/bot.md "Thresholds"). Suggestions cost little when wrong,
# so that threshold is low.
DEFAULT_ANSWER_THRESHOLD = 0.38
DEFAULT_SUGGEST_THRESHOLD = 0.05
DEFAULT_MARGIN = 0.09
CANDIDATES_SHOWN = 5
# Lexical candidates the semantic evidence may re-rank.
FUSION_DEPTH = 30


@dataclass(frozen=True, slots=True)
class BotSettings:
    """Configuration of the engine (from CHATDESK_* settings)."""

    languages: tuple[str, ...]
    default_language: str
    answer_threshold: float = DEFAULT_ANSWER_THRESHOLD
    suggest_threshold: float = DEFAULT_SUGGEST_THRESHOLD
    margin: float = DEFAULT_MARGIN
    semantic: SemanticMode = "auto"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An entry offered to the visitor, phrased in the reply's language."""

    entry_id: str
    question: str
    score: float


@dataclass(frozen=True, slots=True)
class QuickReply:
    """An FAQ answer offered to agents in the console."""

    entry_id: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class BotReply:
    """The bot's reply; see decide.py for the meaning of ``outcome`` and ``reason``."""

    outcome: Literal["answer", "suggest", "handoff"]
    lang: str
    entry_id: str | None
    answer: str | None
    score: float
    suggestions: tuple[Suggestion, ...]
    reason: str
    candidates: tuple[Candidate, ...]
    # Evidence for the top candidate checked against the answer threshold: its score, or its
    # best score on one clause of a chatty message (see ``BotEngine.confidence``).
    confidence: float = 0.0
    # What the suggestions are taken from: the fused lexical + semantic ranking with the
    # semantic extra, else ``candidates``.
    ranking: tuple[Candidate, ...] = ()

    @property
    def failed(self) -> bool:
        """A failed turn for the repeated-failure rule: a suggestion or no match."""
        return self.outcome == "suggest" or self.reason == "repeated_failure"


class BotEngine:
    """Answers questions from one FAQ; immutable once built."""

    def __init__(
        self,
        faq: Faq,
        settings: BotSettings,
        index: FaqIndex,
        identifier: LanguageIdentifier,
        languages: tuple[str, ...],
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.faq = faq
        self.semantic = semantic
        self.settings = settings
        self._index = index
        self._identifier = identifier
        self._languages = languages
        self._thresholds = Thresholds(
            answer=settings.answer_threshold,
            suggest=settings.suggest_threshold,
            margin=settings.margin,
        )
        self._handoff_entries = frozenset(e.id for e in faq.entries if e.handoff)
        # The hand-off entries written for "I want a person" (most of their phrasings are
        # recognised as asking for one), as opposed to e.g. a complaints entry.
        self._person_entries = frozenset(
            e.id for e in faq.entries if e.handoff and _asks_for_person(e)
        )

    @classmethod
    def build(
        cls, faq: Faq, settings: BotSettings, *, stop: threading.Event | None = None
    ) -> BotEngine:
        """Index ``faq``; replies use only languages both configured and present in the FAQ.

        ``stop`` aborts the (slow) semantic part of a build with ``BuildCancelledError``.
        """
        configured = {normalize_language(lang) for lang in settings.languages}
        languages = tuple(lang for lang in faq.languages if lang in configured)
        samples: dict[str, list[str]] = {lang: [] for lang in languages}
        for entry in faq.entries:
            for lang, phrasings in entry.questions.items():
                if lang in samples:
                    samples[lang].extend(phrasings)
            for lang, text in entry.answer.items():
                if lang in samples:
                    samples[lang].append(text)
        embedder = load_embedder(settings.semantic)
        semantic = SemanticIndex(faq, embedder, stop=stop) if embedder is not None else None
        return cls(faq, settings, FaqIndex(faq), LanguageIdentifier(samples), languages, semantic)

    @property
    def person_entries(self) -> frozenset[str]:
        """Hand-off entries written for asking for a person (see ``decide``)."""
        return self._person_entries

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages the bot replies in."""
        return self._languages

    def detect_language(
        self, text: str, *, lang_hint: str | None = None, conversation_lang: str | None = None
    ) -> str:
        """The hint, else the conversation's language, else identification, else the default."""
        for given in (lang_hint, conversation_lang):
            if given:
                lang = normalize_language(given)
                if lang in self._languages:
                    return lang
        identified = self._identifier.identify(text) if self._languages else None
        if identified is not None:
            return identified
        default = normalize_language(self.settings.default_language)
        if default in self._languages or not self._languages:
            return default
        return self._languages[0]

    def ask(
        self,
        text: str,
        *,
        lang_hint: str | None = None,
        conversation_lang: str | None = None,
        failures_in_row: int = 0,
    ) -> BotReply:
        """Decide how to reply to ``text``.

        ``failures_in_row`` is the number of consecutive failed bot turns (``BotReply.failed``)
        just before this one in the conversation; the caller keeps that counter.
        """
        lang = self.detect_language(text, lang_hint=lang_hint, conversation_lang=conversation_lang)
        candidates, confidence, fused = self._rank(text, lang)
        decision = decide(
            candidates,
            thresholds=self._thresholds,
            intent=(match.intent if (match := detect_intent(text)) else None),
            handoff_entries=self._handoff_entries,
            failures_in_row=failures_in_row,
            confidence=confidence,
            suggestion_pool=fused,
            person_entries=self._person_entries,
        )
        answer = self._answer_text(decision.entry_id, lang) if decision.entry_id else None
        suggestions = tuple(
            Suggestion(
                entry_id=c.entry_id,
                question=best_phrasing(self.faq, c.entry_id, lang, self.settings.default_language),
                score=round(c.score, 4),
            )
            for c in decision.suggestions
        )
        return BotReply(
            outcome=decision.outcome,
            lang=lang,
            entry_id=decision.entry_id,
            answer=answer,
            score=round(decision.score, 4),
            suggestions=suggestions,
            reason=decision.reason,
            candidates=candidates,
            confidence=round(confidence, 4),
            ranking=fused if fused is not None else candidates,
        )

    def _rank(
        self, text: str, lang: str
    ) -> tuple[tuple[Candidate, ...], float, tuple[Candidate, ...] | None]:
        """Lexical candidates, the evidence for the top one, and the fused ranking (if any).

        The lexical matcher alone decides whether to answer: its evidence is calibrated on what
        a question leaves unexplained, while embedding cosines are high for any question on the
        same topic ("is the swimming pool open on Sunday" vs. "opening hours"), which would let
        out-of-scope lures through. The embedding's strength is recall, so the fused ranking is
        what the bot suggests when it does not answer (docs/bot.md "Semantic evidence").
        """
        if self.semantic is None:
            lexical = tuple(self._index.search(text, lang=lang, limit=CANDIDATES_SHOWN))
            evidence = self.confidence(text, lang, lexical[0]) if lexical else 0.0
            return lexical, evidence, None
        found = self._index.search(text, lang=lang, limit=FUSION_DEPTH)
        similarities = self.semantic.similarities(text)
        fused = fuse(found, similarities, self.semantic.entry_ids)
        cosine = dict(zip(self.semantic.entry_ids, similarities.tolist(), strict=True))
        lexical = tuple(
            replace(c, semantic=cosine.get(c.entry_id, 0.0)) for c in found[:CANDIDATES_SHOWN]
        )
        evidence = self.confidence(text, lang, lexical[0]) if lexical else 0.0
        return lexical, evidence, tuple(fused[:CANDIDATES_SHOWN])

    def confidence(self, text: str, lang: str, top: Candidate) -> float:
        """Lexical evidence for ``top``: its score, or its best score on a single clause.

        The ranking comes from the whole message (every clause votes, so it ranks best), but a
        chatty message's greeting, story and thanks dilute the score of the entry it asks
        about. Scoring each content clause alone and keeping the top entry's best score
        separates in-scope from out-of-scope questions much better (bench/faq_eval.py: AUROC
        0.67 -> 0.83 and 0.63 -> 0.79 on the two evaluation sets). Only the whole message's top
        entry can gain: a clause that ranks another entry first does not change the ranking.
        """
        clauses = split_clauses(text)
        if len(clauses) < 2:
            return top.score
        best = top.score
        for clause in clauses:
            best = max(best, self._index.entry_score(clause, top.entry_id, lang=lang))
        return best

    def _answer_text(self, entry_id: str, lang: str) -> str | None:
        entry = self.faq.get(entry_id)
        if entry is None:
            return None
        default = normalize_language(self.settings.default_language)
        for code in (lang, default, *sorted(entry.answer)):
            if code in entry.answer:
                return entry.answer[code]
        return None

    def quick_replies(self, lang: str) -> list[QuickReply]:
        """Every entry's answer in ``lang`` (else the default language) for the agent console."""
        code = normalize_language(lang)
        default = normalize_language(self.settings.default_language)
        replies = []
        for entry in self.faq.entries:
            answer = self._answer_text(entry.id, code)
            if answer is None:
                continue
            question = best_phrasing(self.faq, entry.id, code, default)
            replies.append(QuickReply(entry_id=entry.id, question=question, answer=answer))
        return replies


def _asks_for_person(entry: FaqEntry) -> bool:
    """Whether most of ``entry``'s phrasings are themselves requests for a person."""
    phrasings = [p for ps in entry.questions.values() for p in ps]
    asking = sum(
        1
        for p in phrasings
        if (match := detect_intent(p)) is not None and match.intent is Intent.ASKED_FOR_PERSON
    )
    return asking * 2 > len(phrasings)


def format_test_report(reply: BotReply) -> str:
    """Human-readable decision and top candidates, printed by ``chatdesk faq test``."""
    lines = [
        f"decision: {reply.outcome} ({reply.reason})  lang: {reply.lang}  score: {reply.score:.3f}"
        f"  confidence: {reply.confidence:.3f}"
    ]
    if reply.entry_id:
        lines.append(f"entry: {reply.entry_id}")
    if reply.answer:
        lines.append(f"answer: {reply.answer}")
    for suggestion in reply.suggestions:
        lines.append(
            f"suggest: {suggestion.entry_id} ({suggestion.score:.3f}) {suggestion.question}"
        )
    if reply.candidates:
        lines.append("candidates:")
        lines.append(
            f"  {'entry':<28} {'score':>6} {'query':>6} {'phrase':>6} {'bag':>6} {'chars':>6}"
            f" {'sem':>6}  best phrasing"
        )
        for c in reply.candidates:
            lines.append(
                f"  {c.entry_id:<28} {c.score:6.3f} {c.query_cover:6.3f} {c.phrase_cover:6.3f}"
                f" {c.bag_cover:6.3f} {c.chars:6.3f} {c.semantic:6.3f}"
                f"  [{c.phrasing_lang}] {c.phrasing}"
            )
    else:
        lines.append("candidates: none")
    if reply.ranking and reply.ranking != reply.candidates:
        lines.append("suggestion ranking (lexical + semantic):")
        lines.extend(f"  {c.entry_id:<28} {c.score:6.3f}" for c in reply.ranking)
    return "\n".join(lines)

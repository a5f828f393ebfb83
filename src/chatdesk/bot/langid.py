"""Language identification restricted to the FAQ's languages.

A chat message is short and usually typed without diacritics, so general-purpose identifiers
trained on long, clean text do poorly; we only need to choose among the few languages the FAQ
answers in. Evidence, summed as log-likelihoods:

- a character-trigram model per language, trained on the FAQ's own folded text (questions and
  answers), so it knows the business vocabulary in each language, plus a short built-in
  sample of everyday text (``lexicon.SAMPLE_TEXT``) so that small FAQs work too;
- function words of each language (``lexicon.FUNCTION_WORDS``): the most frequent and most
  telling words of any short text (``ako``/``jak``, ``som``/``jsem``);
- letters that exist in one language only (``ř ů ě`` Czech, ``ľ ĺ ŕ ô`` Slovak, ``ł ą ę`` Polish,
  ``õ`` Estonian, ``ā ē ī ū ķ ļ ņ ģ`` Latvian), when the visitor did type diacritics.

Czech and Slovak share most words; when the text cannot tell them apart, the caller's hint or the
conversation's language decides (see ``engine.BotEngine.ask``). See docs/bot.md ("Language").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chatdesk.bot.lexicon import FUNCTION_WORDS, SAMPLE_TEXT
from chatdesk.bot.normalize import fold, words

# Log-likelihood bonus per function word / distinctive letter: a function word is worth about
# as much as a few well-predicted trigrams, a letter unique to one language is near-proof.
FUNCTION_WORD_BONUS = 2.5
DISTINCT_LETTER_BONUS = 4.0
# The trigram model is trained on a few kilobytes per language: add-k smoothing keeps unseen
# trigrams from dominating.
SMOOTHING = 0.5

DISTINCT_LETTERS: dict[str, str] = {
    "cs": "řůě",
    "sk": "ľĺŕôä",
    "pl": "łąęśźżćń",
    "et": "õöüä",
    "lv": "āēīūķļņģ",
}


# Trigram frequencies of a language settle after a few hundred sentences; counting every
# phrasing of a 1,000-entry FAQ cost ~0.5 s of the index build and changed no decision.
MAX_SAMPLES_PER_LANGUAGE = 1200


def _trigrams(text: str) -> list[str]:
    grams: list[str] = []
    for word in words(text):
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


@dataclass(frozen=True, slots=True)
class LanguageScores:
    """Per-language log-likelihoods, best first; ``margin`` is the lead of the best."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> str | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def margin(self) -> float:
        if len(self.ranked) < 2:
            return math.inf
        return self.ranked[0][1] - self.ranked[1][1]


class LanguageIdentifier:
    """Chooses among a fixed set of languages; built once per FAQ index."""

    def __init__(self, samples: Mapping[str, Sequence[str]]) -> None:
        self._languages = tuple(sorted(samples))
        self._logp: dict[str, dict[str, float]] = {}
        self._unseen: dict[str, float] = {}
        vocabulary: set[str] = set()
        counts: dict[str, Counter[str]] = {}
        for lang in self._languages:
            extra = [SAMPLE_TEXT.get(lang, ""), *sorted(FUNCTION_WORDS.get(lang, ()))]
            texts = list(samples[lang])[:MAX_SAMPLES_PER_LANGUAGE]
            counter = Counter(_trigrams(" ".join([*texts, *extra])))
            counts[lang] = counter
            vocabulary.update(counter)
        size = max(len(vocabulary), 1)
        # One penalty for an unseen trigram in every language: with per-language smoothing a
        # language with more FAQ text would be punished more for each unseen trigram.
        largest = max((sum(c.values()) for c in counts.values()), default=0) + SMOOTHING * size
        for lang, counter in counts.items():
            total = sum(counter.values()) + SMOOTHING * size
            self._logp[lang] = {g: math.log((c + SMOOTHING) / total) for g, c in counter.items()}
            self._unseen[lang] = math.log(SMOOTHING / largest)

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def scores(self, text: str) -> LanguageScores:
        """Log-likelihood of ``text`` under each language, best first."""
        grams = _trigrams(text)
        tokens = words(text)
        lowered = text.lower()
        result: list[tuple[str, float]] = []
        for lang in self._languages:
            logp = self._logp[lang]
            unseen = self._unseen[lang]
            score = sum(logp.get(g, unseen) for g in grams)
            function_words = FUNCTION_WORDS.get(lang, frozenset())
            score += FUNCTION_WORD_BONUS * sum(1 for t in tokens if t in function_words)
            letters = DISTINCT_LETTERS.get(lang, "")
            score += DISTINCT_LETTER_BONUS * sum(1 for ch in lowered if ch in letters)
            result.append((lang, score))
        result.sort(key=lambda item: item[1], reverse=True)
        return LanguageScores(tuple(result))

    def identify(self, text: str) -> str | None:
        """The most likely language, or None when the text has no letters to judge by."""
        if not any(ch.isalpha() for ch in fold(text)):
            return None
        return self.scores(text).best

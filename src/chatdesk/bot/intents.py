"""Rules that bring in a human: the visitor asks for a person, or is angry.

Keyword rules, not the FAQ matcher, because these must work with any FAQ (or none) and in all
six languages, and because a miss is costly: a visitor who asked for a human and got another
FAQ answer is a lost customer. Both rules are written to leave lures alone, messages that merely
mention people or use strong words:

- asks for a person = a word for a human helper ("operator", "clovek", "konsultant") together
  with a verb of talking/connecting or wanting ("talk", "spojit", "porozmawiac"), or a message
  made only of such words ("operator please"). "I want to meet new people" has neither kind of
  helper word; "is the agent app free?" has no talking verb.
- angry = an insult or swear word; or shouting (most letters upper case over several words);
  or a run of three or more exclamation marks together with a complaint word ("terrible!!!").
  "This TV is insanely good!!!" has exclamations but no complaint.

Words are matched folded (no diacritics) by prefix, so inflected forms match (``operatora``,
``czlowiekiem``). The labelled sets in tests/unit/bot/data/intents/ measure precision and
recall (bench/faq_eval.py --intents prints them). See docs/bot.md ("Hand-off").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from chatdesk.bot.normalize import fold, is_stopword


class Intent(StrEnum):
    """Why the visitor should get a human regardless of the FAQ."""

    ASKED_FOR_PERSON = "asked_for_person"
    ANGRY = "angry"


# Word roots for a human helper (folded, matched as word prefixes).
PERSON_ROOTS = (
    # en
    "human", "agent", "operator", "representative", "consultant", "supervisor", "advisor",
    "adviser", "live chat",
    # cs / sk
    "clovek", "cloveka", "clovekem", "clovekom", "cloveku", "operator", "operatork",
    "pracovnik", "pracovnic", "konzultant", "poradc", "poradkyn", "zivou", "ziveho", "zivym",
    "zivy", "ziva",
    # pl
    "czlowiek", "konsultant", "pracownik", "pracownic", "doradc", "zywym", "zywa", "zywy",
    # et
    "inimes", "inimene", "operaator", "teenindaj", "klienditeenindaj", "konsultant",
    "toetaj",
    # lv
    "cilvek", "operator", "konsultant", "darbiniek", "specialist",
)  # fmt: skip

# Words for "somebody": a human helper only next to a verb of talking ("talk to someone"),
# never with plain wanting ("I need someone to carry it").
WEAK_PERSON_ROOTS = (
    "person", "someone", "somebody", "staff", "employee", "manager", "nekoho", "niekoho",
    "kolega", "kolegu", "kolegyn", "kogos", "kims", "osoba", "kellegi", "kellegag", "kadu", "kadam",
)  # fmt: skip

# Verbs of talking, connecting or transferring (folded prefixes).
TALK_ROOTS = (
    "talk", "speak", "chat with", "connect", "transfer", "put me through", "mluvit", "promluv",
    "mluv", "hovor", "porozpr", "rozpr", "spoj", "prepoj", "rozmaw", "porozmaw", "pogad",
    "polacz", "przelacz", "raaki", "raagi", "vestel", "uhend", "suuna", "runa", "parun",
    "sarun", "savieno", "parsledz", "parslegt", "sazina",
)  # fmt: skip

# Verbs of talking, connecting, transferring or wanting (folded prefixes).
CONTACT_ROOTS = (
    # en
    "talk", "speak", "chat", "connect", "transfer", "put me through", "get me", "want",
    "need", "give me", "let me", "reach",
    # cs / sk
    "mluvit", "promluv", "mluv", "hovor", "porozpr", "rozpr", "spoj", "prepoj", "chci",
    "chcem", "chtel", "potrebuj", "dejte", "dajte", "zavolej", "daj",
    # pl
    "rozmaw", "porozmaw", "pogad", "polacz", "przelacz", "chce", "chcialbym", "chcialabym",
    "potrzebuj", "prosze o", "daj", "dajcie",
    # et
    "raaki", "raagi", "vestel", "uhend", "suuna", "tahan", "tahaksin", "soovi", "vajan",
    # lv
    "runa", "parun", "sarun", "savieno", "parsledz", "parslegt", "sazina", "gribu",
    "gribetu", "velos", "vajag",
)  # fmt: skip

# Words that never ask for a human even next to a person word (a person as a topic).
PERSON_LURE_ROOTS = (
    "people", "lide", "lidi", "ludzi", "ludia", "inimesed", "inimest", "inimesi", "cilveki",
    "cilvekus", "cilvekiem",
)  # fmt: skip

INSULT_ROOTS = (
    # en
    "idiot", "stupid", "moron", "dumb", "fuck", "shit", "crap", "bullshit", "wtf", "bastard",
    "asshole", "dickhead", "scam", "useless", "pathetic", "incompetent", "ridiculous",
    # cs / sk
    "debil", "kretin", "kreten", "blbec", "blbci", "hovad", "hovno", "kurva", "kurvy",
    "sracka", "zmrd", "posran", "zasran", "prdel", "hajzl", "hajzel", "svine", "svinstvo",
    "podvod", "zlodej", "nehorazn", "skurvy", "dopice", "pica", "nahovno", "k nicemu",
    "na nic",
    # pl
    "kretyn", "kurwa", "kurwy", "chuj", "pierdol", "jeban", "jebac", "zjeb", "gowno",
    "spierdal", "oszust", "zlodziej", "glupi", "beznadziejn", "zenujac",
    # et
    "idioot", "idiood", "debiil", "kurat", "raisk", "sitt", "persse", "petis", "pettus", "kelm",
    "loll",
    # lv
    "idiots", "debils", "dirsa", "mauka", "pidar", "nolad", "stulb", "kretins", "krapn",
    "zaglis", "blediba",
)  # fmt: skip

# Complaint words that make exclamation marks angry rather than happy.
COMPLAINT_ROOTS = (
    "terrible", "awful", "horrible", "worst", "unacceptable", "disgrace", "still", "never",
    "again", "nothing", "joke", "angry", "furious", "hrozn", "strasn", "otresn", "otrasn",
    "nejhorsi", "najhorsi", "neprijateln", "porad", "stale", "zase", "opet", "znova", "nikdy",
    "okropn", "straszn", "najgorsz", "skandal", "nadal", "znowu", "wciaz", "nigdy",
    "kohutav", "jube", "halvim", "vastuvot", "ikka", "jalle", "kunagi", "briesmig",
    "vissliktak", "neiedomajam", "skandal", "joprojam", "atkal", "nekad", "nestrada",
    "nefunguje", "nedziala", "ei toota", "not working", "doesnt work", "nejde",
)  # fmt: skip

_EXCLAMATIONS = re.compile(r"![!?1]*![!?1]*!")
_WORD = re.compile(r"[a-z]+")
# Shouting: at least this many letters, this share upper case, over at least two words.
SHOUT_MIN_LETTERS = 10
SHOUT_UPPER_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A detected intent and the evidence, for `faq test` and the logs."""

    intent: Intent
    evidence: str


@functools.cache
def _root_pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    """One regex per root list: a word starting with a root, or a multi-word root whole.
    (Compiled once: a loop of ``startswith`` over every root and word cost ~0.2 ms/query.)"""
    words = [re.escape(r) for r in roots if " " not in r]
    phrases = [re.escape(r) for r in roots if " " in r]
    parts = []
    if phrases:
        parts.append(r"(?<!\S)(?:" + "|".join(phrases) + r")(?!\S)")
    if words:
        parts.append(r"(?<!\S)(?:" + "|".join(words) + r")\S*")
    return re.compile("|".join(parts) if parts else r"(?!)")


def _has_root(text: str, roots: tuple[str, ...]) -> str | None:
    """The first word of ``text`` (folded words, single spaces) starting with one of
    ``roots``, or a multi-word root found whole."""
    match = _root_pattern(roots).search(text)
    return match.group(0) if match else None


def _shouting(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    upper_words = [w for w in re.findall(r"\w+", text) if len(w) >= 2 and w.isupper()]
    if len(letters) < SHOUT_MIN_LETTERS or len(upper_words) < 2:
        return False
    return sum(ch.isupper() for ch in letters) / len(letters) >= SHOUT_UPPER_SHARE


def detect_intent(text: str) -> IntentMatch | None:
    """Angry before asks-for-person: an angry visitor goes to a supervisor, not just anyone."""
    folded = " ".join(_WORD.findall(fold(text)))
    folded_words = folded.split()
    insult = _has_root(folded, INSULT_ROOTS)
    if insult:
        return IntentMatch(Intent.ANGRY, f"insult: {insult}")
    if _shouting(text):
        return IntentMatch(Intent.ANGRY, "shouting")
    if _EXCLAMATIONS.search(text):
        complaint = _has_root(folded, COMPLAINT_ROOTS)
        if complaint:
            return IntentMatch(Intent.ANGRY, f"exclamations + {complaint}")
    if _has_root(folded, PERSON_LURE_ROOTS):
        return None
    person = _has_root(folded, PERSON_ROOTS)
    if person:
        contact = _has_root(folded, CONTACT_ROOTS)
        if contact:
            return IntentMatch(Intent.ASKED_FOR_PERSON, f"{contact} + {person}")
        rest = [w for w in folded_words if not is_stopword(w)]
        if rest and all(_has_root(w, PERSON_ROOTS) for w in rest):
            return IntentMatch(Intent.ASKED_FOR_PERSON, f"only: {person}")
    weak = _has_root(folded, WEAK_PERSON_ROOTS)
    if weak:
        talk = _has_root(folded, TALK_ROOTS)
        if talk:
            return IntentMatch(Intent.ASKED_FOR_PERSON, f"{talk} + {weak}")
    return None

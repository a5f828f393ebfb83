"""Questions the bot failed: near-duplicate grouping and draft FAQ entries. Pure.

Admins read ``/api/v1/admin/unanswered`` to learn what the FAQ is missing; fifty copies of
"where is my parcel" with typos should be one line with a count, not fifty lines.

How near-duplicates are grouped: two misses in the same language are near-duplicates when their
content words (folded, stopwords and greetings and numbers removed, as the matcher sees them)
overlap with a soft Jaccard similarity of at least ``NEAR_DUPLICATE_SIMILARITY``; a word
counts as shared when it matches a word of the other text by ``matcher.token_similarity``
(equal, same stem, or a typo away). Groups are the connected components of that relation
(single linkage, union-find), largest first. The representative is the member most similar to
the others (ties: the most frequent text, then the shortest). Misses with no content words at
all ("???") group by their folded text.

``draft_yaml`` turns groups into FAQ entries an admin completes: the group's distinct texts
become the questions, and the answer is seeded with the agent's reply when a human answered.
See docs/bot.md ("Feedback loop").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from chatdesk.bot.matcher import token_similarity
from chatdesk.bot.normalize import content_words, fold

NEAR_DUPLICATE_SIMILARITY = 0.5
MAX_DRAFT_QUESTIONS = 5
ID_WORDS = 5


@dataclass(frozen=True, slots=True)
class Miss:
    """One unhelpful bot turn (answer marked unhelpful, suggestion, or hand-off)."""

    id: str
    text: str
    lang: str
    outcome: str
    entry_id: str | None
    score: float
    conversation_id: str | None
    agent_reply: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MissGroup:
    """Near-duplicate misses; ``key`` is stable for the same representative and language."""

    key: str
    representative: str
    lang: str
    count: int
    misses: tuple[Miss, ...]
    best_entry_id: str | None


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Soft Jaccard similarity of two word lists (fuzzy word matches count as shared)."""
    set_a, set_b = set(a), set(b)
    if not set_a or not set_b:
        return 0.0
    shared = 0.0
    for word in set_a:
        shared += max((token_similarity(word, other) for other in set_b), default=0.0)
    return shared / (len(set_a) + len(set_b) - shared)


def _slug(words: Sequence[str]) -> str:
    slug = "-".join(re.sub(r"[^a-z0-9]+", "", w) for w in words[:ID_WORDS]).strip("-")
    slug = re.sub(r"-+", "-", slug)
    return slug or "question"


def group_misses(misses: Sequence[Miss]) -> list[MissGroup]:
    """Group near-duplicate misses (see module docstring); largest group first."""
    words = [content_words(m.text) for m in misses]
    parent = list(range(len(misses)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(misses)):
        for j in range(i + 1, len(misses)):
            if misses[i].lang != misses[j].lang:
                continue
            same = (
                similarity(words[i], words[j]) >= NEAR_DUPLICATE_SIMILARITY
                if words[i] and words[j]
                else fold(misses[i].text).strip() == fold(misses[j].text).strip()
            )
            if same:
                parent[find(i)] = find(j)
    components: dict[int, list[int]] = {}
    for i in range(len(misses)):
        components.setdefault(find(i), []).append(i)
    groups = []
    for members in components.values():
        texts = Counter(fold(misses[i].text).strip() for i in members)

        rep = max(
            members,
            key=lambda i, members=members, texts=texts: (  # type: ignore[misc]
                sum(similarity(words[i], words[j]) for j in members if j != i),
                texts[fold(misses[i].text).strip()],
                -len(misses[i].text),
            ),
        )
        entries = Counter(misses[i].entry_id for i in members if misses[i].entry_id)
        ordered = tuple(sorted((misses[i] for i in members), key=lambda m: m.created_at))
        groups.append(
            MissGroup(
                key=f"{misses[rep].lang}:{_slug(words[rep] or fold(misses[rep].text).split())}",
                representative=misses[rep].text,
                lang=misses[rep].lang,
                count=len(members),
                misses=ordered,
                best_entry_id=entries.most_common(1)[0][0] if entries else None,
            )
        )
    groups.sort(key=lambda g: (-g.count, g.key))
    return groups


def _quote(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, and keeps non-ASCII letters readable.
    return json.dumps(text, ensure_ascii=False)


def draft_yaml(groups: Sequence[MissGroup]) -> str:
    """Draft FAQ entries, one per group, valid once every empty answer is written."""
    lines = [
        "# Draft FAQ entries from questions the bot could not answer.",
        '# Review each one, write the answers left empty (""), then move it into the FAQ.',
        "entries:",
    ]
    used: set[str] = set()
    for group in groups:
        base = f"draft-{group.key.split(':', 1)[1]}"
        entry_id, n = base, 2
        while entry_id in used:
            entry_id, n = f"{base}-{n}", n + 1
        used.add(entry_id)
        questions: list[str] = []
        seen: set[str] = set()
        for miss in (m for m in group.misses if m.text == group.representative):
            seen.add(fold(miss.text).strip())
            questions.append(miss.text.strip())
            break
        for miss in group.misses:
            folded = fold(miss.text).strip()
            if folded not in seen and len(questions) < MAX_DRAFT_QUESTIONS:
                seen.add(folded)
                questions.append(miss.text.strip())
        replies = [m.agent_reply.strip() for m in reversed(group.misses) if m.agent_reply]
        closest = f"; closest entry: {group.best_entry_id}" if group.best_entry_id else ""
        lines.append(f"  # asked {group.count} time(s){closest}")
        lines.append(f"  - id: {entry_id}")
        lines.append("    questions:")
        lines.append(f"      {group.lang}: [{', '.join(_quote(q) for q in questions)}]")
        lines.append("    answer:")
        if replies:
            lines.append(f"      {group.lang}: {_quote(replies[0])}  # an agent's reply: review it")
        else:
            lines.append(f'      {group.lang}: ""  # write the answer')
    if not groups:
        lines[-1] = "entries: []"
    return "\n".join(lines) + "\n"

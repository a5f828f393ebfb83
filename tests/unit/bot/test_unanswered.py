"""Feedback loop: near-duplicate misses grouped, exported as draft FAQ YAML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from chatdesk.bot.faq import load_faq
from chatdesk.bot.unanswered import Miss, draft_yaml, group_misses

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def miss(i: int, text: str, lang: str = "en", **kw: object) -> Miss:
    fields: dict[str, object] = {
        "outcome": "suggest",
        "entry_id": None,
        "score": 0.2,
        "conversation_id": f"c{i}",
        "agent_reply": None,
    }
    fields.update(kw)
    return Miss(id=f"m{i}", text=text, lang=lang, created_at=T0 + timedelta(minutes=i), **fields)  # type: ignore[arg-type]


EXAMPLE = [
    miss(1, "Do you ship to Norway?"),
    miss(2, "hello, do you ship to norway"),
    miss(3, "shiping to Norwey?", entry_id="shipping-cost"),
    miss(4, "Can I pay with bitcoin?", agent_reply="No, we accept cards only."),
    miss(5, "pay with bitcoin possible?"),
    miss(6, "Posíláte do Norska?", lang="cs"),
    miss(7, "Where is your shop in Brno?"),
    miss(8, "???"),
    miss(9, "???"),
]


def test_near_duplicates_are_grouped_largest_first() -> None:
    groups = group_misses(EXAMPLE)
    assert [(g.lang, g.count, sorted(m.id for m in g.misses)) for g in groups] == [
        ("en", 3, ["m1", "m2", "m3"]),
        ("en", 2, ["m4", "m5"]),
        ("en", 2, ["m8", "m9"]),
        ("cs", 1, ["m6"]),
        ("en", 1, ["m7"]),
    ]
    assert groups[0].best_entry_id == "shipping-cost"
    assert groups[0].key == "en:ship-norway"
    assert groups[0].representative in {"Do you ship to Norway?", "hello, do you ship to norway"}


def test_draft_yaml_is_a_valid_faq_once_answers_are_written(tmp_path: Path) -> None:
    text = draft_yaml(group_misses(EXAMPLE))
    assert '"No, we accept cards only."' in text
    (tmp_path / "draft.yaml").write_text(text.replace('""', '"written"'), encoding="utf-8")
    faq = load_faq(tmp_path, languages=("en", "cs"))
    assert len(faq.entries) == 5
    bitcoin = next(e for e in faq.entries if "bitcoin" in e.id)
    assert bitcoin.answer["en"] == "No, we accept cards only."
    assert set(bitcoin.questions["en"]) == {"Can I pay with bitcoin?", "pay with bitcoin possible?"}


def test_no_misses_give_an_empty_valid_draft(tmp_path: Path) -> None:
    (tmp_path / "draft.yaml").write_text(draft_yaml([]), encoding="utf-8")
    assert load_faq(tmp_path, languages=("en",)).entries == ()

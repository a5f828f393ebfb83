"""Accuracy of the FAQ bot on labelled queries, next to a naive rapidfuzz baseline.

Usage:
    python bench/faq_eval.py --faq DIR --queries FILE_OR_DIR [--intents DIR]

Queries are JSON lines ``{"text", "lang", "expected": entry id | null, "kind"}``
(``expected: null`` = out of scope). Every query is asked twice: with its language as the
hint, and with no hint (language identification). Printed per language, per kind and overall:

- top1     answered (or handed off from an entry) with the expected entry, over in-scope queries
- top3     expected entry answered or among the suggestions, over in-scope queries
- wrong    answered with another entry, over in-scope queries
- oos_ans  out-of-scope queries that got an answer
- lang     reply language == the query's language
- ceil1    expected entry ranked first, as if every question were answered
- ceil3    expected entry among the first three candidates
- auroc    how well the engine's confidence (the top score for the baseline) separates
           in-scope (higher) from out-of-scope questions

Then the operating point: the best top1 over a sweep of (answer threshold, margin) with
wrong <= 0.05 and oos_ans <= 0.10. The baseline is ``process.extractOne`` with ``WRatio`` over
every phrasing, answering at score >= 80 and otherwise suggesting the next distinct entries.
With --intents, also precision and recall of the asks-for-person and angry rules on labelled
JSON lines ``{"text", "lang", "label": "person"|"angry"|"none"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from chatdesk.bot.decide import Thresholds, decide
from chatdesk.bot.engine import (
    DEFAULT_ANSWER_THRESHOLD,
    DEFAULT_MARGIN,
    DEFAULT_SUGGEST_THRESHOLD,
    BotEngine,
    BotSettings,
)
from chatdesk.bot.faq import Faq, load_faq
from chatdesk.bot.intents import Intent, detect_intent
from chatdesk.bot.matcher import Candidate

LANGUAGES = ("en", "cs", "sk", "pl", "et", "lv")
MAX_WRONG = 0.05
MAX_OOS_ANSWERED = 0.10


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    lang: str
    expected: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class Result:
    query: Query
    answered: str | None
    shown: tuple[str, ...]  # answered entry or suggestions
    ranking: tuple[str, ...]
    top_score: float
    lang: str
    candidates: tuple[Candidate, ...]
    intent: Intent | None
    confidence: float | None = None
    pool: tuple[Candidate, ...] | None = None  # what the engine suggests from


def read_queries(path: Path) -> list[Query]:
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    queries = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                queries.append(
                    Query(data["text"], data["lang"], data.get("expected"), data.get("kind", "-"))
                )
            except (ValueError, KeyError) as exc:
                raise SystemExit(f"error: {file}:{number}: bad query line ({exc})") from exc
    return queries


def run_engine(engine: BotEngine, queries: Sequence[Query], *, hinted: bool) -> list[Result]:
    results = []
    for q in queries:
        reply = engine.ask(q.text, lang_hint=q.lang if hinted else None)
        shown = ((reply.entry_id,) if reply.entry_id else ()) + tuple(
            s.entry_id for s in reply.suggestions
        )
        match = detect_intent(q.text)
        results.append(
            Result(
                q,
                reply.entry_id,
                shown,
                tuple(c.entry_id for c in reply.ranking),
                reply.score,
                reply.lang,
                reply.candidates,
                match.intent if match else None,
                reply.confidence,
                reply.ranking,
            )
        )
    return results


def run_baseline(faq: Faq, queries: Sequence[Query], *, hinted: bool) -> list[Result]:
    choices: list[str] = []
    owners: list[tuple[str, str]] = []
    for entry in faq.entries:
        for lang, phrasings in entry.questions.items():
            for text in phrasings:
                choices.append(text)
                owners.append((entry.id, lang))
    results = []
    for q in queries:
        found = process.extract(q.text, choices, scorer=fuzz.WRatio, limit=20)
        ranking: list[str] = []
        for _, _, index in found:
            if owners[index][0] not in ranking:
                ranking.append(owners[index][0])
        best = process.extractOne(q.text, choices, scorer=fuzz.WRatio, score_cutoff=80)
        answered = owners[best[2]][0] if best else None
        top = found[0][1] / 100 if found else 0.0
        lang = q.lang if hinted else (owners[found[0][2]][1] if found else "en")
        shown = (answered,) if answered else tuple(ranking[:3])
        results.append(Result(q, answered, shown, tuple(ranking), top, lang, (), None))
    return results


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    if not positives or not negatives:
        return None
    wins = 0.0
    for p in positives:
        for n in negatives:
            wins += 1.0 if p > n else 0.5 if p == n else 0.0
    return wins / (len(positives) * len(negatives))


def _level(r: Result) -> float:
    """What the answer threshold is compared with: the engine's confidence, else the score."""
    return r.top_score if r.confidence is None else r.confidence


def metrics(results: Sequence[Result]) -> dict[str, float | None]:
    inscope = [r for r in results if r.query.expected is not None]
    oos = [r for r in results if r.query.expected is None]

    def share(items: Sequence[Result], pred: Callable[[Result], bool]) -> float | None:
        return sum(1 for r in items if pred(r)) / len(items) if items else None

    return {
        "n": float(len(results)),
        "top1": share(inscope, lambda r: r.answered == r.query.expected),
        "top3": share(inscope, lambda r: r.query.expected in r.shown),
        "wrong": share(
            inscope, lambda r: r.answered is not None and r.answered != r.query.expected
        ),
        "oos_ans": share(oos, lambda r: r.answered is not None),
        "lang": share(results, lambda r: r.lang == r.query.lang),
        "ceil1": share(inscope, lambda r: r.ranking[:1] == (r.query.expected,)),
        "ceil3": share(inscope, lambda r: r.query.expected in r.ranking[:3]),
        "auroc": auroc([_level(r) for r in inscope], [_level(r) for r in oos]),
    }


COLUMNS = ("n", "top1", "top3", "wrong", "oos_ans", "lang", "ceil1", "ceil3", "auroc")


def print_table(title: str, results: Sequence[Result]) -> None:
    print(f"\n## {title}")
    print(f"{'group':<16}" + "".join(f"{c:>9}" for c in COLUMNS))
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups[f"lang={r.query.lang}"].append(r)
        groups[f"kind={r.query.kind}"].append(r)
    ordered = sorted(groups.items())
    ordered.append(("overall", list(results)))
    for name, items in ordered:
        row = metrics(items)
        cells = []
        for column in COLUMNS:
            value = row[column]
            if value is None:
                cells.append(f"{'-':>9}")
            elif column == "n":
                cells.append(f"{int(value):>9}")
            else:
                cells.append(f"{value:>9.3f}")
        print(f"{name:<16}" + "".join(cells))


def operating_point(results: Sequence[Result], suggest: float) -> str:
    """Best top1 over thresholds with wrong <= MAX_WRONG and oos answered <= MAX_OOS_ANSWERED."""
    best: tuple[float, float, float, float, float, float] | None = None
    inscope = [r for r in results if r.query.expected is not None]
    oos = [r for r in results if r.query.expected is None]
    for answer_step in range(20, 100):
        answer = answer_step / 100
        for margin_step in range(0, 21):
            margin = margin_step / 100
            thresholds = Thresholds(answer=answer, suggest=min(suggest, answer), margin=margin)
            right = wrong = oos_answered = top3 = 0
            for r in results:
                d = decide(
                    r.candidates,
                    thresholds=thresholds,
                    intent=r.intent,
                    handoff_entries=_HANDOFF,
                    failures_in_row=0,
                    confidence=r.confidence,
                    suggestion_pool=r.pool,
                    person_entries=_PERSON,
                )
                shown = ((d.entry_id,) if d.entry_id else ()) + tuple(
                    c.entry_id for c in d.suggestions
                )
                if r.query.expected is None:
                    oos_answered += d.entry_id is not None
                else:
                    right += d.entry_id == r.query.expected
                    wrong += d.entry_id is not None and d.entry_id != r.query.expected
                    top3 += r.query.expected in shown
            n_in, n_oos = max(len(inscope), 1), max(len(oos), 1)
            if wrong / n_in <= MAX_WRONG and oos_answered / n_oos <= MAX_OOS_ANSWERED:
                row = (
                    right / n_in,
                    top3 / n_in,
                    wrong / n_in,
                    oos_answered / n_oos,
                    answer,
                    margin,
                )
                if best is None or row[0] > best[0]:
                    best = row
    if best is None:
        return "no threshold meets the budget"
    return (
        f"top1={best[0]:.3f} top3={best[1]:.3f} wrong={best[2]:.3f} oos_ans={best[3]:.3f}"
        f" at answer_threshold={best[4]:.2f} margin={best[5]:.2f}"
    )


_HANDOFF: frozenset[str] = frozenset()
_PERSON: frozenset[str] = frozenset()


def summary(name: str, results: Sequence[Result]) -> str:
    row = metrics(results)

    def fmt(key: str) -> str:
        value = row[key]
        return "-" if value is None else f"{value:.3f}"

    return (
        f"{name:<28} top1={fmt('top1')} top3={fmt('top3')} wrong={fmt('wrong')}"
        f" oos_ans={fmt('oos_ans')} lang={fmt('lang')} ceil1={fmt('ceil1')}"
        f" ceil3={fmt('ceil3')} auroc={fmt('auroc')}"
    )


def intent_report(directory: Path) -> None:
    print("\n## intents (precision / recall per label)")
    rows: list[tuple[str, str, str]] = []
    for file in sorted(directory.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                rows.append((data["text"], data["lang"], data["label"]))
    labels = {"person": Intent.ASKED_FOR_PERSON, "angry": Intent.ANGRY}
    for label, intent in labels.items():
        tp = fp = fn = 0
        for text, _, expected in rows:
            match = detect_intent(text)
            got = match is not None and match.intent is intent
            tp += got and expected == label
            fp += got and expected != label
            fn += (not got) and expected == label
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        print(
            f"{label:<8} n={len(rows)} positives={tp + fn} precision={precision:.3f}"
            f" recall={recall:.3f} (fp={fp}, fn={fn})"
        )


def main(argv: Iterable[str] | None = None) -> None:
    global _HANDOFF, _PERSON
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faq", type=Path, required=True)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--intents", type=Path)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--default-language", default="en")
    parser.add_argument("--answer-threshold", type=float, default=DEFAULT_ANSWER_THRESHOLD)
    parser.add_argument("--suggest-threshold", type=float, default=DEFAULT_SUGGEST_THRESHOLD)
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN)
    parser.add_argument(
        "--semantic",
        choices=("auto", "on", "off"),
        default="auto",
        help="the embedding evidence of the semantic extra (as CHATDESK_BOT_SEMANTIC)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
    faq = load_faq(args.faq, languages=languages)
    _HANDOFF = frozenset(e.id for e in faq.entries if e.handoff)
    settings = BotSettings(
        languages=languages,
        default_language=args.default_language,
        answer_threshold=args.answer_threshold,
        suggest_threshold=args.suggest_threshold,
        margin=args.margin,
        semantic=args.semantic,
    )
    started = time.perf_counter()
    engine = BotEngine.build(faq, settings)
    _PERSON = engine.person_entries
    print(
        f"FAQ: {len(faq.entries)} entries, languages {', '.join(engine.languages)};"
        f" index built in {time.perf_counter() - started:.2f} s"
    )
    print(f"semantic evidence: {engine.semantic.model if engine.semantic else 'off'}")
    print(
        f"thresholds: answer={settings.answer_threshold} suggest={settings.suggest_threshold}"
        f" margin={settings.margin}"
    )
    if args.queries:
        queries = read_queries(args.queries)
        print(f"queries: {len(queries)}")
        runs = {}
        for hinted in (True, False):
            label = "hinted" if hinted else "not hinted"
            runs[f"chatdesk, {label}"] = run_engine(engine, queries, hinted=hinted)
            runs[f"baseline WRatio>=80, {label}"] = run_baseline(faq, queries, hinted=hinted)
        for name, results in runs.items():
            print_table(name, results)
        print("\n## summary (overall)")
        for name, results in runs.items():
            print(summary(name, results))
        print(f"\n## operating point (wrong <= {MAX_WRONG}, oos answered <= {MAX_OOS_ANSWERED})")
        for name, results in runs.items():
            if name.startswith("chatdesk"):
                print(f"{name:<28} {operating_point(results, settings.suggest_threshold)}")
    if args.intents:
        intent_report(args.intents)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

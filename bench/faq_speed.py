"""Speed and size of the FAQ bot on a synthetic FAQ (default: 1,000 entries x 6 languages x 3).

Usage:
    python bench/faq_speed.py [--entries 1000] [--queries 2000] [--seed 7] [--semantic on]

``--semantic off`` (default) measures the default install, the lexical matcher alone;
``--semantic on`` adds the embedding model of the semantic extra (the first build embeds
every phrasing; the second, traced one, finds them in the embedder's cache, as a hot reload
does).

The FAQ is generated: per language a vocabulary of pseudo-words drawn with a Zipf-like
distribution (a few very common words, a long tail), phrasings of 3-9 words, answers of ~25
words. Queries are phrasings with a typo, a greeting and an order number added, plus as many
random word salads (mostly unanswerable), and a quarter as many long chatty messages (greeting,
a story clause, the question, an order number, thanks: several clauses to score). Prints the
index build time (untraced), the in-process query latency (median, p90, p99, max) and the memory
the index holds (tracemalloc, current after the build minus before). Every time is given twice:
wall clock, and CPU time of this process (``time.process_time``), which is what a loaded machine
(other processes competing for the cores) does not inflate.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from types import MappingProxyType

from chatdesk.bot.engine import BotEngine, BotSettings
from chatdesk.bot.faq import Faq, FaqEntry

LANGUAGES = ("en", "cs", "sk", "pl", "et", "lv")
SYLLABLES = "ka lo mi ne pra sto vy dze šo řa ło ją ee õu ā ņe ri tu ba je ko li pe zu".split()
GREETINGS = ("hello", "dobry den", "dzien dobry", "tere", "labdien", "ahoj")


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


# The most frequent words of real text are function words, which the matcher drops; the
# synthetic content words start below them in the frequency ranking.
FUNCTION_WORD_RANKS = 50


def zipf_pick(rng: random.Random, words: list[str]) -> str:
    # Inverse-CDF of a 1/rank distribution over ranks FUNCTION_WORD_RANKS.., a long tail.
    low, high = FUNCTION_WORD_RANKS, FUNCTION_WORD_RANKS + len(words)
    rank = int(low * (high / low) ** rng.random())
    return words[rank - low]


def synthetic_faq(entries: int, per_lang: int, seed: int) -> Faq:
    rng = random.Random(seed)
    vocab = {lang: vocabulary(rng, 4000) for lang in LANGUAGES}
    items = []
    for i in range(entries):
        questions = {}
        answers = {}
        for lang in LANGUAGES:
            words = vocab[lang]
            topic = [zipf_pick(rng, words) for _ in range(3)]
            phrasings = []
            for _ in range(per_lang):
                extra = [zipf_pick(rng, words) for _ in range(rng.randint(1, 6))]
                mixed = topic[: rng.randint(1, 3)] + extra
                rng.shuffle(mixed)
                phrasings.append(" ".join(mixed) + "?")
            questions[lang] = tuple(phrasings)
            answers[lang] = " ".join(zipf_pick(rng, words) for _ in range(25)) + "."
        items.append(
            FaqEntry(
                id=f"entry-{i}",
                tags=(),
                questions=MappingProxyType(questions),
                answer=MappingProxyType(answers),
                handoff=False,
                source="synthetic",
            )
        )
    return Faq(entries=tuple(items))


def typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def queries(faq: Faq, count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed + 1)
    out = []
    for _ in range(count // 2):
        entry = rng.choice(faq.entries)
        lang = rng.choice(LANGUAGES)
        text = typo(rng, rng.choice(entry.questions[lang]).lower())
        out.append((f"{rng.choice(GREETINGS)}, {text} {rng.randint(10000, 99999)}", lang))
    for _ in range(count - len(out)):
        lang = rng.choice(LANGUAGES)
        entry = rng.choice(faq.entries)
        words = entry.answer[lang].split()
        out.append((" ".join(rng.sample(words, 6)), lang))
    rng.shuffle(out)
    return out


def chatty_queries(faq: Faq, count: int, seed: int) -> list[tuple[str, str]]:
    """Long chatty messages: greeting, a story clause, the question, an order number, thanks.

    Every content clause is scored on its own for the engine's confidence, so these cost
    several searches each; this pass measures that.
    """
    rng = random.Random(seed + 2)
    out = []
    for _ in range(count):
        entry, other = rng.choice(faq.entries), rng.choice(faq.entries)
        lang = rng.choice(LANGUAGES)
        question = typo(rng, rng.choice(entry.questions[lang]).lower())
        story = " ".join(rng.sample(other.answer[lang].split(), 8))
        number = rng.randint(10000, 99999)
        text = f"{rng.choice(GREETINGS)}! {story}, {number}. {question} {story[:20]}. thanks"
        out.append((text, lang))
    return out


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--phrasings", type=int, default=3)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--semantic", choices=("on", "off"), default="off")
    args = parser.parse_args()
    faq = synthetic_faq(args.entries, args.phrasings, args.seed)
    settings = BotSettings(languages=LANGUAGES, default_language="en", semantic=args.semantic)
    phrasings = sum(len(p) for e in faq.entries for p in e.questions.values())
    print(
        f"synthetic FAQ: {len(faq.entries)} entries x {len(LANGUAGES)} languages,"
        f" {phrasings} phrasings; semantic evidence {args.semantic}"
    )

    started, started_cpu = time.perf_counter(), time.process_time()
    engine = BotEngine.build(faq, settings)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - started_cpu
    # Measured on a second build: tracing slows allocation several times.
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    traced = BotEngine.build(faq, settings)
    index_mb = (tracemalloc.get_traced_memory()[0] - before) / 1e6
    tracemalloc.stop()
    del traced
    print(
        f"index build: {build_s:.2f} s wall, {build_cpu_s:.2f} s CPU;"
        f" index memory: {index_mb:.1f} MB"
    )

    passes = (
        ("hinted", True, queries(faq, args.queries, args.seed)),
        ("not hinted", False, queries(faq, args.queries, args.seed)),
        ("chatty, hinted", True, chatty_queries(faq, args.queries // 4, args.seed)),
    )
    for label, hinted, texts in passes:
        timings: list[float] = []
        cpu_timings: list[float] = []
        outcomes: dict[str, int] = {}
        for text, lang in texts:
            t0, c0 = time.perf_counter(), time.process_time()
            reply = engine.ask(text, lang_hint=lang if hinted else None)
            cpu_timings.append((time.process_time() - c0) * 1000)
            timings.append((time.perf_counter() - t0) * 1000)
            outcomes[reply.outcome] = outcomes.get(reply.outcome, 0) + 1
        print(
            f"query ({label}, {len(timings)} queries, first-seen words included):"
            f" outcomes {outcomes}"
        )
        for clock, values in (("wall", timings), ("CPU", cpu_timings)):
            values.sort()
            print(
                f"  {clock:<4} median {statistics.median(values):.2f} ms,"
                f" p90 {percentile(values, 0.90):.2f} ms,"
                f" p99 {percentile(values, 0.99):.2f} ms, max {values[-1]:.2f} ms"
            )


if __name__ == "__main__":
    main()

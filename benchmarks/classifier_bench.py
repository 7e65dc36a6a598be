"""Throughput of the two text classifiers: safeguarding triage and recommendation tagging.

Run with `make bench`. Both run before a child's answer or card is written, so their cost is
paid on the request; the goal is more than 2,000 texts a second each, in one process.

The texts are every labelled and held-out statement in tests/data/ (children's own words in
English, Arabic, Pashto and other languages, from a few words to a long answer). "first
pass" includes building the per-word caches (a fresh process meeting new words); "warm" is
the same texts again, as a long-running server meets familiar words. "triage" is the
lexicon with its statistical backstop (model.py, asked when no rule fires); "triage, lexicon
alone" shows what the backstop costs.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"


def texts() -> list[str]:
    out: list[str] = []
    for path in sorted(DATA.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            out.extend(json.loads(line)["text"] for line in fh if line.strip())
    return out


def rate(fn: object, corpus: list[str], rounds: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        for text in corpus:
            fn(text)  # type: ignore[operator]
    return rounds * len(corpus) / (time.perf_counter() - started)


def main() -> None:
    from participation.recommendations.services import default_tagger
    from participation.safeguarding.triage import Triage

    corpus = texts()
    started = time.perf_counter()
    judge = Triage.load()
    triage_load = time.perf_counter() - started
    lexicon_alone = Triage.load(with_model=False)
    tagger = default_tagger()

    print(f"classifiers on {len(corpus)} texts ({platform.python_version()}, {platform.machine()})")
    print(f"triage: lexicons and model loaded in {triage_load * 1000:.0f} ms")
    for name, fn in (
        ("triage", judge.assess),
        ("triage, lexicon alone", lexicon_alone.assess),
        ("tagging", tagger.suggest),
    ):
        first = rate(fn, corpus)
        warm = rate(fn, corpus, rounds=3)
        print(f"{name}: {first:,.0f} texts/s first pass, {warm:,.0f} texts/s warm")


if __name__ == "__main__":
    main()

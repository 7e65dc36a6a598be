"""Train the safeguarding triage's statistical model and choose its threshold.

    .venv/bin/python scripts/train_triage_model.py            # rebuild triage_model.json
    .venv/bin/python scripts/train_triage_model.py --check    # rebuild in memory, compare

Trains on the labelled and development sets only (``TRAINING_SETS``); the held-out and
blind sets are refused, so that they stay a measure. The model is a logistic regression over
the features of ``participation/safeguarding/model.py``, fitted by full-batch accelerated
gradient descent in numpy (deterministic: the same data gives the same file, byte for byte).

The threshold is chosen by 5-fold cross-validation on the same data: every text is scored by
a model that did not see it, and the threshold is the lowest at which the lexicon and the
model together raise at most ``--false-alarms`` of the harmless texts (the lexicon's own
false alarms included). Recall and false alarms per set, out of fold, are printed and
stored in the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from participation.safeguarding.model import MODEL_PATH, features  # noqa: E402
from participation.safeguarding.triage import Level, Triage  # noqa: E402

DATA = ROOT / "tests" / "data"
TRAINING_SETS = (
    "triage_labelled.jsonl",
    "triage_dev.jsonl",
    "triage_dev2.jsonl",
    "triage_dev3.jsonl",
    "triage_dev4.jsonl",
)
FOLDS = 5
MIN_DF = 2
L2 = 1e-4
POSITIVE_WEIGHT = 1.0
ITERATIONS = 1500
FALSE_ALARMS = 0.15


@dataclass
class Example:
    source: str
    text: str
    disclosure: bool
    lexicon_raised: bool
    features: Counter[str] | None  # None: not read by the lexicon (raised as not understood)


def load_examples(names: tuple[str, ...]) -> list[Example]:
    judge = Triage.load(with_model=False)
    out: list[Example] = []
    for name in names:
        if "heldout" in name or "blind" in name:
            raise SystemExit(f"{name} is a measure, never training data")
        path = DATA / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        for row in rows:
            result, reading = judge.read(str(row["text"]))
            feats = Counter(features(reading)) if reading is not None else None
            out.append(
                Example(
                    name,
                    str(row["text"]),
                    row["level"] != "none",
                    result.level is not Level.NONE,
                    feats,
                )
            )
    return out


class Matrix:
    """Length-normalised feature counts in compressed rows, over a fixed vocabulary."""

    def __init__(self, examples: list[Example], vocabulary: dict[str, int]) -> None:
        rows, cols, vals = [], [], []
        for r, ex in enumerate(examples):
            assert ex.features is not None
            norm = math.sqrt(sum(ex.features.values()))
            for f, count in ex.features.items():
                c = vocabulary.get(f)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
                    vals.append(count / norm)
        self.rows = np.asarray(rows, dtype=np.int64)
        self.cols = np.asarray(cols, dtype=np.int64)
        self.vals = np.asarray(vals, dtype=np.float64)
        self.m = len(examples)
        self.d = len(vocabulary)

    def dot(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.rows, weights=self.vals * w[self.cols], minlength=self.m)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        return np.bincount(self.cols, weights=self.vals * g[self.rows], minlength=self.d)


def vocabulary_of(examples: list[Example]) -> dict[str, int]:
    df: Counter[str] = Counter()
    for ex in examples:
        assert ex.features is not None
        df.update(ex.features.keys())
    return {f: i for i, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}


def fit(examples: list[Example], l2: float) -> tuple[dict[str, int], np.ndarray, float]:
    """Weights and bias minimising the weighted log loss plus ``l2/2 * |w|^2``."""
    vocabulary = vocabulary_of(examples)
    x = Matrix(examples, vocabulary)
    y = np.array([ex.disclosure for ex in examples], dtype=np.float64)
    # Classes weighted to balance, disclosures a little more (a miss costs more).
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    sample = np.where(y == 1, POSITIVE_WEIGHT * len(y) / (2 * pos), len(y) / (2 * neg))
    sample /= sample.sum()
    w = np.zeros(x.d)
    b = 0.0
    w_prev, b_prev = w.copy(), b
    step = 1.0 / (0.25 * float(sample.max()) * len(y) + l2)
    for t in range(1, ITERATIONS + 1):
        momentum = (t - 1) / (t + 2)
        vw = w + momentum * (w - w_prev)
        vb = b + momentum * (b - b_prev)
        p = 1.0 / (1.0 + np.exp(-np.clip(x.dot(vw) + vb, -30, 30)))
        g = sample * (p - y)
        w_prev, b_prev = w, b
        w = vw - step * (x.tdot(g) + l2 * vw)
        b = vb - step * float(g.sum())
    return vocabulary, w, b


def predict(
    vocabulary: dict[str, int], w: np.ndarray, b: float, examples: list[Example]
) -> np.ndarray:
    out = np.empty(len(examples))
    for i, ex in enumerate(examples):
        assert ex.features is not None
        total = sum(ex.features.values())
        s = sum(w[vocabulary[f]] * n for f, n in ex.features.items() if f in vocabulary)
        out[i] = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, b + s / math.sqrt(total)))))
    return out


def fold_of(ex: Example) -> int:
    digest = hashlib.sha256(ex.text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % FOLDS


def cross_validate(examples: list[Example], l2: float) -> np.ndarray:
    """Out-of-fold scores for the examples the lexicon read (NaN for the others)."""
    scores = np.full(len(examples), np.nan)
    readable = [i for i, ex in enumerate(examples) if ex.features is not None]
    for k in range(FOLDS):
        train = [examples[i] for i in readable if fold_of(examples[i]) != k]
        test = [i for i in readable if fold_of(examples[i]) == k]
        vocabulary, w, b = fit(train, l2)
        scores[test] = predict(vocabulary, w, b, [examples[i] for i in test])
    return scores


def raised(examples: list[Example], scores: np.ndarray, threshold: float) -> np.ndarray:
    model = np.array(
        [
            ex.features is not None and not ex.lexicon_raised and scores[i] >= threshold
            for i, ex in enumerate(examples)
        ]
    )
    lexicon = np.array([ex.lexicon_raised or ex.features is None for ex in examples])
    return lexicon | model


def choose_threshold(examples: list[Example], scores: np.ndarray, target: float) -> float:
    harmless = np.array([not ex.disclosure for ex in examples])
    candidates = sorted({float(s) for s in scores[~np.isnan(scores)]} | {1.0})
    for t in candidates:  # lowest first: the most disclosures heard within the budget
        if raised(examples, scores, t)[harmless].mean() <= target:
            return math.floor(t * 10_000) / 10_000  # at or just below: t itself is raised
    return 1.0


def report(examples: list[Example], scores: np.ndarray, threshold: float) -> dict[str, Any]:
    hit = raised(examples, scores, threshold)
    lexicon = raised(examples, scores, 2.0)
    out: dict[str, Any] = {}
    for name in [*dict.fromkeys(ex.source for ex in examples), "all"]:
        idx = [i for i, ex in enumerate(examples) if name in ("all", ex.source)]
        pos = [i for i in idx if examples[i].disclosure]
        neg = [i for i in idx if not examples[i].disclosure]
        out[name] = {
            "disclosures": len(pos),
            "raised": int(hit[pos].sum()),
            "raised_by_lexicon": int(lexicon[pos].sum()),
            "harmless": len(neg),
            "false_alarms": int(hit[neg].sum()),
            "false_alarms_by_lexicon": int(lexicon[neg].sum()),
        }
    return out


def fingerprint(sources: list[str]) -> str:
    """A digest of what the model was built from: the lexicon files and the training sets.
    The model reads through the lexicon (its keys and concepts), so a lexicon change means
    retraining; a test compares this with the files."""
    digest = hashlib.sha256()
    concepts = ROOT / "participation" / "safeguarding" / "concepts"
    for path in [*sorted(concepts.glob("*.yaml")), *(DATA / name for name in sorted(sources))]:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(l2: float, target: float) -> tuple[dict[str, Any], list[Example], np.ndarray]:
    examples = load_examples(TRAINING_SETS)
    scores = cross_validate(examples, l2)
    threshold = choose_threshold(examples, scores, target)
    readable = [ex for ex in examples if ex.features is not None]
    vocabulary, w, b = fit(readable, l2)
    weights = {f: round(float(w[i]), 4) for f, i in vocabulary.items() if abs(w[i]) >= 5e-5}
    model = {
        "about": "Safeguarding triage's statistical opinion: logistic regression weights over "
        "the features of participation/safeguarding/model.py. Rebuilt by "
        "scripts/train_triage_model.py; never edit by hand.",
        "trained_on": sorted({ex.source for ex in examples}),
        "built_from_sha256": fingerprint(sorted({ex.source for ex in examples})),
        "l2": l2,
        "false_alarm_target": target,
        "threshold": threshold,
        "cross_validation": report(examples, scores, threshold),
        "bias": round(b, 4),
        "weights": dict(sorted(weights.items())),
    }
    return model, examples, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--false-alarms", type=float, default=FALSE_ALARMS)
    parser.add_argument("--check", action="store_true", help="compare with the stored file")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    model, _, _ = build(args.l2, args.false_alarms)
    text = json.dumps(model, ensure_ascii=False, indent=0, sort_keys=False) + "\n"
    for name, row in model["cross_validation"].items():
        print(
            f"{name}: raised {row['raised']}/{row['disclosures']} "
            f"(lexicon alone {row['raised_by_lexicon']}); false alarms "
            f"{row['false_alarms']}/{row['harmless']} (lexicon alone "
            f"{row['false_alarms_by_lexicon']})"
        )
    print(f"threshold {model['threshold']}, {len(model['weights'])} weights")
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("the stored model is up to date" if same else "the stored model differs")
        raise SystemExit(0 if same else 1)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

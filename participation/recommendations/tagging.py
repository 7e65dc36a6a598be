"""Suggest Ofsted recommendation codes for a child's free text, with the words that fired.

The matcher is explainable on purpose: a participation worker confirms every suggestion,
so each one carries the phrases of the text that produced it. All vocabulary lives in
``vocabulary.yaml`` beside this module; this file only knows how to read and apply it.

Scoring: each distinct term of a code that matches adds its weight, and the score is
``1 - exp(-sum)``, so one strong term or a few weak ones are needed, and extra evidence
has diminishing returns. A code is suggested when its score reaches the threshold.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from participation.text import (
    PatternIndex,
    PhraseMatch,
    PhraseMatcher,
    quote_spans,
    tokenise,
)

__all__ = [
    "CodeScore",
    "EvaluationReport",
    "TagSuggestion",
    "Tagger",
    "evaluate",
    "read_labelled_jsonl",
]

DEFAULT_VOCABULARY = Path(__file__).with_name("vocabulary.yaml")
_MAX_SPAN = 40  # longer than any pattern can stretch (words plus gaps)
_MAX_EVIDENCE = 12  # quotes per suggestion: enough to explain it, short enough to read


@dataclass(frozen=True)
class TagSuggestion:
    """A suggested recommendation code for one text."""

    code: str
    score: float  # 0..1, higher = stronger
    evidence: tuple[str, ...]  # the words/phrases of the text that matched, as written


@dataclass(frozen=True, slots=True)
class _Term:
    code: str
    pattern: int  # index into the matcher's patterns
    weight: float
    near: tuple[int, ...]
    not_near: tuple[int, ...]


class Tagger:
    """Suggests recommendation codes from a compiled vocabulary. Build once, reuse."""

    def __init__(
        self,
        *,
        matcher: PhraseMatcher,
        terms: Sequence[_Term],
        masks: Collection[int],
        threshold: float,
        window: int,
        codes: Sequence[str],
    ) -> None:
        """Use ``Tagger.load``; this takes already compiled parts."""
        self._matcher = matcher
        self._terms_by_pattern: dict[int, list[_Term]] = {}
        for term in terms:
            self._terms_by_pattern.setdefault(term.pattern, []).append(term)
        self._masks = frozenset(masks)
        self._context_patterns = frozenset(p for t in terms for p in (*t.near, *t.not_near))
        self.threshold = threshold
        self._window = window
        self.codes: tuple[str, ...] = tuple(codes)

    @classmethod
    def load(cls, path: Path | None = None) -> Tagger:
        """Read a vocabulary file (default: ``vocabulary.yaml`` beside this module)."""
        with (path or DEFAULT_VOCABULARY).open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Tagger:
        """Compile a parsed vocabulary (the structure of ``vocabulary.yaml``)."""
        intern = PatternIndex()
        patterns = intern.patterns

        masks = [intern(str(p)) for p in data.get("mask", [])]
        terms: list[_Term] = []
        codes = data.get("codes") or {}
        if not codes:
            raise ValueError("the vocabulary defines no codes")
        for code, spec in codes.items():
            for pattern, value in (spec.get("terms") or {}).items():
                if isinstance(value, Mapping):
                    weight = float(value["weight"])
                    near = tuple(intern(str(p)) for p in value.get("near", []))
                    not_near = tuple(intern(str(p)) for p in value.get("not_near", []))
                else:
                    weight, near, not_near = float(value), (), ()
                terms.append(_Term(str(code), intern(str(pattern)), weight, near, not_near))
        matcher = PhraseMatcher(
            patterns,
            groups=data.get("groups") or {},
            aliases={str(k): str(v) for k, v in (data.get("aliases") or {}).items()},
            max_gap=int(data.get("max_gap", 4)),
            fuzzy_min_length=int(data.get("fuzzy_min_length", 6)),
            not_typos=[str(w) for w in data.get("not_typos", [])],
        )
        threshold = float(data.get("threshold", 0.5))
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must lie strictly between 0 and 1")
        return cls(
            matcher=matcher,
            terms=terms,
            masks=masks,
            threshold=threshold,
            window=int(data.get("window", 10)),
            codes=[str(c) for c in codes],
        )

    def suggest(self, text: str) -> list[TagSuggestion]:
        """Suggest codes for ``text``, strongest first; ``[]`` when nothing fits."""
        tokens = tokenise(text)
        if not tokens:
            return []
        matches = self._matcher.find(tokens)
        masked = [False] * len(tokens)
        context: dict[int, list[int]] = {}  # context pattern -> sorted start positions
        ends: dict[tuple[int, int], int] = {}
        for m in matches:
            if m.pattern in self._masks:
                for i in range(m.start, m.end):
                    masked[i] = True
            if m.pattern in self._context_patterns:
                context.setdefault(m.pattern, []).append(m.start)
                ends[m.pattern, m.start] = m.end

        # code -> accepted (term, match) pairs
        hits: dict[str, list[tuple[_Term, PhraseMatch]]] = {}
        for m in matches:
            terms = self._terms_by_pattern.get(m.pattern)
            if not terms or any(masked[m.start : m.end]):
                continue
            for term in terms:
                if term.near and not self._any_near(term.near, m, context, ends):
                    continue
                if term.not_near and self._any_near(term.not_near, m, context, ends):
                    continue
                hits.setdefault(term.code, []).append((term, m))

        suggestions = []
        for code, code_hits in hits.items():
            kept = _drop_contained(code_hits)
            # A term counts once however often it appears: repetition is not more evidence.
            weights: dict[int, float] = {}
            for term, _m in kept:
                weights[term.pattern] = max(weights.get(term.pattern, 0.0), term.weight)
            score = 1.0 - math.exp(-sum(weights.values()))
            if score + 1e-9 >= self.threshold:
                evidence = quote_spans(
                    text, tokens, ((m.start, m.end) for _t, m in kept), _MAX_EVIDENCE
                )
                suggestions.append(TagSuggestion(code, round(score, 4), evidence))
        suggestions.sort(key=lambda s: (-s.score, s.code))
        return suggestions

    def _any_near(
        self,
        patterns: Sequence[int],
        m: PhraseMatch,
        context: Mapping[int, list[int]],
        ends: Mapping[tuple[int, int], int],
    ) -> bool:
        """Whether any of ``patterns`` matched within the window around ``m``."""
        lo, hi = m.start - self._window, m.end + self._window
        for p in patterns:
            starts = context.get(p)
            if not starts:
                continue
            # Starts are in text order (find() walks left to right); a context phrase is
            # at most _MAX_SPAN words long, so only starts from lo - _MAX_SPAN can reach lo.
            j = bisect.bisect_left(starts, lo - _MAX_SPAN)
            while j < len(starts) and starts[j] < hi:
                if ends[p, starts[j]] > lo:
                    return True
                j += 1
        return False


def _drop_contained(
    hits: list[tuple[_Term, PhraseMatch]],
) -> list[tuple[_Term, PhraseMatch]]:
    """Keep the most specific matches: a term inside a longer term's span adds nothing.

    "my sw keeps changing" should weigh as that phrase, not also as "my sw" plus
    "keeps changing": the long phrase's weight already accounts for its parts. Two terms
    over exactly the same words ("fill in" and "filling in" after stemming) count once,
    at the higher weight.
    """
    ordered = sorted(hits, key=lambda h: (-(h[1].end - h[1].start), -h[0].weight))
    kept: list[tuple[_Term, PhraseMatch]] = []
    # Kept spans by start word; spans are short, so a containing span starts at most
    # _MAX_SPAN words before m and this stays linear on very long texts.
    ends_by_start: dict[int, list[int]] = {}
    for term, m in ordered:
        inside = any(
            end >= m.end
            for start in range(max(0, m.start - _MAX_SPAN), m.start + 1)
            for end in ends_by_start.get(start, ())
        )
        if not inside:
            kept.append((term, m))
            ends_by_start.setdefault(m.start, []).append(m.end)
    return kept


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeScore:
    """Counts and rates for one code (or ``"ALL"`` for the micro-average)."""

    code: str
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, code: str, tp: int, fp: int, fn: int) -> CodeScore:
        """Compute the rates; an empty denominator counts as perfect only if nothing was missed
        (for precision) or nothing was wrongly suggested (for recall)."""
        precision = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
        recall = tp / (tp + fn) if tp + fn else (1.0 if fp == 0 else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(code, tp, fp, fn, precision, recall, f1)


@dataclass(frozen=True)
class EvaluationReport:
    """Per-code scores and their micro-average (code ``"ALL"``)."""

    per_code: tuple[CodeScore, ...]
    overall: CodeScore

    def format(self) -> str:
        """A plain-text table, for test failures and the CLI."""
        lines = [f"{'code':<22} {'tp':>4} {'fp':>4} {'fn':>4}  {'prec':>5} {'rec':>5} {'f1':>5}"]
        for s in (*self.per_code, self.overall):
            lines.append(
                f"{s.code:<22} {s.tp:>4} {s.fp:>4} {s.fn:>4}  "
                f"{s.precision:>5.2f} {s.recall:>5.2f} {s.f1:>5.2f}"
            )
        return "\n".join(lines)


def evaluate(tagger: Tagger, items: Iterable[tuple[str, Collection[str]]]) -> EvaluationReport:
    """Compare the tagger's suggestions with gold codes, per code and micro-averaged."""
    counts: dict[str, list[int]] = {code: [0, 0, 0] for code in tagger.codes}
    for text, gold_codes in items:
        gold = set(gold_codes)
        predicted = {s.code for s in tagger.suggest(text)}
        for code in predicted | gold:
            c = counts.setdefault(code, [0, 0, 0])
            if code in predicted and code in gold:
                c[0] += 1
            elif code in predicted:
                c[1] += 1
            else:
                c[2] += 1
    per_code = tuple(CodeScore.from_counts(code, *counts[code]) for code in sorted(counts))
    overall = CodeScore.from_counts(
        "ALL",
        sum(s.tp for s in per_code),
        sum(s.fp for s in per_code),
        sum(s.fn for s in per_code),
    )
    return EvaluationReport(per_code, overall)


def read_labelled_jsonl(path: Path) -> list[tuple[str, frozenset[str]]]:
    """Read lines of ``{"text": ..., "codes": [...]}``; blank lines are skipped."""
    items: list[tuple[str, frozenset[str]]] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            text, codes = record.get("text"), record.get("codes")
            if not isinstance(text, str) or not isinstance(codes, list):
                raise ValueError(f"{path}:{number}: expected text (string) and codes (list)")
            items.append((text, frozenset(str(c) for c in codes)))
    return items

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
import itertools
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

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


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a repeated key (PyYAML keeps the last one silently,
    which would drop a term without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"repeated key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
    near: tuple[tuple[int, ...], ...]  # every tuple needs one of its patterns nearby
    not_near: tuple[int, ...]
    window: int | None  # words either side for near (and not_near); None: the vocabulary's
    not_near_window: int | None  # words either side for not_near, if not ``window``


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
        self._context_patterns = frozenset(
            p for t in terms for p in (*itertools.chain.from_iterable(t.near), *t.not_near)
        )
        self.threshold = threshold
        self._window = window
        self.codes: tuple[str, ...] = tuple(codes)

    @classmethod
    def load(cls, path: Path | None = None) -> Tagger:
        """Read a vocabulary file (default: ``vocabulary.yaml`` beside this module)."""
        with (path or DEFAULT_VOCABULARY).open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 (a safe loader)
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
                # One pattern may carry several readings (a list), each with its own
                # context: "<carer>" near a school plan, or near school and "asked".
                for reading in value if isinstance(value, list) else [value]:
                    if isinstance(reading, Mapping):
                        weight = float(reading["weight"])
                        near = _compile_near(reading.get("near", []), intern)
                        not_near = tuple(intern(str(p)) for p in reading.get("not_near", []))
                        window = int(reading["window"]) if "window" in reading else None
                        far = reading.get("not_near_window", window)
                        not_near_window = None if far is None else int(far)
                    else:
                        weight, near, not_near = float(reading), (), ()
                        window = not_near_window = None
                    terms.append(
                        _Term(
                            str(code),
                            intern(str(pattern)),
                            weight,
                            near,
                            not_near,
                            window,
                            not_near_window,
                        )
                    )
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
        tokens = tokenise(_join_initialisms(text))
        if not tokens:
            return []
        matches = self._matcher.find(tokens)
        masked = [False] * len(tokens)
        for m in matches:
            if m.pattern in self._masks:
                for i in range(m.start, m.end):
                    masked[i] = True
        # context pattern -> sorted start positions: every match (what not_near looks for),
        # and only those clear of a mask (what near looks for: "the school play" is no
        # evidence that a plan is about school).
        context: dict[int, list[int]] = {}
        clean: dict[int, list[int]] = {}
        ends: dict[tuple[int, int], int] = {}
        for m in matches:
            if m.pattern in self._context_patterns:
                context.setdefault(m.pattern, []).append(m.start)
                if not any(masked[m.start : m.end]):
                    clean.setdefault(m.pattern, []).append(m.start)
                ends[m.pattern, m.start] = m.end

        # code -> accepted (term, match) pairs
        hits: dict[str, list[tuple[_Term, PhraseMatch]]] = {}
        for m in matches:
            terms = self._terms_by_pattern.get(m.pattern)
            if not terms or any(masked[m.start : m.end]):
                continue
            for term in terms:
                window = self._window if term.window is None else term.window
                if not all(self._any_near(alts, m, clean, ends, window) for alts in term.near):
                    continue
                far = self._window if term.not_near_window is None else term.not_near_window
                if term.not_near and self._any_near(term.not_near, m, context, ends, far):
                    continue
                hits.setdefault(term.code, []).append((term, m))

        suggestions = []
        for code, code_hits in hits.items():
            kept = _drop_contained(code_hits)
            # A term counts once however often it appears: repetition is not more evidence.
            weights: dict[int, float] = {}
            for term, _m, weight in kept:
                weights[term.pattern] = max(weights.get(term.pattern, 0.0), weight)
            score = 1.0 - math.exp(-sum(weights.values()))
            if score + 1e-9 >= self.threshold:
                evidence = quote_spans(
                    text, tokens, ((m.start, m.end) for _t, m, _w in kept), _MAX_EVIDENCE
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
        window: int,
    ) -> bool:
        """Whether any of ``patterns`` matched within ``window`` words around ``m``."""
        lo, hi = m.start - window, m.end + window
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


_INITIALISM_RE: Final = re.compile(r"(?<![^\W\d_])([^\W\d_])\.(?=[^\W\d_](?![^\W\d_]))")


def _join_initialisms(text: str) -> str:
    """Write "p.e.p" or "I.R.O." as one word ("p'e'p", read as "pep") for tokenising.

    The full stops would otherwise be sentence breaks between single letters. The result
    has the same length as ``text``, so token offsets still quote the child's own text.
    """
    return _INITIALISM_RE.sub(r"\1'", text) if "." in text else text


def _compile_near(spec: Sequence[Any], intern: PatternIndex) -> tuple[tuple[int, ...], ...]:
    """Compile a term's ``near``: a list of patterns (any one of them nearby will do), or a
    list of such lists, each of which must be satisfied (a concept near two others)."""
    if not spec:
        return ()
    if not any(isinstance(p, list) for p in spec):
        return (tuple(intern(str(p)) for p in spec),)  # str(): YAML reads 16 as a number
    if all(isinstance(p, list) and p and not any(isinstance(q, list) for q in p) for p in spec):
        return tuple(tuple(intern(str(q)) for q in p) for p in spec)
    raise ValueError(f"near must be a list of patterns or a list of such lists: {spec!r}")


def _drop_contained(
    hits: list[tuple[_Term, PhraseMatch]],
) -> list[tuple[_Term, PhraseMatch, float]]:
    """Keep the most specific matches: a term inside a longer term's span adds nothing more.

    "my sw keeps changing" should weigh as that phrase, not also as "my sw" plus
    "keeps changing": the long phrase's weight already accounts for its parts. Two terms
    over exactly the same words ("fill in" and "filling in" after stemming) count once,
    at the higher weight. But a span never weighs less than the separate evidence inside
    it: a weak phrase ("foster carer") does not hide a strong reading of its words
    ("<carer>" near a school plan), and a loose pattern ("<survey> .. long") does not hide
    the two terms it happens to cover ("surveys", "so long"). Returns (term, match,
    weight) for each kept span.
    """
    ordered = sorted(hits, key=lambda h: (-(h[1].end - h[1].start), -h[0].weight))
    kept: list[tuple[_Term, PhraseMatch, float]] = []
    inner: dict[int, list[tuple[_Term, PhraseMatch]]] = {}  # kept index -> hits inside it
    # Kept spans by start word; spans are short, so a containing span starts at most
    # _MAX_SPAN words before m and this stays linear on very long texts.
    ends_by_start: dict[int, list[tuple[int, int]]] = {}
    for term, m in ordered:
        container = next(
            (
                index
                for start in range(max(0, m.start - _MAX_SPAN), m.start + 1)
                for end, index in ends_by_start.get(start, ())
                if end >= m.end
            ),
            None,
        )
        if container is None:
            ends_by_start.setdefault(m.start, []).append((m.end, len(kept)))
            kept.append((term, m, term.weight))
        else:
            inner.setdefault(container, []).append((term, m))
    for index, parts in inner.items():
        outer_term, outer_m, weight = kept[index]
        # The separate evidence inside: the strongest terms over words not yet counted,
        # each pattern once.
        taken: list[tuple[int, int]] = []
        patterns: set[int] = {outer_term.pattern}
        total = 0.0
        for term, m in sorted(parts, key=lambda h: -h[0].weight):
            if term.pattern in patterns or any(
                m.start < end and start < m.end for start, end in taken
            ):
                continue
            patterns.add(term.pattern)
            taken.append((m.start, m.end))
            total += term.weight
        if total > weight:
            kept[index] = (outer_term, outer_m, total)
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

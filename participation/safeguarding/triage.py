"""Safeguarding triage: rate a child's free text as none, concern or urgent, with reasons.

Missing a disclosure is far worse than a false alarm, so the lexicon is broad and the
discounting rules are narrow and local:

- an idiom discounts only the triggers lying wholly inside its words ("maths is killing
  me"), and only when the whole idiom matches;
- a negation discounts only the trigger it governs: the negator must sit a few words before
  it, in the same clause, with no "scope stopper" ("knows", "tell", "when") in between, so
  "I feel safe at school but at home he hits me" stays urgent and "nobody knows he hits
  me" is not read as "nobody hits me".

All words live in ``lexicon.yaml`` beside this module.
"""

from __future__ import annotations

import bisect
import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from participation.text import (
    Break,
    PatternIndex,
    PhraseMatch,
    PhraseMatcher,
    Token,
    quote_spans,
    tokenise,
)

__all__ = ["REASONS", "Level", "Triage", "TriageResult", "triage"]

DEFAULT_LEXICON = Path(__file__).with_name("lexicon.yaml")
_MAX_SPAN = 40  # longer than any pattern can stretch (words plus gaps)
_MAX_EVIDENCE = 20  # enough to show the lead where to look

REASONS: tuple[str, ...] = (
    "self_harm",
    "suicide",
    "physical_abuse",
    "sexual_abuse",
    "emotional_abuse",
    "neglect",
    "criminal_exploitation",
    "sexual_exploitation",
    "online_grooming",
    "missing",
    "unsafe_at_home",
    "bullying",
)


@functools.total_ordering
class Level(enum.Enum):
    """How soon a safeguarding lead must look: ordered NONE < CONCERN < URGENT."""

    NONE = "none"
    CONCERN = "concern"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """0 for none, 1 for concern, 2 for urgent."""
        return _RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank


_RANK = {"none": 0, "concern": 1, "urgent": 2}


@dataclass(frozen=True)
class TriageResult:
    """The level, the reason codes (most serious first) and the words that fired."""

    level: Level
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"level": "urgent", "reasons": [...], "evidence": [...]}``."""
        return {
            "level": self.level.value,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
        }


_NOTHING = TriageResult(Level.NONE, (), ())


@dataclass(frozen=True, slots=True)
class _Trigger:
    reason: str
    level: Level
    on_negation: Level  # NONE: a negated trigger is dropped; CONCERN: kept as a concern


@dataclass(frozen=True, slots=True)
class _Hit:
    trigger: _Trigger
    level: Level
    start: int
    end: int


class Triage:
    """Assesses free text against a compiled lexicon. Build once, reuse."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        """Compile a parsed lexicon (the structure of ``lexicon.yaml``)."""
        intern = PatternIndex()
        patterns = intern.patterns

        self._triggers: dict[int, list[_Trigger]] = {}
        reasons = data.get("reasons") or {}
        unknown = set(reasons) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown reason codes in lexicon: {sorted(unknown)}")
        for reason, spec in reasons.items():
            on_negation = Level(spec.get("on_negation", "none"))
            for level in (Level.URGENT, Level.CONCERN):
                trigger = _Trigger(reason, level, min(on_negation, level))
                for pattern in spec.get(level.value) or []:
                    self._triggers.setdefault(intern(str(pattern)), []).append(trigger)
        self._idioms = frozenset(intern(str(p)) for p in data.get("idioms", []))
        self._negators = frozenset(intern(str(p)) for p in data.get("negators", []))
        self._matcher = PhraseMatcher(
            patterns,
            groups=data.get("groups") or {},
            aliases={str(k): str(v) for k, v in (data.get("aliases") or {}).items()},
            max_gap=int(data.get("max_gap", 3)),
            fuzzy_min_length=int(data.get("fuzzy_min_length", 6)),
            not_typos=[str(w) for w in data.get("not_typos", [])],
        )
        self._stoppers = self._keys(data.get("scope_stoppers", []))
        self._breakers = self._keys(data.get("clause_breakers", []))
        self._window = int(data.get("negation_window", 3))

    def _keys(self, words: Sequence[Any]) -> frozenset[str]:
        return frozenset(k for w in words for k in self._matcher.keys_for(str(w).casefold()))

    @classmethod
    def load(cls, path: Path | None = None) -> Triage:
        """Read a lexicon file (default: ``lexicon.yaml`` beside this module)."""
        with (path or DEFAULT_LEXICON).open(encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    def assess(self, text: str) -> TriageResult:
        """Rate ``text``; never raises on odd input (empty, emoji, very long)."""
        tokens = tokenise(text)
        if not tokens:
            return _NOTHING
        matches = self._matcher.find(tokens)
        clauses = self._clauses(tokens)
        # Idioms by the words they cover: a trigger can only be discounted by an idiom that
        # covers its last word (see _discounts), so that is the only place to look.
        idioms_at: dict[int, list[PhraseMatch]] = {}
        for m in matches:
            if m.pattern in self._idioms:
                for i in range(m.start, m.end):
                    idioms_at.setdefault(i, []).append(m)
        negator_ends = sorted({m.end - 1 for m in matches if m.pattern in self._negators})

        hits: list[_Hit] = []
        for m in matches:
            for trigger in self._triggers.get(m.pattern, ()):
                if any(_discounts(i, m) for i in idioms_at.get(m.end - 1, ())):
                    continue
                level = trigger.level
                if self._negated(m, tokens, clauses, negator_ends):
                    level = trigger.on_negation
                if level is not Level.NONE:
                    hits.append(_Hit(trigger, level, m.start, m.end))
        hits = _most_specific(hits)
        if not hits:
            return _NOTHING

        worst: dict[str, Level] = {}
        first_seen: dict[str, int] = {}
        for hit in hits:
            reason = hit.trigger.reason
            worst[reason] = max(worst.get(reason, Level.NONE), hit.level)
            first_seen[reason] = min(first_seen.get(reason, hit.start), hit.start)
        reasons = sorted(worst, key=lambda r: (-worst[r].rank, first_seen[r]))
        return TriageResult(
            level=max(worst.values()),
            reasons=tuple(reasons),
            evidence=quote_spans(text, tokens, ((h.start, h.end) for h in hits), _MAX_EVIDENCE),
        )

    def _clauses(self, tokens: Sequence[Token]) -> list[int]:
        """Clause number of each token: punctuation and words such as "but" start a new one."""
        clause, out = 0, []
        for token in tokens:
            if token.break_before is not Break.NONE or token.key in self._breakers:
                clause += 1
            out.append(clause)
        return out

    def _negated(
        self,
        m: PhraseMatch,
        tokens: Sequence[Token],
        clauses: Sequence[int],
        negator_ends: Sequence[int],
    ) -> bool:
        """Whether a negator governs the trigger ``m`` (see the module docstring)."""
        first = bisect.bisect_left(negator_ends, m.start - self._window)
        for n in negator_ends[first:]:
            if n >= m.start:
                break
            if clauses[n] != clauses[m.start]:
                continue
            between = tokens[n + 1 : m.start]
            if not any(t.key in self._stoppers or t.norm in self._stoppers for t in between):
                return True
        return False


def _discounts(idiom: PhraseMatch, trigger: PhraseMatch) -> bool:
    """Whether a matched idiom accounts for a trigger.

    It does when it covers the whole trigger ("maths is [killing me]") or when the trigger
    runs into the idiom's first words and the idiom completes it ("I'm going to [die of
    embarrassment]"): the trigger's last word belongs to the idiom, which goes on past it.
    An idiom elsewhere in the text, or covering only the start of a trigger, discounts
    nothing.
    """
    if idiom.start <= trigger.start and trigger.end <= idiom.end:
        return True
    return idiom.start <= trigger.end - 1 < idiom.end and idiom.end > trigger.end


def _most_specific(hits: list[_Hit]) -> list[_Hit]:
    """Drop a hit lying strictly inside a longer one: "he used to hit me" is historic
    (concern), so its inner "hit me" (urgent) must not outrank it."""
    by_start: dict[int, list[int]] = {}
    for h in hits:
        by_start.setdefault(h.start, []).append(h.end)
    # Patterns span a few words, so a longer hit containing h starts at most _MAX_SPAN
    # words before it: looking only there keeps this linear on very long texts.
    return [
        h
        for h in hits
        if not any(
            end >= h.end and (end - start) > (h.end - h.start)
            for start in range(max(0, h.start - _MAX_SPAN), h.start + 1)
            for end in by_start.get(start, ())
        )
    ]


@functools.cache
def _default() -> Triage:
    return Triage.load()


def triage(text: str) -> TriageResult:
    """Assess ``text`` with the default lexicon (compiled once, on first use)."""
    return _default().assess(text)

"""The disclosure rules for published figures, decided once per release. README: "Published
figures" says what they are and where they come from.

* A count under the threshold (default 10) is hidden, zeros included: "0 of the group
  said yes" tells what every child in it said, and a hidden 3 next to a shown 0 would
  tell "some" from "none". Whether a figure exists (a row, a year on a trend line) never
  depends on counts: it comes from the release's rounds, questions and groups alone.
* Secondary suppression across everything at once: every figure of every filter
  combination is a sum of atomic counts (one round, one group, one question). Figures
  are offered to a ``Guard`` largest first (the whole council, then years, bands, rounds,
  groups) and shown only if, with them, no hidden count lies in the span of the shown
  ones: no subtraction of any figures on any pages recovers a hidden count exactly.
* A favourable share is shown only if both the favourable and the other answers reach
  the threshold, and its base is shown; the check treats a shown share as if it gave
  the favourable count exactly (a whole-number percentage nearly does).
* An evidence row (a recommendation summing its questions) shows a base or share only
  if every question it sums shows it: it is then a sum of shown figures and tells
  nothing new.
* A response rate is shown with its parts (sent, group size) only if both the sent and
  the not-sent counts reach the threshold; otherwise all three are hidden.
* Card counts that sit inside each other (raised, sent, answered, changed, overdue)
  go through the same span check, so no difference of two stages is a small count.
* Shown counts are rounded to the nearest 5 and percentages to whole numbers, by
  ``shown_count`` and ``shown_percent``, everywhere (page, pack, files, API). The span
  check does not rely on the rounding: it assumes a reader knows each shown count
  exactly, so rounding is a second defence (against bounds, not only subtraction).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from panel.linear import Guard

if TYPE_CHECKING:
    from challenge_cards.reads import CardStages
    from panel.release import Combination, Structure

ROUND_COUNTS_TO = 5


def shown_count(value: int | None) -> int | None:
    """A count as every page, pack, file and API answer shows it: to the nearest 5."""
    if value is None:
        return None
    return ROUND_COUNTS_TO * ((2 * value + ROUND_COUNTS_TO) // (2 * ROUND_COUNTS_TO))


def shown_percent(numerator: int | None, base: int | None) -> int | None:
    """A percentage as everything shows it: a whole number, halves rounded up (62.5 -> 63).

    Computed from the exact counts, in integers, so no float edge case can make a page
    and the API differ.
    """
    if numerator is None or base is None or base <= 0:
        return None
    return (200 * numerator + base) // (2 * base)


def lone_count(value: int, threshold: int) -> int | None:
    """A count that no other figure contains: shown if it reaches the threshold."""
    return value if value >= threshold else None


def rate_shown(sent: int, expected: int | None, threshold: int) -> bool:
    """Whether a response rate, and with it its sent count and group size, may be shown."""
    if expected is None or expected < sent:
        return False
    return sent >= threshold and expected - sent >= threshold


@dataclass(frozen=True)
class Decided:
    """One indicator figure of one filter combination, with what may be shown of it."""

    filter_key: str
    item_kind: str  # "question" or "recommendation"
    item: str
    answered: int
    favourable: int
    base_shown: bool
    share_shown: bool

    def as_row(self) -> dict[str, Any]:
        return {
            "filter_key": self.filter_key,
            "item_kind": self.item_kind,
            "item": self.item,
            "answered": self.answered,
            "favourable": self.favourable,
            "base_shown": self.base_shown,
            "share_shown": self.share_shown,
        }


def _indicator(cells: frozenset[tuple[int, int]]) -> dict[Hashable, int]:
    return dict.fromkeys(cells, 1)


def _order(cells: frozenset[tuple[int, int]]) -> tuple[int, list[tuple[int, int]]]:
    return (-len(cells), sorted(cells))


def decide_question(
    supports: list[frozenset[tuple[int, int]]],
    answered: Mapping[tuple[int, int], int],
    favourable: Mapping[tuple[int, int], int],
    threshold: int,
) -> dict[frozenset[tuple[int, int]], tuple[bool, bool]]:
    """For one question: each support (set of round-group cells) -> (base shown, share shown).

    Answers split into favourable (a) and other (b) counts per cell; a base shows a+b,
    a share (conservatively) a. In the coordinates a+b and a the shown vectors fall into
    two independent systems, so each is guarded on its own: the bases against every
    small base, the favourable counts against every small favourable count and, where
    the base is known, every small "other" count.
    """
    order = sorted(set(supports), key=_order)

    def c(s: frozenset[tuple[int, int]]) -> int:
        return sum(answered.get(cell, 0) for cell in s)

    def a(s: frozenset[tuple[int, int]]) -> int:
        return sum(favourable.get(cell, 0) for cell in s)

    bases = Guard([_indicator(s) for s in order if c(s) < threshold])
    base_shown = {s: c(s) >= threshold and bases.offer(_indicator(s)) for s in order}
    sensitive = [
        _indicator(s)
        for s in order
        if c(s) > 0
        and (
            a(s) < threshold
            or (c(s) - a(s) < threshold and bases.span.contains(bases.span.vector(_indicator(s))))
        )
    ]
    shares = Guard(sensitive)
    result = {}
    for s in order:
        share = (
            base_shown[s]
            and a(s) >= threshold
            and c(s) - a(s) >= threshold
            and shares.offer(_indicator(s))
        )
        result[s] = (base_shown[s], share)
    return result


def decide(
    structure: Structure,
    counts: Mapping[tuple[int, int, str], tuple[int, int]],
    threshold: int,
) -> list[Decided]:
    """Every indicator figure of every filter combination of a release, decided."""
    combos = structure.combinations()
    keys = structure.question_keys()
    by_question: dict[str, dict[Combination, frozenset[tuple[int, int]]]] = {}
    decided: dict[str, dict[frozenset[tuple[int, int]], tuple[bool, bool]]] = {}
    for key in keys:
        supports = {c: structure.support(c, key) for c in combos}
        supports = {c: s for c, s in supports.items() if s}
        by_question[key] = supports
        answered_in = {(r, g): v[0] for (r, g, q), v in counts.items() if q == key}
        favourable_in = {(r, g): v[1] for (r, g, q), v in counts.items() if q == key}
        decided[key] = decide_question(
            list(supports.values()), answered_in, favourable_in, threshold
        )

    def totals(key: str, s: frozenset[tuple[int, int]]) -> tuple[int, int]:
        answered = sum(counts.get((r, g, key), (0, 0))[0] for r, g in s)
        favourable = sum(counts.get((r, g, key), (0, 0))[1] for r, g in s)
        return answered, favourable

    out = []
    for c in combos:
        for key in keys:
            s = by_question[key].get(c)
            if s is None:
                continue
            base, share = decided[key][s]
            answered, favourable = totals(key, s)
            out.append(Decided(c.key, "question", key, answered, favourable, base, share))
        for code, rec_keys in structure.recommendations.items():
            present = [k for k in rec_keys if c in by_question.get(k, {})]
            if not present:
                continue
            parts = [(decided[k][by_question[k][c]], totals(k, by_question[k][c])) for k in present]
            out.append(
                Decided(
                    c.key,
                    "recommendation",
                    code,
                    sum(t[0] for _v, t in parts),
                    sum(t[1] for _v, t in parts),
                    all(v[0] for v, _t in parts),
                    all(v[1] for v, _t in parts),
                )
            )
    return out


def _guarded(
    atoms: dict[str, int], figures: list[tuple[str, list[str]]], threshold: int
) -> dict[str, bool]:
    """Counts that nest (each a sum of some atoms): which may be shown. Sensitive are
    small atoms and small figures; figures are offered in the order given."""
    value = {name: sum(atoms[a] for a in parts) for name, parts in figures}
    sensitive: list[dict[Hashable, int]] = [
        {name: 1} for name, v in atoms.items() if 0 < v < threshold
    ]
    sensitive += [dict.fromkeys(parts, 1) for name, parts in figures if value[name] < threshold]
    guard = Guard(sensitive)
    return {
        name: value[name] >= threshold and guard.offer(dict.fromkeys(parts, 1))
        for name, parts in figures
    }


FUNNEL = ("raised", "sent", "answered", "changed")


def decide_funnel(stages: CardStages, threshold: int) -> dict[str, Any]:
    """The card funnel: stages (raised within sent within ...) and overdue, decided."""
    atoms = {
        "not_sent": stages.raised - stages.sent,
        "overdue": stages.overdue,
        "waiting": stages.sent - stages.answered - stages.overdue,
        "answered_only": stages.answered - stages.changed,
        "changed": stages.changed,
    }
    figures = [
        ("raised", list(atoms)),
        ("sent", ["overdue", "waiting", "answered_only", "changed"]),
        ("answered", ["answered_only", "changed"]),
        ("changed", ["changed"]),
        ("overdue", ["overdue"]),
    ]
    shown = _guarded(atoms, figures, threshold)
    values = {
        "raised": stages.raised,
        "sent": stages.sent,
        "answered": stages.answered,
        "changed": stages.changed,
        "overdue": stages.overdue,
    }
    return {
        "stages": [[name, values[name] if shown[name] else None] for name in FUNNEL],
        "overdue": values["overdue"] if shown["overdue"] else None,
        "median_days": (
            stages.median_days_to_answer if stages.answered_with_dates >= threshold else None
        ),
        "true": values,
    }


def decide_card_counts(raised: int, answered: int, changed: int, threshold: int) -> dict[str, Any]:
    """Cards tagged with one recommendation: raised, answered, changed (each within the
    one before), decided."""
    atoms = {"open": raised - answered, "answered_only": answered - changed, "changed": changed}
    figures = [
        ("cards_raised", ["open", "answered_only", "changed"]),
        ("cards_answered", ["answered_only", "changed"]),
        ("cards_changed", ["changed"]),
    ]
    shown = _guarded(atoms, figures, threshold)
    values = {"cards_raised": raised, "cards_answered": answered, "cards_changed": changed}
    return {name: values[name] if shown[name] else None for name in values} | {"cards_true": values}

"""No small count can be worked out by combining what a release shows under any filters.

Every figure a release decides for one question, under every combination of filters, is
a sum over (round, group) cells: a shown base is an equation on the cells' answered
counts, and a shown share one on their favourable counts. A hidden small count (of any
filter combination, favourable or not) is given away when its vector lies in the span
of those equations (linear algebra over the rationals, exact, written here apart from
``panel.linear``). Checked on random councils with two rounds a year.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from panel.models import ReleasedRound
from panel.release import Structure
from panel.rules import decide

THRESHOLD = 10
ROUNDS = ((1, 2025), (2, 2025), (3, 2026), (4, 2026))  # two rounds a year
GROUPS = (11, 12, 13)


def _spanned(rows: list[list[Fraction]]):
    """A test of whether a vector is a combination of ``rows`` (exact Gaussian elimination,
    the basis built once)."""
    basis: list[tuple[int, list[Fraction]]] = []  # (pivot column, row) in echelon form

    def reduce(vector: list[Fraction]) -> list[Fraction]:
        vector = list(vector)
        for pivot, row in basis:
            if vector[pivot]:
                factor = vector[pivot] / row[pivot]
                vector = [v - factor * r for v, r in zip(vector, row, strict=True)]
        return vector

    for row in rows:
        reduced = reduce(row)
        pivot = next((i for i, v in enumerate(reduced) if v), None)
        if pivot is not None:
            basis.append((pivot, reduced))
    return lambda target: not any(reduce(target))


counts = st.one_of(st.integers(0, THRESHOLD - 1), st.integers(0, 40))
CELLS = list(itertools.product([r for r, _y in ROUNDS], GROUPS))


@settings(max_examples=30, deadline=None)
@given(cells=st.lists(st.tuples(counts, st.floats(0, 1)), min_size=len(CELLS), max_size=len(CELLS)))
@example(cells=[(0, 0.0), (1, 0.0), (0, 0.0)] * 4)
@example(cells=[(20, 0.5), (3, 0.0), (12, 0.5), (14, 0.5), (21, 0.5), (10, 0.0)] * 2)
@example(cells=[(14, 0.6), (0, 0.0), (0, 0.0), (9, 0.4), (0, 0.0), (0, 0.0)] * 2)
def test_no_hidden_small_count_lies_in_the_span_of_what_is_shown(cells):
    rounds = {
        rid: ReleasedRound(
            round_id=rid,
            name=f"Round {rid}",
            year=year,
            age_band="11-17",
            question_keys=["feel_safe"],
            counted_responses=0,
            counted_at=datetime(year, 12, 1, tzinfo=UTC),
            closed=True,
        )
        for rid, year in ROUNDS
    }
    grid = {}
    for cell, (answered, ratio) in zip(CELLS, cells, strict=True):
        grid[cell] = (answered, round(answered * ratio))
    structure = Structure(rounds, set(CELLS), {"REC": ["feel_safe"]})
    counts_by_key = {(r, g, "feel_safe"): v for (r, g), v in grid.items()}
    decided = decide(structure, counts_by_key, THRESHOLD)

    n = len(CELLS)
    equations: list[list[Fraction]] = []
    for row in decided:
        selected = structure.support(_combination(row.filter_key), "feel_safe")
        indicator = [Fraction(int(c in selected)) for c in CELLS]
        if row.base_shown:
            equations.append(indicator + indicator)  # answered = favourable + other
        if row.share_shown:
            assert row.base_shown
            equations.append(indicator + [Fraction(0)] * n)  # favourable, as if exact
    in_span = _spanned(equations)
    for c in structure.combinations():
        selected = structure.support(c, "feel_safe")
        indicator = [Fraction(int(cell in selected)) for cell in CELLS]
        answered = sum(grid[cell][0] for cell in selected)
        favourable = sum(grid[cell][1] for cell in selected)
        zero = [Fraction(0)] * n
        checks = [(answered, indicator + indicator)]
        if answered:
            checks += [(favourable, indicator + zero), (answered - favourable, zero + indicator)]
        for value, vector in checks:
            if value < THRESHOLD:
                assert not in_span(vector), (c.key, value, grid)


def _combination(filter_key: str):
    from panel.audit import _parse_key

    return _parse_key(filter_key)

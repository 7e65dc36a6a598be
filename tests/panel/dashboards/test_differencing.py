"""No small count can be worked out by combining what the pages show under any filters.

Every figure the overview and the indicator page show for one question, under every
combination of filters, is a sum over (round, group) cells: a shown base is an equation on
the cells' answered counts, and a shown share with its base is one on their favourable
counts. A hidden small count is given away when its cell's unit vector lies in the span of
those equations (linear algebra over the rationals, exact). This is a necessary condition
for safety, checked on random councils; the disclosure module's own property tests cover
the non-negativity arguments within one table.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from panel.dashboards import report
from panel.dashboards.queries import Filters
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_council, create_group
from surveys.models import AnswerTally
from surveys.services import open_round

THRESHOLD = 10
YEARS = (2025, 2026)
GROUPS = 3


def _in_span(rows: list[list[Fraction]], target: list[Fraction]) -> bool:
    """Whether ``target`` is a combination of ``rows`` (Gaussian elimination, exact)."""
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
    return not any(reduce(target))


counts = st.one_of(st.integers(0, THRESHOLD - 1), st.integers(0, 40))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cells=st.lists(
        st.tuples(counts, st.floats(0, 1)),
        min_size=len(YEARS) * GROUPS,
        max_size=len(YEARS) * GROUPS,
    )
)
@example(cells=[(0, 0.0), (1, 0.0), (0, 0.0), (0, 0.0), (10, 0.0), (0, 0.0)])
@example(cells=[(0, 0.0), (2, 0.0), (12, 0.0), (14, 0.0), (21, 0.0), (10, 0.0)])
def test_no_hidden_small_count_lies_in_the_span_of_what_is_shown(db_tx, question_set, cells):
    slug = f"c{secrets.token_hex(4)}"
    council = create_council(db_tx, f"Council {slug}", slug)
    groups = [
        create_group(
            db_tx,
            council,
            name=f"Group {i}",
            age_band=AgeBand.AGES_8_11,
            kind=GroupKind.CHILDREN_IN_CARE,
        )
        for i in range(GROUPS)
    ]
    rounds = [
        open_round(
            db_tx,
            council,
            name=f"Survey {year}",
            question_set=question_set,
            groups=groups,
            opens_at=datetime(year, 9, 1, tzinfo=UTC),
            closes_at=datetime(year, 12, 1, tzinfo=UTC),
        )
        for year in YEARS
    ]
    question = next(q for q in question_set.questions if q.key == "feel_safe")
    grid = {}  # (round index, group index) -> (answered, favourable)
    for (r, g), (answered, ratio) in zip(
        itertools.product(range(len(rounds)), range(GROUPS)), cells, strict=True
    ):
        favourable = round(answered * ratio)
        grid[(r, g)] = (answered, favourable)
        if answered:
            db_tx.add(
                AnswerTally(
                    council_id=council.id,
                    round_id=rounds[r].id,
                    group_id=groups[g].id,
                    question_id=question.id,
                    question_key=question.key,
                    answered=answered,
                    favourable=favourable,
                )
            )
    db_tx.flush()

    keys = list(grid)  # variables: answered of each cell, then favourable of each cell
    n = len(keys)
    equations: list[list[Fraction]] = []
    sources: list[str] = []

    def shown(
        selected: set[tuple[int, int]], base: int | None, share: float | None, where: str
    ) -> None:
        if base is not None:
            equations.append([Fraction(int(k in selected)) for k in keys] + [Fraction(0)] * n)
            sources.append(f"{where}: base {base} over {sorted(selected)}")
            if share is not None:
                equations.append([Fraction(0)] * n + [Fraction(int(k in selected)) for k in keys])
                sources.append(f"{where}: share {share} over {sorted(selected)}")

    def select(filters: Filters) -> set[tuple[int, int]]:
        return {
            (r, g)
            for r, g in keys
            if (filters.round_id in (None, rounds[r].id))
            and (filters.year in (None, YEARS[r]))
            and (filters.group_id in (None, groups[g].id))
        }

    options = itertools.product(
        [None, *YEARS], [None, *(r.id for r in rounds)], [None, *(g.id for g in groups)]
    )
    for year, round_id, group_id in options:
        filters = Filters(year=year, round_id=round_id, group_id=group_id)
        cells_in = select(filters)
        for row in report.indicator_rows(db_tx, council.id, filters, THRESHOLD):
            if row["key"] == "feel_safe":
                shown(cells_in, row["base"], row["share"], f"overview {filters}")
        splits = report.indicator_splits(db_tx, council.id, filters, "feel_safe", THRESHOLD)
        for part in splits["year"]:
            selected = {c for c in cells_in if YEARS[c[0]] == part["key"]}
            shown(selected, part["base"], part["share"], f"by year {part['key']} {filters}")
        for part in splits["group"]:
            index = int(str(part["key"]).rsplit(" ", 1)[1])
            selected = {c for c in cells_in if c[1] == index}
            shown(selected, part["base"], part["share"], f"by group {index} {filters}")

    for i, key in enumerate(keys):
        answered, favourable = grid[key]
        unit = [Fraction(int(j == i)) for j in range(2 * n)]
        if 0 < answered < THRESHOLD:
            assert not _in_span(equations, unit), (
                f"answered count of {key} ({answered}) found from: " + "; ".join(sources)
            )
        for value, vector in (
            (favourable, [Fraction(0)] * n + unit[:n]),
            (answered - favourable, [*unit[:n], *(-u for u in unit[:n])]),
        ):
            if 0 < value < THRESHOLD and answered >= THRESHOLD:
                assert not _in_span(equations, vector), (
                    f"a split count of {key} ({value}) found from: " + "; ".join(sources)
                )

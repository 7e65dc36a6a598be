"""Small-number suppression: nothing small is shown and no hidden value can be worked out.

The proof of safety does not trust the module's reasoning. ``recoverable_values`` is an
independent checker: it asks a textbook feasibility oracle (a circulation with lower
bounds, solved by Edmonds-Karp max-flow) whether some non-negative table other than the
true one agrees with everything shown. It is itself checked against brute-force
enumeration of every table on small cases.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from panel.dashboards import disclosure
from panel.dashboards.disclosure import (
    SUPPRESSED,
    Table,
    format_count,
    share,
    suppress_series,
    suppress_small_counts,
)

# Derandomised so that CI runs the same examples every time; no deadline because the
# time per example varies with the size of the table.
PROPERTY = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

Grid = list[list[int]]
Key = tuple[str, ...]  # ("cell", "i", "j"), ("row", "i"), ("col", "j") or ("total",)
UNBOUNDED = 10**9


# ---------------------------------------------------------------------------
# An independent checker
# ---------------------------------------------------------------------------


def _labels(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _suppress(grid: Grid, threshold: int) -> Table:
    rows, cols = _labels("r", len(grid)), _labels("c", len(grid[0]))
    counts = {(r, c): grid[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    return suppress_small_counts(counts, rows, cols, threshold)


def _max_flow(capacity: list[list[int]], source: int, sink: int) -> int:
    """Edmonds-Karp on a capacity matrix (changed in place into the residual)."""
    flow = 0
    while True:
        parent = [-1] * len(capacity)
        parent[source] = source
        queue = deque([source])
        while queue and parent[sink] < 0:
            u = queue.popleft()
            for v, left in enumerate(capacity[u]):
                if left > 0 and parent[v] < 0:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return flow
        push, v = UNBOUNDED, sink
        while v != source:
            push, v = min(push, capacity[parent[v]][v]), parent[v]
        v = sink
        while v != source:
            capacity[parent[v]][v] -= push
            capacity[v][parent[v]] += push
            v = parent[v]
        flow += push


def _circulation_exists(n_nodes: int, edges: list[tuple[int, int, int, int]]) -> bool:
    """Whether flows lo <= f <= hi on ``edges`` (u, v, lo, hi) can be conserved at every node."""
    size = n_nodes + 2
    source, sink = n_nodes, n_nodes + 1
    capacity = [[0] * size for _ in range(size)]
    excess = [0] * n_nodes
    for u, v, lo, hi in edges:
        if lo > hi:
            return False
        capacity[u][v] += hi - lo
        excess[v] += lo
        excess[u] -= lo
    needed = 0
    for node, extra in enumerate(excess):
        if extra > 0:
            capacity[source][node] += extra
            needed += extra
        else:
            capacity[node][sink] -= extra
    return _max_flow(capacity, source, sink) == needed


def consistent_table_exists(shown: Table, fixed: Mapping[Key, int] | None = None) -> bool:
    """Whether a non-negative table agrees with every shown value and the ``fixed`` ones.

    A table is a circulation: grand total t->s, row total s->row, cell row->col,
    column total col->t, with a shown (or fixed) value as an edge of exactly that flow.
    Max-flow finds an integer circulation whenever a real one exists.
    """
    fixed = fixed or {}
    n_rows, n_cols = len(shown.rows), len(shown.cols)
    s, t = 0, 1
    row_node = [2 + i for i in range(n_rows)]
    col_node = [2 + n_rows + j for j in range(n_cols)]

    def bounds(key: Key, value: int | None) -> tuple[int, int]:
        value = fixed.get(key, value)
        return (0, UNBOUNDED) if value is None else (value, value)

    edges = [(t, s, *bounds(("total",), shown.total))]
    edges += [(s, row_node[i], *bounds(("row", str(i)), v)) for i, v in enumerate(shown.row_totals)]
    edges += [(col_node[j], t, *bounds(("col", str(j)), v)) for j, v in enumerate(shown.col_totals)]
    for i, row in enumerate(shown.cells):
        for j, v in enumerate(row):
            edges.append((row_node[i], col_node[j], *bounds(("cell", str(i), str(j)), v)))
    return _circulation_exists(2 + n_rows + n_cols, edges)


def _hidden_values(shown: Table, truth: Grid) -> Iterator[tuple[Key, int]]:
    """(key, true value) of every hidden cell and total."""
    for i, row in enumerate(truth):
        for j, value in enumerate(row):
            if shown.cells[i][j] is None:
                yield ("cell", str(i), str(j)), value
    for i, row in enumerate(truth):
        if shown.row_totals[i] is None:
            yield ("row", str(i)), sum(row)
    for j, col in enumerate(zip(*truth, strict=True)):
        if shown.col_totals[j] is None:
            yield ("col", str(j)), sum(col)
    if shown.total is None:
        yield ("total",), sum(map(sum, truth))


def recoverable_values(shown: Table, truth: Grid) -> list[Key]:
    """Every hidden cell or total that has the same value in all tables consistent with ``shown``.

    The values a hidden quantity can take form an interval (a linear function over a
    convex set), and the true value is in it. So it has a second possible value exactly
    when one more or one less than the truth is possible.
    """
    assert consistent_table_exists(shown)
    return [
        key
        for key, true in _hidden_values(shown, truth)
        if not any(consistent_table_exists(shown, {key: v}) for v in (true - 1, true + 1) if v >= 0)
    ]


def recoverable_by_enumeration(shown: Table, truth: Grid) -> list[Key]:
    """The same answer by listing every table, for tiny tables only.

    When the grand total is hidden, tables are listed up to one more than the true
    grand total: enough to find the neighbours the interval argument needs.
    """
    n_rows, n_cols = len(truth), len(truth[0])
    grand = sum(map(sum, truth))
    possible: dict[Key, set[int]] = {key: set() for key, _ in _hidden_values(shown, truth)}
    limit = grand if shown.total is not None else grand + 1
    for flat in _compositions(n_rows * n_cols, limit):
        grid = [list(flat[i * n_cols : (i + 1) * n_cols]) for i in range(n_rows)]
        candidate = _table_from_pattern(grid, set())
        if all(
            s is None or s == c
            for s, c in zip(_flat_values(shown), _flat_values(candidate), strict=True)
        ):
            for key, value in _hidden_values(shown, grid):
                possible[key].add(value)
    return [key for key, values in possible.items() if len(values) < 2]


def _compositions(n_cells: int, at_most: int) -> Iterator[tuple[int, ...]]:
    """Every tuple of ``n_cells`` non-negative integers adding up to at most ``at_most``."""
    if n_cells == 0:
        yield ()
        return
    for first in range(at_most + 1):
        for rest in _compositions(n_cells - 1, at_most - first):
            yield (first, *rest)


def _flat_values(table: Table) -> list[int | None]:
    return [*itertools.chain(*table.cells), *table.row_totals, *table.col_totals, table.total]


def _table_from_pattern(grid: Grid, hidden: set[Key]) -> Table:
    """The true ``grid`` with the ``hidden`` cells and totals blanked, to test the checker."""

    def show(key: Key, value: int) -> int | None:
        return None if key in hidden else value

    return Table(
        rows=tuple(_labels("r", len(grid))),
        cols=tuple(_labels("c", len(grid[0]))),
        cells=tuple(
            tuple(show(("cell", str(i), str(j)), v) for j, v in enumerate(row))
            for i, row in enumerate(grid)
        ),
        row_totals=tuple(show(("row", str(i)), sum(row)) for i, row in enumerate(grid)),
        col_totals=tuple(
            show(("col", str(j)), sum(col)) for j, col in enumerate(zip(*grid, strict=True))
        ),
        total=show(("total",), sum(map(sum, grid))),
    )


def _cells(*pairs: tuple[int, int]) -> set[Key]:
    return {("cell", str(i), str(j)) for i, j in pairs}


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn, max_side: int, max_count: int) -> tuple[Grid, int]:
    """A grid of counts and a threshold. Zeros and small counts are drawn often on purpose."""
    n_rows = draw(st.integers(1, max_side))
    n_cols = draw(st.integers(1, max_side))
    threshold = draw(st.integers(3, 15))
    count = st.one_of(st.just(0), st.integers(1, threshold - 1), st.integers(0, max_count)).filter(
        lambda v: v <= max_count
    )
    grid = draw(
        st.lists(
            st.lists(count, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows
        )
    )
    return grid, threshold


def _shown_values(table: Table, grid: Grid) -> Iterator[tuple[int | None, int, bool]]:
    """(shown, true value, whether its line is empty) for every cell and total."""
    row_totals = [sum(row) for row in grid]
    col_totals = [sum(col) for col in zip(*grid, strict=True)]
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            yield table.cells[i][j], value, row_totals[i] == 0 or col_totals[j] == 0
    for i, value in enumerate(row_totals):
        yield table.row_totals[i], value, value == 0
    for j, value in enumerate(col_totals):
        yield table.col_totals[j], value, value == 0
    yield table.total, sum(row_totals), sum(row_totals) == 0


# ---------------------------------------------------------------------------
# Properties of two-way tables
# ---------------------------------------------------------------------------


@PROPERTY
@given(tables(max_side=6, max_count=60))
def test_shown_values_are_true_and_never_small(case: tuple[Grid, int]) -> None:
    grid, threshold = case
    table = _suppress(grid, threshold)
    for shown, true, empty_line in _shown_values(table, grid):
        if shown is not SUPPRESSED:
            assert shown == true
            # A zero is shown only where its whole line is empty (it concerns no child).
            assert shown >= threshold or (shown == 0 and empty_line)
        elif empty_line and true == 0:
            pytest.fail("a structural zero was hidden")


@settings(PROPERTY, max_examples=300)
@given(tables(max_side=4, max_count=20))
def test_no_hidden_value_can_be_worked_out_small_tables(case: tuple[Grid, int]) -> None:
    grid, threshold = case
    assert recoverable_values(_suppress(grid, threshold), grid) == []


@PROPERTY
@given(tables(max_side=6, max_count=60))
def test_no_hidden_value_can_be_worked_out_larger_tables(case: tuple[Grid, int]) -> None:
    grid, threshold = case
    assert recoverable_values(_suppress(grid, threshold), grid) == []


@st.composite
def tiny_patterns(draw: st.DrawFn) -> tuple[Grid, set[Key]]:
    """A tiny grid with any cells and totals blanked, not only the patterns the module makes."""
    n_rows, n_cols = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    grid = [[draw(st.integers(0, 3)) for _ in range(n_cols)] for _ in range(n_rows)]
    every: list[Key] = [
        *(("cell", str(i), str(j)) for i in range(n_rows) for j in range(n_cols)),
        *(("row", str(i)) for i in range(n_rows)),
        *(("col", str(j)) for j in range(n_cols)),
        ("total",),
    ]
    return grid, set(draw(st.lists(st.sampled_from(every), max_size=len(every))))


@settings(PROPERTY, max_examples=80)
@given(tiny_patterns())
def test_the_checker_agrees_with_listing_every_table(case: tuple[Grid, set[Key]]) -> None:
    grid, hidden = case
    shown = _table_from_pattern(grid, hidden)
    assert sorted(recoverable_values(shown, grid)) == sorted(
        recoverable_by_enumeration(shown, grid)
    )


@PROPERTY
@given(tables(max_side=6, max_count=60), st.randoms(use_true_random=False))
def test_suppression_is_stable(case: tuple[Grid, int], random: Random) -> None:
    grid, threshold = case
    table = _suppress(grid, threshold)
    assert _suppress(grid, threshold) == table
    # The order in which the counts arrive (e.g. from SQL) changes nothing.
    rows, cols = _labels("r", len(grid)), _labels("c", len(grid[0]))
    pairs = [((r, c), grid[i][j]) for i, r in enumerate(rows) for j, c in enumerate(cols)]
    random.shuffle(pairs)
    assert suppress_small_counts(dict(pairs), rows, cols, threshold) == table
    # Leaving out zero counts is the same as listing them.
    nonzero = {key: v for key, v in pairs if v}
    assert suppress_small_counts(nonzero, rows, cols, threshold) == table
    # Idempotent: the secondary step, run again on its own result, hides nothing more.
    hidden = {e for e, v in enumerate(_flat_values(table)) if v is SUPPRESSED}
    assert disclosure._Network(grid).protect(hidden) == hidden


@PROPERTY
@given(st.integers(1, 6), st.integers(1, 6), st.integers(10, 60), st.integers(1, 10))
def test_a_table_with_nothing_small_is_left_whole(
    n_rows: int, n_cols: int, low: int, threshold: int
) -> None:
    grid = [[low + (i * 7 + j * 3) % 11 for j in range(n_cols)] for i in range(n_rows)]
    table = _suppress(grid, threshold)
    assert table.cells == tuple(map(tuple, grid))
    assert table.total == sum(map(sum, grid))


# ---------------------------------------------------------------------------
# Examples
# ---------------------------------------------------------------------------


def test_one_hidden_cell_in_a_row_is_covered_by_secondary_suppression() -> None:
    counts = {
        ("Foster care", "Yes"): 25,
        ("Foster care", "No"): 4,
        ("Residential", "Yes"): 30,
        ("Residential", "No"): 15,
        ("Kinship", "Yes"): 12,
        ("Kinship", "No"): 20,
    }
    rows, cols = ["Foster care", "Residential", "Kinship"], ["Yes", "No"]
    table = suppress_small_counts(counts, rows, cols)
    # The 4 alone would be 29 - 25. Hiding the 25 leaves one hidden cell in "Yes", so the
    # cheapest cover hides the Kinship row (12 and 20) rather than Residential (30 and 15).
    assert table.cells == ((None, None), (30, 15), (None, None))
    assert table.row_totals == (29, 45, 32)
    assert table.col_totals == (67, 39)
    assert table.total == 106
    assert table.cell("Residential", "No") == 15
    truth = [[25, 4], [30, 15], [12, 20]]
    assert recoverable_values(table, truth) == []


BRIDGE = [[3, 4, 20, 25], [5, 2, 6, 30], [20, 22, 7, 8], [21, 24, 9, 1]]
BRIDGE_SMALL = {(i, j) for i, row in enumerate(BRIDGE) for j, v in enumerate(row) if v < 10}


def test_two_hidden_cells_in_every_line_can_still_give_one_away() -> None:
    # After primary suppression every row and column holds 2 or 3 hidden cells, yet the 6
    # is rows 0-1 minus columns 0-1: (52 + 43 - 75) - (49 + 52 - 87) = 20 - 14.
    naive = _table_from_pattern(BRIDGE, _cells(*BRIDGE_SMALL))
    assert all(sum(v is None for v in row) >= 2 for row in naive.cells)
    assert all(sum(v is None for v in col) >= 2 for col in zip(*naive.cells, strict=True))
    assert recoverable_values(naive, BRIDGE) == [("cell", "1", "2")]

    table = _suppress(BRIDGE, 10)
    hidden = {(i, j) for i, row in enumerate(table.cells) for j, v in enumerate(row) if v is None}
    assert hidden > BRIDGE_SMALL
    assert recoverable_values(table, BRIDGE) == []


def test_the_checker_sees_a_single_hidden_cell_and_hidden_zeros() -> None:
    grid = [[25, 4], [30, 15]]
    assert recoverable_values(_table_from_pattern(grid, _cells((0, 1))), grid) == [
        ("cell", "0", "1")
    ]
    zeros = [[0, 0, 30], [12, 14, 20]]
    # Two hidden zeros in a row whose shown cells already make up its total.
    pinned = recoverable_values(_table_from_pattern(zeros, _cells((0, 0), (0, 1))), zeros)
    assert pinned == [("cell", "0", "0"), ("cell", "0", "1")]
    # A hidden small row total is the grand total minus the other row totals.
    small = [[2, 3], [30, 40]]
    assert recoverable_values(_table_from_pattern(small, {("row", "0")}), small) == [("row", "0")]


def test_zeros_are_hidden_unless_their_line_is_empty() -> None:
    counts = {("A", "Yes"): 0, ("A", "No"): 25, ("B", "Yes"): 30, ("B", "No"): 40}
    table = suppress_small_counts(counts, ["A", "B", "Empty"], ["Yes", "No", "Unsure"])
    # "0 of group A said yes" tells the reader what every child in A said.
    assert table.cell("A", "Yes") is SUPPRESSED
    assert table.cells[2] == (0, 0, 0) and table.row_totals[2] == 0
    assert table.col_totals[2] == 0 and table.cell("B", "Unsure") == 0


def test_a_small_row_total_cannot_be_worked_out_from_the_grand_total() -> None:
    grid = [[2, 3], [30, 40], [25, 50]]
    table = _suppress(grid, 10)
    assert table.row_totals[0] is SUPPRESSED
    assert recoverable_values(table, grid) == []


def test_everything_small_is_all_hidden() -> None:
    grid = [[1, 2], [3, 0]]
    table = _suppress(grid, 10)
    assert table.cells == ((None, None), (None, None))
    assert (table.row_totals, table.col_totals, table.total) == ((None, None), (None, None), None)


def test_an_empty_table_shows_its_zeros() -> None:
    table = suppress_small_counts({}, ["A", "B"], ["Yes", "No"])
    assert table.cells == ((0, 0), (0, 0)) and table.total == 0


@pytest.mark.parametrize(
    ("counts", "rows", "threshold"),
    [
        ({("A", "x"): -1}, ["A"], 10),
        ({("Z", "x"): 3}, ["A"], 10),
        ({("A", "x"): 3}, ["A", "A"], 10),
        ({("A", "x"): 3}, ["A"], 0),
    ],
)
def test_bad_input_is_refused(
    counts: dict[tuple[str, str], int], rows: list[str], threshold: int
) -> None:
    with pytest.raises(ValueError):
        suppress_small_counts(counts, rows, ["x"], threshold)


# ---------------------------------------------------------------------------
# One-way series
# ---------------------------------------------------------------------------


@PROPERTY
@given(
    st.lists(st.one_of(st.just(0), st.integers(1, 14), st.integers(0, 60)), min_size=1, max_size=6),
    st.integers(3, 15),
    st.booleans(),
)
def test_series_hides_small_counts_and_cannot_be_worked_back(
    values: list[int], threshold: int, total_shown: bool
) -> None:
    counts = {f"k{i}": v for i, v in enumerate(values)}
    shown = suppress_series(counts, threshold, total_shown=total_shown)
    assert suppress_series(counts, threshold, total_shown=total_shown) == shown
    assert list(shown) == list(counts)
    total = sum(values)
    for key, value in shown.items():
        if value is not SUPPRESSED:
            assert value == counts[key]
            assert value >= threshold or total == 0
    hidden = [key for key, value in shown.items() if value is SUPPRESSED]
    if total_shown and hidden and (total >= threshold or total == 0):
        # The reader knows the hidden counts add up to this; each must have two possible values.
        rest = total - sum(v for v in shown.values() if v is not None)
        for key in hidden:
            others = len(hidden) - 1
            possible = [
                v
                for v in range(rest + 1)
                if (others and rest - v >= 0) or (not others and v == rest)
            ]
            assert len(possible) >= 2, key
    if not total_shown:
        assert hidden == [k for k, v in counts.items() if v < threshold and total > 0]


def test_series_examples() -> None:
    assert suppress_series({"yes": 20, "no": 12}) == {"yes": 20, "no": 12}
    assert suppress_series({"yes": 25, "no": 5}) == {"yes": None, "no": None}
    assert suppress_series({"yes": 25, "no": 5}, total_shown=False) == {"yes": 25, "no": None}
    # Two hidden zeros under a shown total of 30 would both be known to be 0.
    assert suppress_series({"a": 30, "b": 0, "c": 0}) == {"a": None, "b": None, "c": None}
    assert suppress_series({"a": 30, "b": 40, "c": 3, "d": 4}) == {
        "a": 30,
        "b": 40,
        "c": None,
        "d": None,
    }
    assert suppress_series({"a": 30, "b": 12, "c": 3}) == {"a": 30, "b": None, "c": None}
    assert suppress_series({"a": 0, "b": 0}) == {"a": 0, "b": 0}


# ---------------------------------------------------------------------------
# Shares and formatting
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "base", "expected"),
    [
        (20, 32, 62.5),
        (0, 10, 0.0),
        (10, 10, 100.0),
        (3, 9, None),  # base under the threshold
        (0, 0, None),
        (None, 40, None),  # numerator hidden
        (20, None, None),  # base hidden
    ],
)
def test_share_only_on_shown_bases_at_the_threshold(
    numerator: int | None, base: int | None, expected: float | None
) -> None:
    assert share(numerator, base) == expected


def test_share_uses_the_given_threshold_and_refuses_nonsense() -> None:
    assert share(3, 6, threshold=5) == 50.0
    assert share(3, 6, threshold=7) is None
    with pytest.raises(ValueError):
        share(7, 6)
    with pytest.raises(ValueError):
        share(-1, 6)


@PROPERTY
@given(st.integers(0, 200), st.integers(0, 200), st.integers(1, 15))
def test_share_is_a_percentage_or_none(a: int, b: int, threshold: int) -> None:
    numerator, base = min(a, b), max(a, b)
    result = share(numerator, base, threshold)
    assert (result is None) == (base < threshold)
    assert result is None or 0 <= result <= 100


def test_format_count() -> None:
    assert format_count(None) == "*"
    assert format_count(SUPPRESSED) == "*"
    assert format_count(0) == "0"
    assert format_count(1234) == "1234"


# ---------------------------------------------------------------------------
# Split tables whose margins another page shows (fixed_margins)
# ---------------------------------------------------------------------------


def _suppress_fixed(grid: Grid, threshold: int) -> Table:
    rows, cols = _labels("r", len(grid)), _labels("c", len(grid[0]))
    counts = {(r, c): grid[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    return suppress_small_counts(counts, rows, cols, threshold, fixed_margins=True)


@settings(PROPERTY, max_examples=300)
@given(tables(max_side=5, max_count=40))
def test_a_split_hides_its_margins_exactly_as_the_unsplit_figure_does(
    case: tuple[Grid, int],
) -> None:
    grid, threshold = case
    table = _suppress_fixed(grid, threshold)
    col_totals = [sum(col) for col in zip(*grid, strict=True)]
    unsplit = suppress_series(
        {str(j): v for j, v in enumerate(col_totals)}, threshold, total_shown=True
    )
    grand = sum(col_totals)
    grand_shown = grand == 0 or grand >= threshold
    if table.total is not SUPPRESSED or not grand_shown:
        # The margins are those of the unsplit figure, unless nothing at all could be
        # shown safely (then everything is hidden).
        assert [v is None for v in table.col_totals] == [
            v is None for v in unsplit.values()
        ] or all(v is None for v in table.col_totals)
        assert (table.total is None) == (not grand_shown) or table.total is None
    for shown, true, empty_line in _shown_values(table, grid):
        if shown is not SUPPRESSED:
            assert shown == true
            assert shown >= threshold or (shown == 0 and empty_line)


@settings(PROPERTY, max_examples=300)
@given(tables(max_side=5, max_count=40))
def test_no_hidden_value_of_a_split_can_be_worked_out(case: tuple[Grid, int]) -> None:
    grid, threshold = case
    assert recoverable_values(_suppress_fixed(grid, threshold), grid) == []


def test_a_split_hides_cells_rather_than_the_unsplit_figure() -> None:
    # Group B's 8 and 2 are small. The unsplit figure (35 answers: 20 and 15) is shown on
    # the overview, so the split hides group A's cells too, never the margins.
    table = _suppress_fixed([[12, 13], [8, 2]], 10)
    assert table.total == 35 and table.col_totals == (20, 15)
    assert table.cells == ((None, None), (None, None)) and table.row_totals == (25, 10)

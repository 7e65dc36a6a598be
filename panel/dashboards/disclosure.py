"""Small-number suppression for what councillors see on the panel dashboards.

The counts are about children in care, so a small count could point at one child.

* Primary suppression: a count under the threshold (default 10) is hidden.
  Zeros count as small. "0 of the 25 children in residential care said they feel
  safe" tells the reader what every one of those 25 children answered (group
  disclosure), so a zero is hidden like a 3. The one exception is a structural zero,
  where the whole row or column is empty: a total of 0 concerns no child, so that
  total and the zeros in its line are shown. A total of 0 shown with its cells hidden
  would not hide them anyway, since non-negative counts that add up to 0 are all 0.
* A row, column or grand total from 1 to threshold - 1 is hidden too.
* Secondary suppression: no hidden value (cell or total) may be worked out exactly
  from what is shown. The usual rule of thumb, "never exactly one hidden cell in a
  line with a shown total", is necessary but not enough. Two hidden zeros are given
  away when the shown cells already add up to the total. A hidden row total is given
  away by the grand total when every other row total is shown. And a hidden cell
  that links two blocks of hidden cells is given away by combining several rows
  and columns, even when every line holds two or more hidden cells. So the table is
  checked exactly, by the network argument in ``_Network``, and more cells are hidden
  until the check passes.

A hidden cell is shown as "*", never as "<10": a cell hidden by secondary suppression
can be large, and "<10" would be a lie that narrows down the other hidden cells.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SUPPRESSED = None
"""How a hidden value appears in results: templates show it with ``format_count``."""

SUPPRESSED_MARK = "*"
DEFAULT_THRESHOLD = 10

# Opening a shown total costs more than a shown cell of the same size. Councillors
# read the margins first ("how many children answered in each group"), and a hidden
# margin tends to force more hidden cells along it.
_CELL_WEIGHT = 1
_TOTAL_WEIGHT = 2


@dataclass(frozen=True)
class Table:
    """A two-way table of non-negative integer counts with row, column and grand totals.

    A hidden value is ``SUPPRESSED`` (None), whether it is a cell or a total.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...]
    col_totals: tuple[int | None, ...]
    total: int | None

    def cell(self, row: str, col: str) -> int | None:
        """The shown count for ``row`` and ``col``, or None if it is hidden."""
        return self.cells[self.rows.index(row)][self.cols.index(col)]


def suppress_small_counts(
    counts: Mapping[tuple[str, str], int],
    rows: Sequence[str],
    cols: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    fixed_margins: bool = False,
) -> Table:
    """Suppress a two-way table so that no hidden cell or total can be worked out.

    ``counts`` maps (row, column) to a count; a missing pair counts as 0. Every shown
    value is the true count: suppression hides values, it never rounds or perturbs them.

    With ``fixed_margins`` the column totals and the grand total are the unsplit figures
    that another page shows on their own (as ``suppress_series`` over the columns with
    the total shown decides): they are hidden exactly as that page hides them, and never
    opened to protect a cell. Cells and row totals are hidden instead, however many;
    the split can then never be set against the unsplit figures to work a value out.
    """
    _check_threshold(threshold)
    rows, cols = tuple(rows), tuple(cols)
    for labels, what in ((rows, "row"), (cols, "column")):
        if len(set(labels)) != len(labels):
            raise ValueError(f"duplicate {what} labels: {labels!r}")
    unknown = set(counts) - {(r, c) for r in rows for c in cols}
    if unknown:
        # A count outside the listed rows and columns would drop silently out of the totals.
        raise ValueError(f"counts for pairs outside the table: {sorted(unknown)!r}")
    grid = [[_checked_count(counts.get((r, c), 0)) for c in cols] for r in rows]

    network = _Network(grid)
    primary = network.primary(threshold)
    if fixed_margins:
        hidden = network.protect_with_fixed_margins(primary, threshold)
    else:
        hidden = network.protect(primary)
    shown = [None if e in hidden else v for e, v in enumerate(network.values)]

    n_rows, n_cols = len(rows), len(cols)
    offset = n_rows * n_cols
    return Table(
        rows=rows,
        cols=cols,
        cells=tuple(tuple(shown[i * n_cols : (i + 1) * n_cols]) for i in range(n_rows)),
        row_totals=tuple(shown[offset : offset + n_rows]),
        col_totals=tuple(shown[offset + n_rows : offset + n_rows + n_cols]),
        total=shown[-1],
    )


def suppress_series(
    counts: Mapping[str, int], threshold: int = DEFAULT_THRESHOLD, *, total_shown: bool = True
) -> dict[str, int | None]:
    """Suppress a one-way list of counts, such as the answers to one question.

    With ``total_shown`` the page shows the sum of the counts (a base), so hiding one
    count alone would not hide it: then either no count is hidden, or at least two
    are and together they are not 0. The total itself is not returned: the caller
    shows it only if it is 0 or at least the threshold. A total from 1 to threshold - 1
    is a small number too, and every count under it is hidden here anyway.
    """
    _check_threshold(threshold)
    values = {key: _checked_count(value) for key, value in counts.items()}
    total = sum(values.values())
    hidden = {key for key, value in values.items() if _is_small(value, threshold, total == 0)}
    if total_shown and _shown_total(total, threshold):
        # Hidden counts add up to the total minus the shown ones. If only one count is
        # hidden, or the hidden ones add up to 0, each is known exactly. Hiding the
        # smallest shown count fixes both; it always exists when this loop runs.
        while hidden and (len(hidden) == 1 or sum(values[k] for k in hidden) == 0):
            candidates = [k for k, v in values.items() if k not in hidden and v > 0]
            hidden.add(min(candidates, key=lambda k: values[k]))
    return {key: SUPPRESSED if key in hidden else value for key, value in values.items()}


def share(
    numerator: int | None, base: int | None, threshold: int = DEFAULT_THRESHOLD
) -> float | None:
    """The percentage (0 to 100) that ``numerator`` is of ``base``, or None if it may not be shown.

    None when either value is hidden (None) or the base is under the threshold: a
    percentage of a small base gives the small counts away. Pass None for a numerator
    that suppression hid. A percentage with its base shown gives the numerator back,
    so the numerator and the rest of the base should go through ``suppress_series``
    first, as ``views.indicator_cell`` does.
    """
    _check_threshold(threshold)
    if numerator is None or base is None:
        return None
    if numerator < 0 or numerator > base:
        raise ValueError(f"numerator {numerator} is not between 0 and the base {base}")
    if base < threshold:
        return None
    return 100 * numerator / base


def format_count(value: int | None) -> str:
    """The text for a count: its digits, or "*" when it is hidden.

    Pages carry a key saying that "*" means the number is hidden to protect children's
    privacy. It is not "<10": secondary suppression also hides larger counts.
    """
    return SUPPRESSED_MARK if value is None else str(value)


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive integer, not {threshold!r}")


def _checked_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"counts must be non-negative integers, not {value!r}")
    return value


def _is_small(value: int, threshold: int, in_empty_line: bool) -> bool:
    """Primary rule for a cell: under the threshold, zeros included, unless its line is empty."""
    return value < threshold and not (value == 0 and in_empty_line)


def _shown_total(total: int, threshold: int) -> bool:
    """Primary rule for a total: a total of 0 concerns no child, and so it is shown."""
    return total == 0 or total >= threshold


class _NoCover(Exception):
    """No cycle protects a hidden value while the pinned margins stay shown."""


class _Network:
    """A table as a flow network, to tell exactly which hidden values can be worked out.

    Nodes are a source S, a sink T, one node per row and one per column. Each value
    is an edge carrying that value: the grand total T->S, a row total S->row, a cell
    row->column and a column total column->T. A table is consistent with its
    totals exactly when the flow is conserved at every node, so the tables a reader
    cannot tell apart from the true one are the non-negative circulations that agree
    on every shown edge.

    Two such circulations differ by a circulation, which splits into cycles along
    the residual graph of the true table: a hidden edge can always carry one more
    (forward arc), and one less only if its value is positive (backward arc); a shown
    edge cannot change. Pushing one unit round such a cycle gives another consistent
    table. The constraint matrix is totally unimodular, so nothing is lost by
    looking only at integers. Hence a hidden value can be worked out exactly when no
    residual cycle passes through its edge.
    """

    def __init__(self, grid: list[list[int]]) -> None:
        self.n_rows = len(grid)
        self.n_cols = len(grid[0]) if grid else 0
        row_totals = [sum(row) for row in grid]
        col_totals = [sum(grid[i][j] for i in range(self.n_rows)) for j in range(self.n_cols)]
        source, sink = 0, 1
        row_node = [2 + i for i in range(self.n_rows)]
        col_node = [2 + self.n_rows + j for j in range(self.n_cols)]
        self.n_nodes = 2 + self.n_rows + self.n_cols
        # Edges in the order of the results: cells row by row, row, column and grand totals.
        self.values: list[int] = []
        self.ends: list[tuple[int, int]] = []
        self.weights: list[int] = []
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                self._add(row_node[i], col_node[j], value, _CELL_WEIGHT)
        for i, total in enumerate(row_totals):
            self._add(source, row_node[i], total, _TOTAL_WEIGHT)
        for j, total in enumerate(col_totals):
            self._add(col_node[j], sink, total, _TOTAL_WEIGHT)
        self._add(sink, source, sum(row_totals), _TOTAL_WEIGHT)
        self.row_totals, self.col_totals = row_totals, col_totals

    def _add(self, tail: int, head: int, value: int, weight: int) -> None:
        self.values.append(value)
        self.ends.append((tail, head))
        self.weights.append(weight)

    def primary(self, threshold: int) -> set[int]:
        """Edges hidden by the primary rules: small cells (zeros included) and small totals."""
        hidden = set()
        for i in range(self.n_rows):
            for j in range(self.n_cols):
                empty_line = self.row_totals[i] == 0 or self.col_totals[j] == 0
                if _is_small(self.values[i * self.n_cols + j], threshold, empty_line):
                    hidden.add(i * self.n_cols + j)
        for e in range(self.n_rows * self.n_cols, len(self.values)):
            if not _shown_total(self.values[e], threshold):
                hidden.add(e)
        return hidden

    def margins(self) -> tuple[list[int], int]:
        """The edges of the column totals, and of the grand total."""
        first = self.n_rows * self.n_cols + self.n_rows
        return list(range(first, first + self.n_cols)), len(self.values) - 1

    def protect_with_fixed_margins(self, primary: set[int], threshold: int) -> set[int]:
        """``protect`` for a table whose column and grand totals are shown elsewhere."""
        col_edges, grand = self.margins()
        series = suppress_series(
            {str(e): self.values[e] for e in col_edges}, threshold, total_shown=True
        )
        fixed_hidden = {e for e in col_edges if series[str(e)] is None}
        if not _shown_total(self.values[grand], threshold):
            fixed_hidden.add(grand)
        inner = {e for e in primary if e not in col_edges and e != grand}
        for j, e in enumerate(col_edges):
            if e in fixed_hidden and self.values[e] == 0:
                # The unsplit figure hides this 0 ("none of them"), so its cells hide it too.
                inner |= {i * self.n_cols + j for i in range(self.n_rows)}
        hidden = inner | fixed_hidden
        pinned = frozenset(e for e in [*col_edges, grand] if e not in hidden)
        try:
            return self.protect(hidden, pinned)
        except _NoCover:
            # No cells can cover it with the margins pinned: hide every cell and row
            # total. If a value could still be worked out (a table of one row, say),
            # the margins give it away too, and everything is hidden.
            everything_inner = set(range(self.n_rows * self.n_cols + self.n_rows))
            hidden |= everything_inner
            if any(self.recoverable(e, hidden) for e in hidden):
                return set(range(len(self.values)))
            return hidden

    def protect(self, hidden: set[int], pinned: frozenset[int] = frozenset()) -> set[int]:
        """Hide more edges until no hidden value can be worked out; return the new hidden set.

        Hiding more only adds residual arcs, so a value that has been checked stays
        protected. Each edge therefore needs checking once, when it becomes hidden.
        """
        hidden = set(hidden)
        queue = sorted(hidden)
        while queue:
            edge = queue.pop(0)
            if self.recoverable(edge, hidden):
                added = self._cheapest_cover(edge, hidden, pinned)
                hidden |= added
                queue = sorted(set(queue) | added | {edge})
        return hidden

    def recoverable(self, edge: int, hidden: set[int]) -> bool:
        """Whether the hidden ``edge`` lies on no residual cycle (its value is then known)."""
        tail, head = self.ends[edge]
        if self._path_cost(head, tail, edge, hidden, open_shown=False) is not None:
            return False  # it could be one more
        if self.values[edge] > 0:
            return self._path_cost(tail, head, edge, hidden, open_shown=False) is None
        return True

    def _cheapest_cover(
        self, edge: int, hidden: set[int], pinned: frozenset[int] = frozenset()
    ) -> set[int]:
        """The cheapest shown edges to hide so that ``edge`` lies on a residual cycle.

        This is the textbook step ("hide the smallest other cell in the row, preferably
        one whose column already has a hidden cell") made exact: a shortest path in
        which hidden edges are free and a shown edge costs its weighted count. Finding
        the smallest set overall is NP-hard, so cover one value at a time.
        """
        tail, head = self.ends[edge]
        options = [self._path_cost(head, tail, edge, hidden, open_shown=True, pinned=pinned)]
        if self.values[edge] > 0:
            options.append(
                self._path_cost(tail, head, edge, hidden, open_shown=True, pinned=pinned)
            )
        found = [option for option in options if option is not None]
        if not found:
            # Without pinned margins this cannot happen: a hidden value is never in an
            # empty line and totals of hidden lines are positive, so the path through
            # S and T is always there to open.
            raise _NoCover
        return min(found, key=lambda option: option[0])[1]

    def _path_cost(
        self,
        start: int,
        goal: int,
        avoid: int,
        hidden: set[int],
        *,
        open_shown: bool,
        pinned: frozenset[int] = frozenset(),
    ) -> tuple[int, set[int]] | None:
        """Cheapest residual path from ``start`` to ``goal`` not using edge ``avoid``.

        Returns its cost and the shown edges on it, or None if there is no path. With
        ``open_shown`` false only hidden edges may be used (a plain reachability
        test); otherwise a shown positive edge may be used at its cost. A shown 0 is
        never opened: it lies in an empty line, whose 0 total pins it.
        """
        arcs: list[list[tuple[int, int, int]]] = [[] for _ in range(self.n_nodes)]
        for e, (tail, head) in enumerate(self.ends):
            if e == avoid:
                continue
            if e in hidden:
                cost = 0
            elif open_shown and self.values[e] > 0 and e not in pinned:
                cost = self.values[e] * self.weights[e]
            else:
                continue
            arcs[tail].append((head, cost, e))
            if self.values[e] > 0:
                arcs[head].append((tail, cost, e))
        best: list[int | None] = [None] * self.n_nodes
        via: list[tuple[int, int] | None] = [None] * self.n_nodes
        best[start] = 0
        heap = [(0, start)]
        while heap:
            cost, node = heapq.heappop(heap)
            if cost != best[node]:
                continue
            if node == goal:
                opened: set[int] = set()
                while (step_back := via[node]) is not None:
                    node, e = step_back
                    if e not in hidden:
                        opened.add(e)
                return cost, opened
            for nxt, step, e in arcs[node]:
                candidate = cost + step
                known = best[nxt]
                if known is None or candidate < known:
                    best[nxt] = candidate
                    via[nxt] = (node, e)
                    heapq.heappush(heap, (candidate, nxt))
        return None

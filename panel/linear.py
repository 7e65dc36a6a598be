"""Exact linear algebra over published figures: what can be worked out from what is shown.

Every published figure is a sum of atomic counts (answers of one round and group to one
question, say). A reader who sees some figures knows, exactly, every linear combination
of them, and nothing else exactly. A hidden count can be worked back by subtraction
exactly when its vector lies in the span of the shown figures' vectors. ``Span`` keeps
a basis in echelon form and answers that question.

Two fields: exact rationals (``Fraction``), used by the auditor, and the integers modulo
a large prime, used when a release is made because it is fast. A vector in the rational
span is in the modular span whenever the prime divides none of the denominators on the
way; the auditor re-checks every release exactly, so a wrong answer could not go unseen.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction
from typing import Any

PRIME = 2**61 - 1  # a Mersenne prime: products of two residues stay fast Python ints

Vector = dict[Hashable, Any]


class Span:
    """The span of some vectors, grown one vector at a time."""

    def __init__(self, exact: bool = True) -> None:
        self.exact = exact
        # (pivot, row): each row is 1 at its pivot and 0 at the pivots of the rows before.
        self.rows: list[tuple[Hashable, Vector]] = []
        self._pivots: dict[Hashable, int] = {}

    def _field(self, value: Any) -> Any:
        return Fraction(value) if self.exact else value % PRIME

    def _div(self, a: Any, b: Any) -> Any:
        return a / b if self.exact else a * pow(b, PRIME - 2, PRIME) % PRIME

    def _clean(self, value: Any) -> Any:
        return value if self.exact else value % PRIME

    def vector(self, coefficients: Mapping[Hashable, int]) -> Vector:
        out = {}
        for key, value in coefficients.items():
            converted = self._field(value)
            if converted:
                out[key] = converted
        return out

    def reduce(self, vector: Vector) -> Vector:
        """What is left of ``vector`` after taking out its part in the span (0 if inside)."""
        v = dict(vector)
        for pivot, row in self.rows:
            factor = v.get(pivot)
            if not factor:
                continue
            for key, value in row.items():
                new = self._clean(v.get(key, 0) - factor * value)
                if new:
                    v[key] = new
                else:
                    v.pop(key, None)
        return v

    def contains(self, vector: Vector) -> bool:
        return not self.reduce(vector)

    def add_reduced(self, residue: Vector) -> Hashable | None:
        """Add a vector already reduced by ``reduce``; returns its pivot (None if 0)."""
        if not residue:
            return None
        pivot = min(residue, key=repr)
        scale = residue[pivot]
        row = {k: self._div(v, scale) for k, v in residue.items()}
        self._pivots[pivot] = len(self.rows)
        self.rows.append((pivot, row))
        return pivot

    def add(self, vector: Vector) -> None:
        self.add_reduced(self.reduce(vector))

    def rank(self) -> int:
        return len(self.rows)


class Guard:
    """Shown figures chosen so that no sensitive vector ever enters their span.

    ``offer`` a figure: it is accepted (and may be shown) only if, with it, every
    sensitive vector still stays outside the span of the accepted figures. Residues of
    the sensitive vectors are kept reduced against the basis, so each offer costs one
    pass over them: the new span holds a sensitive vector exactly when its residue is a
    multiple of the offered figure's residue.
    """

    def __init__(self, sensitive: Iterable[Mapping[Hashable, int]], exact: bool = False) -> None:
        self.span = Span(exact=exact)
        self.residues = [self.span.vector(v) for v in sensitive]
        self.residues = [r for r in self.residues if r]

    def offer(self, figure: Mapping[Hashable, int]) -> bool:
        residue = self.span.reduce(self.span.vector(figure))
        if not residue:
            return True  # already known from what is shown: showing it tells nothing new
        pivot = min(residue, key=repr)
        for r in self.residues:
            factor = r.get(pivot)
            if not factor or len(r) != len(residue):
                continue
            ratio = self.span._div(factor, residue[pivot])
            if all(
                key in r and not self.span._clean(r[key] - ratio * value)
                for key, value in residue.items()
            ):
                return False
        self.span.add_reduced(residue)
        _pivot, row = self.span.rows[-1]
        for i, r in enumerate(self.residues):
            factor = r.get(pivot)
            if not factor:
                continue
            for key, value in row.items():
                new = self.span._clean(r.get(key, 0) - factor * value)
                if new:
                    r[key] = new
                else:
                    r.pop(key, None)
            self.residues[i] = r
        return True

"""The auditor: every figure any page, pack or API answer shows, and proof that no hidden
count can be worked back from them.

It asks ``panel.published.published`` (the one function the pages, the pack, its files
and the API read: ``tests/panel/test_audit.py`` checks that they show what it returns)
for every filter combination of the latest release, and for every question's split by
year, age band and group under each. Each shown figure is turned, independently of how
the release decided it, into the vector of atomic counts it sums; each count that is
not shown (a figure under the threshold, a favourable or other count under it, an atom,
a hidden response rate's parts, a small card stage or difference of stages) into its
vector too. Then, in exact rational arithmetic, a hidden count is recoverable exactly
when its vector lies in the span of the shown ones. The check assumes the reader knows
each shown count exactly (rounding ignored) and that a shown percentage gives its
favourable count exactly: stronger than any real reader.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from panel.dashboards.queries import Filters
from panel.linear import Span
from panel.models import FigureRelease, ReleasedGroup
from panel.published import Published, ReleaseLabels, published
from panel.release import Combination, Structure, counts_of, latest_release, structure_of
from panel.rules import shown_count, shown_percent
from participation.councils.models import AgeBand

Vector = dict[Any, int]


@dataclass
class Finding:
    """A hidden count that the shown figures give away (or a figure shown inconsistently)."""

    what: str
    value: int | None = None


@dataclass
class AuditReport:
    release_id: int | None
    combinations: int = 0
    figures_shown: int = 0
    distinct_shown: int = 0
    hidden_checked: int = 0
    rank: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def format(self) -> str:
        lines = [
            f"release {self.release_id}: {self.combinations} filter combinations, "
            f"{self.figures_shown} figures shown ({self.distinct_shown} distinct sums, "
            f"rank {self.rank}), {self.hidden_checked} hidden counts checked",
        ]
        if self.ok:
            lines.append("no hidden count can be worked out from the shown figures")
        else:
            lines.append(f"{len(self.findings)} problem(s):")
            lines += [
                f"  {f.what}" + (f" = {f.value}" if f.value is not None else "")
                for f in self.findings
            ]
        return "\n".join(lines)


def filters_of(c: Combination) -> Filters:
    return Filters(
        year=c.year,
        round_id=c.round_id,
        age_band=AgeBand(c.age_band) if c.age_band else None,
        group_id=c.group_id,
    )


def _parse_key(filter_key: str) -> Combination:
    parts = dict((p[0], p[1:]) for p in filter_key.split("."))

    def number(v: str) -> int | None:
        return None if v == "-" else int(v)

    return Combination(
        year=number(parts["y"]),
        round_id=number(parts["r"]),
        age_band=None if parts["b"] == "-" else parts["b"],
        group_id=number(parts["g"]),
    )


class _Collector:
    """Shown figures as vectors, with the values shown, checked for consistency."""

    def __init__(self, structure: Structure, counts: dict[tuple[int, int, str], tuple[int, int]]):
        self.structure = structure
        self.counts = counts
        self.shown: dict[frozenset[tuple[Hashable, int]], tuple[str, int]] = {}
        self.figures = 0
        self.findings: list[Finding] = []
        self.seen: dict[str, tuple[Any, ...]] = {}

    def _cells(self, item_kind: str, item: str, c: Combination) -> list[tuple[int, int, str]]:
        keys = [item] if item_kind == "question" else self.structure.recommendations.get(item, [])
        return [(r, g, k) for k in keys for r, g in self.structure.support(c, k)]

    def _add(self, vector: Vector, what: str, true: int) -> None:
        self.figures += 1
        if vector:
            self.shown.setdefault(frozenset(vector.items()), (what, true))

    def indicator(self, key: str, base: int | None, share: int | None) -> None:
        """A question or evidence row shown under some filters (key: kind:item@filters)."""
        kind_item, filter_key = key.split("@")
        kind, item = kind_item.split(":", 1)
        again = self.seen.setdefault(key, (base, share))
        if again != (base, share):
            self.findings.append(Finding(f"{key} shown as {again} and as {(base, share)}"))
        cells = self._cells(kind, item, _parse_key(filter_key))
        answered = sum(self.counts.get(cell, (0, 0))[0] for cell in cells)
        favourable = sum(self.counts.get(cell, (0, 0))[1] for cell in cells)
        if base is not None:
            if base != shown_count(answered):
                self.findings.append(Finding(f"{key}: base {base} is not the rounded count"))
            vector: Vector = {}
            for r, g, k in cells:
                vector[("a", r, g, k)] = 1
                vector[("b", r, g, k)] = 1
            self._add(vector, f"{key} base", answered)
        if share is not None:
            if base is None:
                self.findings.append(Finding(f"{key}: a share shown without its base"))
            if share != shown_percent(favourable, answered):
                self.findings.append(Finding(f"{key}: share {share} is not the rounded share"))
            self._add({("a", r, g, k): 1 for r, g, k in cells}, f"{key} favourable", favourable)

    def plain(self, vector: Vector, what: str, true: int, value: int | None) -> None:
        if value is None:
            return
        if value != shown_count(true):
            self.findings.append(Finding(f"{what}: {value} is not the rounded count"))
        self._add(vector, what, true)


def _hidden_vectors(
    structure: Structure,
    counts: dict[tuple[int, int, str], tuple[int, int]],
    threshold: int,
) -> list[tuple[str, Vector, int]]:
    """Every count that must stay hidden: what it is, its vector, its true value."""
    out: list[tuple[str, Vector, int]] = []
    seen: set[frozenset[tuple[Hashable, int]]] = set()

    def add(what: str, vector: Vector, value: int) -> None:
        key = frozenset(vector.items())
        if vector and key not in seen:
            seen.add(key)
            out.append((what, vector, value))

    for c in structure.combinations():
        items = [("question", k, [k]) for k in structure.question_keys()]
        items += [
            ("recommendation", code, keys) for code, keys in structure.recommendations.items()
        ]
        for kind, item, keys in items:
            cells = [(r, g, k) for k in keys for r, g in structure.support(c, k)]
            if not cells:
                continue
            answered = sum(counts.get(cell, (0, 0))[0] for cell in cells)
            favourable = sum(counts.get(cell, (0, 0))[1] for cell in cells)
            label = f"{kind}:{item}@{c.key}"
            if answered < threshold:
                vector: Vector = {}
                for r, g, k in cells:
                    vector[("a", r, g, k)] = 1
                    vector[("b", r, g, k)] = 1
                add(f"{label} answered", vector, answered)
            if answered > 0 and favourable < threshold:
                add(f"{label} favourable", {("a", *cell): 1 for cell in cells}, favourable)
            if answered > 0 and answered - favourable < threshold:
                add(
                    f"{label} not favourable",
                    {("b", *cell): 1 for cell in cells},
                    answered - favourable,
                )
    return out


def audit(
    session: Session, council_id: int, release: FigureRelease | None = None, *, splits: bool = True
) -> AuditReport:
    """Collect every shown figure of the release and check every hidden count against them."""
    from sqlalchemy import select

    release = release or latest_release(session, council_id)
    report = AuditReport(release_id=release.id if release else None)
    if release is None:
        return report
    structure = structure_of(session, release)
    counts = counts_of(session, release.id)
    threshold = release.threshold
    collector = _Collector(structure, counts)
    combos = structure.combinations()
    report.combinations = len(combos)
    groups = {
        (g.round_id, g.group_id): g
        for g in session.scalars(
            select(ReleasedGroup).where(ReleasedGroup.release_id == release.id)
        )
    }
    fixed = release.fixed or {}
    pages: list[Published] = []
    labels = ReleaseLabels.read(session, council_id, release)
    questions = tuple(structure.question_keys())
    for c in [Combination(), *combos]:
        figures = published(
            session,
            council_id,
            filters_of(c),
            release=release,
            labels=labels,
            splits_for=questions if splits else None,
        )
        pages.append(figures)
        for row in figures.indicators:
            collector.indicator(row.key, row.base, row.share)
        for ev in figures.evidence:
            collector.indicator(ev.key, ev.base, ev.share)
        for rate in figures.response_rates:
            g = groups[(rate.round_id, rate.group_id)]
            if rate.rate is not None and (rate.sent is None or rate.expected is None):
                collector.findings.append(Finding(f"{rate.key}: a rate shown without its parts"))
            collector.plain(
                {("sent", g.round_id, g.group_id): 1}, f"{rate.key} sent", g.sent, rate.sent
            )
            if g.expected is not None:
                collector.plain(
                    {("expected", g.round_id, g.group_id): 1},
                    f"{rate.key} group size",
                    g.expected,
                    rate.expected,
                )
        for by_question in figures.splits_by_question.values():
            for rows in by_question.values():
                for part in rows:
                    collector.indicator(part.key, part.base, part.share)
    hidden = _hidden_vectors(structure, counts, threshold)
    hidden += _hidden_rates(groups, threshold)
    hidden += _card_vectors(fixed, threshold, collector, pages)
    span = Span(exact=True)
    for vector_items in collector.shown:
        span.add(span.vector(dict(vector_items)))
    report.figures_shown = collector.figures
    report.distinct_shown = len(collector.shown)
    report.rank = span.rank()
    report.hidden_checked = len(hidden)
    report.findings = list(collector.findings)
    for what, vector, value in hidden:
        if span.contains(span.vector(vector)):
            report.findings.append(Finding(f"hidden {what} can be worked out", value))
    return report


def _hidden_rates(
    groups: dict[tuple[int, int], ReleasedGroup], threshold: int
) -> list[tuple[str, Vector, int]]:
    out: list[tuple[str, Vector, int]] = []
    for (r, g), row in groups.items():
        sent = {("sent", r, g): 1}
        if row.sent < threshold:
            out.append((f"rate:r{r}.g{g} sent", sent, row.sent))
        if row.expected is not None and 0 <= row.expected - row.sent < threshold:
            out.append(
                (
                    f"rate:r{r}.g{g} not sent",
                    {("expected", r, g): 1, ("sent", r, g): -1},
                    row.expected - row.sent,
                )
            )
    return out


def _card_vectors(
    fixed: dict[str, Any], threshold: int, collector: _Collector, pages: list[Published]
) -> list[tuple[str, Vector, int]]:
    """Card figures: shown stages and per-recommendation counts into the collector, and the
    hidden ones (small stages, small differences of stages) out."""
    cards = fixed.get("cards", {})
    true = cards.get("true", {})
    if not true:
        return []
    atoms = {
        "not_sent": true["raised"] - true["sent"],
        "overdue": true["overdue"],
        "waiting": true["sent"] - true["answered"] - true["overdue"],
        "answered_only": true["answered"] - true["changed"],
        "changed": true["changed"],
    }
    parts = {
        "raised": list(atoms),
        "sent": ["overdue", "waiting", "answered_only", "changed"],
        "answered": ["answered_only", "changed"],
        "changed": ["changed"],
        "overdue": ["overdue"],
    }
    for page in pages:
        for stage in page.stages:
            vector: Vector = {("card", a): 1 for a in parts[stage.stage]}
            collector.plain(vector, stage.key, true[stage.stage], stage.count)
        collector.plain({("card", "overdue"): 1}, "cards:overdue", true["overdue"], page.overdue)
        for ev in page.evidence:
            extra = fixed.get("evidence", {}).get(ev.code, {})
            made = extra.get("cards_true", {})
            rec_parts = {
                "cards_raised": ["open", "answered_only", "changed"],
                "cards_answered": ["answered_only", "changed"],
                "cards_changed": ["changed"],
            }
            for name, names in rec_parts.items():
                rec_vector: Vector = {("rec-card", ev.code, a): 1 for a in names}
                collector.plain(
                    rec_vector, f"{ev.code} {name}", made.get(name, 0), getattr(ev, name)
                )
            collector.plain(
                {("rec-tags", ev.code): 1},
                f"{ev.code} text tags",
                extra.get("text_tags_true", 0),
                ev.text_tags,
            )
    out: list[tuple[str, Vector, int]] = []
    for name, value in atoms.items():
        if 0 < value < threshold:
            out.append((f"cards {name}", {("card", name): 1}, value))
    for name, names in parts.items():
        if true[name] < threshold:
            out.append((f"cards {name}", {("card", a): 1 for a in names}, true[name]))
    for code, extra in fixed.get("evidence", {}).items():
        made = extra.get("cards_true", {})
        if not made:
            continue
        rec_atoms = {
            "open": made["cards_raised"] - made["cards_answered"],
            "answered_only": made["cards_answered"] - made["cards_changed"],
            "changed": made["cards_changed"],
        }
        for name, value in rec_atoms.items():
            if 0 < value < threshold:
                out.append((f"{code} cards {name}", {("rec-card", code, name): 1}, value))
        if 0 < extra.get("text_tags_true", 0) < threshold:
            out.append((f"{code} text tags", {("rec-tags", code): 1}, extra["text_tags_true"]))
    return out

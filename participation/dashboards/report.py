"""What may be shown of the aggregates: every page, pack, export and API answer reads here.

``queries`` counts in SQL; this module applies the small-number rules of ``disclosure``
once, so the dashboards, the printable pack, the CSV/XLSX files and the JSON API cannot
disagree about what is hidden. A hidden value is ``None`` (shown as "*").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy.orm import Session

from participation.councils.models import AgeBand
from participation.dashboards import queries
from participation.dashboards.disclosure import share, suppress_series, suppress_small_counts

SPLITS = ("year", "age_band", "group")


def indicator_cell(favourable: int, answered: int, threshold: int) -> dict[str, Any]:
    """What may be shown of one indicator: its base and its favourable share.

    The share is hidden unless both the favourable and the other answers reach the
    threshold: with a base shown, a share would otherwise give away a small count.
    """
    shown = suppress_series(
        {"favourable": favourable, "other": answered - favourable}, threshold, total_shown=True
    )
    base = answered if answered >= threshold else None
    hidden = shown["favourable"] is None or shown["other"] is None
    return {"base": base, "share": None if hidden else share(favourable, answered, threshold)}


def split_cells(rows: list[dict[str, Any]], threshold: int) -> dict[Any, dict[str, Any]]:
    """What may be shown of each part of a split figure: its base and share.

    The parts are rows of a table (favourable, other) whose margins are the unsplit
    figure, which other pages show as ``indicator_cell`` decides; the table is
    suppressed with those margins fixed, so no part can be worked out from the whole.
    """
    if not rows:
        return {}
    keys = [str(r["key"]) for r in rows]
    counts = {}
    for r, key in zip(rows, keys, strict=True):
        favourable, answered = int(r["favourable"]), int(r["answered"])
        counts[(key, "favourable")] = favourable
        counts[(key, "other")] = answered - favourable
    table = suppress_small_counts(
        counts, keys, ("favourable", "other"), threshold, fixed_margins=True
    )
    cells = {}
    for i, r in enumerate(rows):
        shown = all(value is not None for value in table.cells[i])
        cells[r["key"]] = {
            "base": table.row_totals[i],
            "share": share(int(r["favourable"]), int(r["answered"]), threshold) if shown else None,
        }
    return cells


# A filter's dimension and the split over it: a filtered figure is one part of that split.
_FILTER_SPLITS = {"year": "year", "round_id": "round", "age_band": "age_band", "group_id": "group"}
_BY_ATTRIBUTE = {by: attribute for attribute, by in _FILTER_SPLITS.items()}

# Results of the grouped queries for one page, keyed by their arguments.
Memo = dict[tuple[Any, ...], Any]


def _split(
    session: Session,
    council_id: int,
    filters: queries.Filters,
    by: str,
    item: str,
    threshold: int,
    memo: Memo,
) -> dict[Any, dict[Any, dict[str, Any]]]:
    """item -> part key -> what may be shown of that part, for the split over ``by``."""
    key = (filters, by, item)
    if key not in memo:
        by_item: dict[Any, list[dict[str, Any]]] = {}
        for row in queries.split_counts(session, council_id, filters, by, item):
            by_item.setdefault(row["item"], []).append(row)
        memo[key] = {k: split_cells(rows, threshold) for k, rows in by_item.items()}
    return memo[key]


def _filter_verdicts(
    session: Session,
    council_id: int,
    filters: queries.Filters,
    threshold: int,
    item: str,
    memo: Memo | None = None,
) -> dict[Any, dict[str, bool]]:
    """For figures under filters: whether each item's base and share may be shown.

    A figure for group A in 2026 is a part of several splits: by group among 2026's
    figures, by year among group A's, and by group or by year of everything. It is shown
    only where every such split shows it (each filter set, split against each subset of
    the others), so that no figure can be set against another to work out a hidden one:
    the overview for all groups minus group A; or two filters that pick the same answers
    (a year and its only round), each of whose splits is then trivial.
    """
    memo = {} if memo is None else memo
    chosen = [
        (attribute, by) for attribute, by in _FILTER_SPLITS.items() if getattr(filters, attribute)
    ]
    everything = queries.Filters()
    verdicts: dict[Any, dict[str, bool]] = {}
    for size in range(1, len(chosen) + 1):
        for subset in combinations(chosen, size):
            kept = {attribute: getattr(filters, attribute) for attribute, _by in subset}
            for attribute, by in subset:
                value = kept[attribute]
                target = value.value if hasattr(value, "value") else value
                rest = replace(everything, **{k: v for k, v in kept.items() if k != attribute})
                for item_key, parts in _split(
                    session, council_id, rest, by, item, threshold, memo
                ).items():
                    part = parts.get(target, {"base": None, "share": None})
                    verdict = verdicts.setdefault(item_key, {"base": True, "share": True})
                    verdict["base"] &= part["base"] is not None
                    verdict["share"] &= part["share"] is not None
    # Two filters make the figure a cell of their cross-table (year by group, say), whose
    # margins the splits above show. Protecting cells against shown margins needs the
    # whole table: here the simple, safe rule is that no cell of that table is shown
    # while any of its cells is small.
    for (first, by1), (second, by2) in combinations(chosen, 2):
        others = {
            attribute: getattr(filters, attribute)
            for attribute, _by in chosen
            if attribute not in (first, second)
        }
        for kept in ({}, others) if others else ({},):
            rest = replace(everything, **kept)
            for item_key, small in _cross_table_small(
                session, council_id, rest, by1, by2, item, threshold, memo
            ).items():
                verdict = verdicts.setdefault(item_key, {"base": True, "share": True})
                verdict["base"] &= not small["base"]
                verdict["share"] &= not small["share"]
    return verdicts


def _cross_table_small(
    session: Session,
    council_id: int,
    filters: queries.Filters,
    by1: str,
    by2: str,
    item: str,
    threshold: int,
    memo: Memo,
) -> dict[Any, dict[str, bool]]:
    """Per item: whether any cell of the ``by1`` x ``by2`` table is small (base, share)."""
    key = (filters, by1, by2, item, "cross")
    if key not in memo:
        found: dict[Any, dict[str, bool]] = {}
        for row in queries.split_counts(session, council_id, filters, by1, item, also=by2):
            answered, favourable = int(row["answered"]), int(row["favourable"])
            small = found.setdefault(row["item"], {"base": False, "share": False})
            small["base"] |= 0 < answered < threshold
            small["share"] |= answered > 0 and min(favourable, answered - favourable) < threshold
        memo[key] = found
    result: dict[Any, dict[str, bool]] = memo[key]
    return result


def _apply_verdict(cell: dict[str, Any], verdict: dict[str, bool] | None) -> dict[str, Any]:
    if verdict is None:
        return cell
    return {
        **cell,
        "base": cell["base"] if verdict["base"] else None,
        "share": cell["share"] if verdict["share"] else None,
    }


def count(value: int, threshold: int) -> int | None:
    """A lone count: shown if it reaches the threshold, else hidden."""
    return value if value >= threshold else None


def indicator_rows(
    session: Session, council_id: int, filters: queries.Filters, threshold: int
) -> list[dict[str, Any]]:
    """Per question: its text, answers (base) and favourable share."""
    texts = queries.question_texts(session, council_id)
    verdicts = _filter_verdicts(session, council_id, filters, threshold, "question")
    rows = []
    for row in queries.indicator_totals(session, council_id, filters):
        key = row["question_key"]
        cell = indicator_cell(int(row["favourable"]), int(row["answered"]), threshold)
        rows.append(
            {"key": key, "text": texts.get(key, key), **_apply_verdict(cell, verdicts.get(key))}
        )
    return rows


def indicator_splits(
    session: Session, council_id: int, filters: queries.Filters, key: str, threshold: int
) -> dict[str, list[dict[str, Any]]]:
    """One indicator by year, by age band and by group.

    Each part is the figure for the filters plus that part (group A, say), and is shown
    only as that figure would be (``_filter_verdicts``), within a split suppressed
    against the whole.
    """
    memo: Memo = {}
    names = dict(queries.group_names(session, council_id))
    splits = {}
    for by in SPLITS:
        parts = _split(session, council_id, filters, by, "question", threshold, memo).get(key, {})
        rows = []
        for part_key, cell in parts.items():
            with_part = replace(filters, **{_BY_ATTRIBUTE[by]: _filter_value(by, part_key)})
            verdict = _filter_verdicts(
                session, council_id, with_part, threshold, "question", memo
            ).get(key)
            label = names.get(part_key, part_key) if by == "group" else part_key
            rows.append({"key": label, **_apply_verdict(cell, verdict)})
        splits[by] = sorted(rows, key=lambda r: str(r["key"]))
    return splits


def _filter_value(by: str, part_key: Any) -> Any:
    return AgeBand(part_key) if by == "age_band" else part_key


def evidence_rows(
    session: Session, council_id: int, filters: queries.Filters, threshold: int
) -> list[dict[str, Any]]:
    """A row per recommendation: survey indicators, confirmed free-text tags, cards."""
    verdicts = _filter_verdicts(session, council_id, filters, threshold, "recommendation")
    rows = []
    for row in queries.evidence_matrix(session, council_id, filters):
        cell = indicator_cell(row["favourable"], row["answered"], threshold)
        rows.append(
            {
                "code": row["code"],
                "title": row["title"],
                **_apply_verdict(cell, verdicts.get(row["recommendation_id"])),
                "text_tags": count(row["text_tags"], threshold),
                "cards_raised": count(row["cards_raised"], threshold),
                "cards_answered": count(row["cards_answered"], threshold),
                "cards_changed": count(row["cards_changed"], threshold),
            }
        )
    return rows


def response_rate_rows(
    session: Session, council_id: int, filters: queries.Filters, threshold: int
) -> list[dict[str, Any]]:
    """Per round and group: responses sent against the group size a worker recorded."""
    rows = []
    for row in queries.response_rates(session, council_id, filters):
        sent, expected = int(row["sent"]), row["expected"]
        rate = None
        if expected is not None and expected >= sent:
            # Those who did not answer are a count too: both sides must be large enough.
            sides = suppress_series({"sent": sent, "not": expected - sent}, threshold)
            if sides["sent"] is not None and sides["not"] is not None:
                rate = share(sent, expected, threshold)
        rows.append(
            {
                "round": row["round"],
                "group": row["group"],
                "sent": count(sent, threshold),
                "expected": count(expected, threshold) if expected is not None else None,
                "known": expected is not None,
                "rate": rate,
            }
        )
    return rows


def card_summary(
    session: Session, council_id: int, now: datetime, threshold: int
) -> dict[str, Any]:
    """The challenge card funnel, the median days to an answer, and overdue cards."""
    funnel = queries.card_funnel(session, council_id, now)
    return {
        "stages": [(label, count(value, threshold)) for label, value in funnel["stages"]],
        "median_days": funnel["median_days"] if funnel["answered_count"] >= threshold else None,
        "overdue": count(funnel["overdue"], threshold),
    }


@dataclass
class Pack:
    """Everything a panel meeting's pack shows, already suppressed."""

    council_name: str
    filters: queries.Filters
    threshold: int
    made_at: datetime
    indicators: list[dict[str, Any]] = field(default_factory=list)
    cards: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    response_rates: list[dict[str, Any]] = field(default_factory=list)
    highlights: list[dict[str, str | None]] = field(default_factory=list)


def build_pack(
    session: Session,
    council_id: int,
    council_name: str,
    filters: queries.Filters,
    threshold: int,
    now: datetime,
) -> Pack:
    return Pack(
        council_name=council_name,
        filters=filters,
        threshold=threshold,
        made_at=now,
        indicators=indicator_rows(session, council_id, filters, threshold),
        cards=card_summary(session, council_id, now, threshold),
        evidence=evidence_rows(session, council_id, filters, threshold),
        response_rates=response_rate_rows(session, council_id, filters, threshold),
        highlights=[
            {
                "asked": card.public_text,
                "answer": card.answer_text,
                "changed": card.what_changed,
            }
            for card in queries.highlights(session, council_id)
        ],
    )

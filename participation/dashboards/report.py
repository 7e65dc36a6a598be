"""What may be shown of the aggregates: every page, pack, export and API answer reads here.

``queries`` counts in SQL; this module applies the small-number rules of ``disclosure``
once, so the dashboards, the printable pack, the CSV/XLSX files and the JSON API cannot
disagree about what is hidden. A hidden value is ``None`` (shown as "*").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from participation.dashboards import queries
from participation.dashboards.disclosure import share, suppress_series

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


def count(value: int, threshold: int) -> int | None:
    """A lone count: shown if it reaches the threshold, else hidden."""
    return value if value >= threshold else None


def indicator_rows(
    session: Session, council_id: int, filters: queries.Filters, threshold: int
) -> list[dict[str, Any]]:
    """Per question: its text, answers (base) and favourable share."""
    texts = queries.question_texts(session, council_id)
    rows = []
    for row in queries.indicator_totals(session, council_id, filters):
        key = row["question_key"]
        rows.append(
            {
                "key": key,
                "text": texts.get(key, key),
                **indicator_cell(int(row["favourable"]), int(row["answered"]), threshold),
            }
        )
    return rows


def indicator_splits(
    session: Session, council_id: int, filters: queries.Filters, key: str, threshold: int
) -> dict[str, list[dict[str, Any]]]:
    """One indicator by year, by age band and by group."""
    return {
        by: [
            {
                "key": row["key"],
                **indicator_cell(int(row["favourable"]), int(row["answered"]), threshold),
            }
            for row in queries.indicator_by(session, council_id, filters, key, by)
        ]
        for by in SPLITS
    }


def evidence_rows(
    session: Session, council_id: int, filters: queries.Filters, threshold: int
) -> list[dict[str, Any]]:
    """A row per recommendation: survey indicators, confirmed free-text tags, cards."""
    rows = []
    for row in queries.evidence_matrix(session, council_id, filters):
        rows.append(
            {
                "code": row["code"],
                "title": row["title"],
                **indicator_cell(row["favourable"], row["answered"], threshold),
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

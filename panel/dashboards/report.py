"""The panel pack: what a meeting's printed pack, and its files, show.

Every figure here comes from ``panel.published.published``, the one function the pages
and the API read too, so a pack, a page and an API answer for the same filters cannot
disagree: they show the same rows of the same release, rounded by the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from panel.dashboards.queries import Filters
from panel.published import EvidenceRow, IndicatorRow, Published, RateRow, published


@dataclass
class Pack:
    """Everything a panel meeting's pack shows, already decided and rounded."""

    council_name: str
    filters: Filters
    threshold: int
    made_at: datetime
    released_at: datetime | None = None
    indicators: list[IndicatorRow] = field(default_factory=list)
    cards: dict[str, Any] = field(default_factory=dict)
    evidence: list[EvidenceRow] = field(default_factory=list)
    response_rates: list[RateRow] = field(default_factory=list)
    highlights: list[dict[str, Any]] = field(default_factory=list)


def card_summary(figures: Published) -> dict[str, Any]:
    """The card funnel as (label, count) pairs, the median days and overdue cards."""
    return {
        "stages": [(s.label, s.count) for s in figures.stages],
        "median_days": figures.median_days,
        "overdue": figures.overdue,
    }


def build_pack(
    session: Session,
    council_id: int,
    council_name: str,
    filters: Filters,
    threshold: int,
    now: datetime,
) -> Pack:
    from panel.published import highlights

    figures = published(session, council_id, filters)
    return Pack(
        council_name=council_name,
        filters=filters,
        threshold=threshold,
        made_at=now,
        released_at=figures.released_at,
        indicators=figures.indicators,
        cards=card_summary(figures),
        evidence=figures.evidence,
        response_rates=figures.response_rates,
        highlights=highlights(session, council_id),
    )

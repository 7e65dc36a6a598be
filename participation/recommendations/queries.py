"""Reads of the recommendation catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.recommendations.models import Recommendation


def active_recommendations(session: Session) -> list[Recommendation]:
    return list(
        session.scalars(
            select(Recommendation)
            .where(Recommendation.active.is_(True))
            .order_by(Recommendation.sort_order, Recommendation.code)
        )
    )


def recommendation_by_code(session: Session, code: str) -> Recommendation | None:
    return session.scalar(select(Recommendation).where(Recommendation.code == code))

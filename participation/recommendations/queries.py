"""Reads of the recommendation catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.recommendations.models import EvidenceTag, Recommendation, TagStatus
from participation.subjects import SubjectType


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


PAGE_SIZE = 25


def answers_to_review(
    session: Session, council_id: int, *, pending_only: bool, page: int
) -> tuple[list[Any], bool]:
    """Children's free-text survey answers in the council, newest first, with their round
    and group; with ``pending_only``, those with a suggested tag still to decide.
    Returns one page and whether there is another."""
    from participation.councils.models import Group
    from surveys.models import Answer, Response, SurveyRound

    query = (
        select(Answer, SurveyRound.name.label("round_name"), Group.name.label("group_name"))
        .join(Response, Response.id == Answer.response_id)
        .join(SurveyRound, SurveyRound.id == Response.round_id)
        .join(Group, Group.id == Response.group_id)
        .where(Answer.council_id == council_id, Answer.text.is_not(None))
    )
    if pending_only:
        pending = (
            select(EvidenceTag.id)
            .where(
                EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
                EvidenceTag.subject_id == Answer.id,
                EvidenceTag.status == TagStatus.PENDING,
            )
            .exists()
        )
        query = query.where(pending)
    rows = session.execute(
        query.order_by(Answer.updated_at.desc(), Answer.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


def answer_for_staff(session: Session, answer_id: int, council_id: int) -> Any:
    from surveys.models import Answer

    return session.scalar(
        select(Answer).where(
            Answer.id == answer_id, Answer.council_id == council_id, Answer.text.is_not(None)
        )
    )

"""What other packages may read of the challenge cards: public stages and public words.

The reporting layer (``panel``) reads cards only through these functions. A private
card ("this is about me") is a personal matter a worker follows up: it is no public
card, so it is left out of every count here, not only out of the published words.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from challenge_cards.models import CardStatus, ChallengeCard
from challenge_cards.queries import held_for_safeguarding
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.subjects import SubjectType

# Stages a public card passes through, each within the one before.
NOT_SENT = (CardStatus.NEW, CardStatus.RETURNED, CardStatus.DECLINED, CardStatus.MERGED)
ANSWERED = (CardStatus.RESPONDED, CardStatus.CLOSED)


def _public() -> Any:
    return and_(ChallengeCard.status != CardStatus.PRIVATE, ChallengeCard.about_me.is_(False))


@dataclass(frozen=True)
class CardStages:
    """Public cards by how far they got: raised, sent to a service, answered, changed."""

    raised: int
    sent: int
    answered: int
    changed: int
    median_days_to_answer: float | None
    answered_with_dates: int
    overdue: int


def card_stages(session: Session, council_id: int, now: datetime) -> CardStages:
    """Public cards by stage, the median days from sending to an answer, overdue cards."""
    by_status = {
        status: int(n)
        for status, n in session.execute(
            select(ChallengeCard.status, func.count())
            .where(ChallengeCard.council_id == council_id, _public())
            .group_by(ChallengeCard.status)
        )
    }
    spans = session.execute(
        select(ChallengeCard.sent_at, ChallengeCard.answered_at).where(
            ChallengeCard.council_id == council_id,
            _public(),
            ChallengeCard.sent_at.is_not(None),
            ChallengeCard.answered_at.is_not(None),
        )
    ).all()
    days = [(answered - sent).total_seconds() / 86400 for sent, answered in spans]
    overdue = session.scalar(
        select(func.count())
        .select_from(ChallengeCard)
        .where(
            ChallengeCard.council_id == council_id,
            _public(),
            ChallengeCard.status == CardStatus.SENT,
            ChallengeCard.due_at < now,
        )
    )
    raised = sum(by_status.values())
    return CardStages(
        raised=raised,
        sent=raised - sum(by_status.get(s, 0) for s in NOT_SENT),
        answered=sum(by_status.get(s, 0) for s in ANSWERED),
        changed=by_status.get(CardStatus.CLOSED, 0),
        median_days_to_answer=round(statistics.median(days), 1) if days else None,
        answered_with_dates=len(days),
        overdue=int(overdue or 0),
    )


def cards_by_recommendation(session: Session, council_id: int) -> dict[int, dict[str, int]]:
    """Recommendation id -> public cards with a confirmed tag: raised, answered, changed."""
    rows = session.execute(
        select(
            EvidenceTag.recommendation_id,
            func.count().label("raised"),
            func.sum(case((ChallengeCard.status.in_(ANSWERED), 1), else_=0)).label("answered"),
            func.sum(case((ChallengeCard.status == CardStatus.CLOSED, 1), else_=0)).label(
                "changed"
            ),
        )
        .join(
            ChallengeCard,
            and_(
                EvidenceTag.subject_type == SubjectType.CHALLENGE_CARD,
                EvidenceTag.subject_id == ChallengeCard.id,
            ),
        )
        .where(
            EvidenceTag.council_id == council_id,
            EvidenceTag.status == TagStatus.CONFIRMED,
            _public(),
        )
        .group_by(EvidenceTag.recommendation_id)
    )
    return {
        r.recommendation_id: {
            "raised": int(r.raised),
            "answered": int(r.answered or 0),
            "changed": int(r.changed or 0),
        }
        for r in rows
    }


def you_said_we_did(session: Session, council_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """Recent published cards, moderated public words only: the first of the children's own
    board (``queries.board``, the same conditions), read in SQL with a limit."""
    rows = session.execute(
        select(ChallengeCard.public_text, ChallengeCard.answer_text, ChallengeCard.what_changed)
        .where(*board_conditions(council_id))
        .order_by(ChallengeCard.answer_published_at.desc())
        .limit(limit)
    )
    return [
        {"asked": asked, "answer": answer, "changed": changed} for asked, answer, changed in rows
    ]


def board_conditions(council_id: int) -> list[Any]:
    """What makes a card part of "you said, we did" (as ``queries.board`` reads it)."""
    return [
        ChallengeCard.council_id == council_id,
        ChallengeCard.about_me.is_(False),
        ChallengeCard.public_text.is_not(None),
        ChallengeCard.status.in_([CardStatus.RESPONDED, CardStatus.CLOSED]),
        ~held_for_safeguarding(),
    ]

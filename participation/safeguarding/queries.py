"""Reads for the safeguarding lead, always scoped to the lead's council."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from participation.accounts.models import StaffUser
from participation.safeguarding.models import AlertLevel, AlertStatus, SafeguardingAlert
from participation.subjects import SubjectType


def alert_queue(
    session: Session, user: StaffUser, *, include_closed: bool = False, limit: int = 200
) -> list[SafeguardingAlert]:
    """Open alerts, urgent first, then soonest deadline (overdue ones are the soonest)."""
    query = select(SafeguardingAlert).where(SafeguardingAlert.council_id == user.council_id)
    if not include_closed:
        query = query.where(SafeguardingAlert.status != AlertStatus.CLOSED)
    urgent_first = case((SafeguardingAlert.level == AlertLevel.URGENT, 0), else_=1)
    acted_last = case((SafeguardingAlert.first_action_at.is_(None), 0), else_=1)
    query = query.order_by(
        acted_last, urgent_first, SafeguardingAlert.due_at, SafeguardingAlert.id
    ).limit(limit)
    return list(session.scalars(query))


def alert_for_lead(session: Session, alert_id: int, user: StaffUser) -> SafeguardingAlert | None:
    """The alert if it is the lead's council's; otherwise None (a 404)."""
    return session.scalar(
        select(SafeguardingAlert).where(
            SafeguardingAlert.id == alert_id, SafeguardingAlert.council_id == user.council_id
        )
    )


def alert_for_child(
    session: Session, alert_id: int, participant_id: int
) -> SafeguardingAlert | None:
    """The alert raised from this child's own words, for the help page."""
    return session.scalar(
        select(SafeguardingAlert).where(
            SafeguardingAlert.id == alert_id, SafeguardingAlert.participant_id == participant_id
        )
    )


def alerted_subjects_for_child(
    session: Session, participant_id: int
) -> frozenset[tuple[SubjectType, int]]:
    """Every card and answer of this child that raised an alert (their words stay folded)."""
    rows = session.execute(
        select(SafeguardingAlert.subject_type, SafeguardingAlert.subject_id).where(
            SafeguardingAlert.participant_id == participant_id
        )
    )
    return frozenset((subject_type, subject_id) for subject_type, subject_id in rows)


def overdue_count(session: Session, user: StaffUser, now: datetime) -> int:
    return sum(1 for alert in alert_queue(session, user) if alert.is_overdue(now))

"""Raising safeguarding alerts and working them. Services flush; views commit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from participation import audit, emails, outbox
from participation.accounts.models import StaffUser
from participation.councils.models import Council
from participation.db import utcnow
from participation.links import public_url
from participation.safeguarding.models import (
    ActionKind,
    AlertAction,
    AlertLevel,
    AlertSource,
    AlertStatus,
    SafeguardingAlert,
)
from participation.safeguarding.recipients import alert_recipients, lead_addresses
from participation.safeguarding.triage import Level, TriageResult, triage
from participation.subjects import SubjectType
from participation.workdays import add_working_days

URGENT_RESPONSE = timedelta(hours=1)
MAX_NOTE = 5000
MAX_CONTACT = 500


class AlertError(ValueError):
    """A change to an alert that cannot be made now; the message is safe to show."""


def due_for(level: AlertLevel, raised_at: datetime) -> datetime:
    """Urgent: within the hour, day or night. Concern: within one working day."""
    if level is AlertLevel.URGENT:
        return raised_at + URGENT_RESPONSE
    return add_working_days(raised_at, 1)


def store_alert(
    session: Session,
    *,
    council_id: int,
    subject_type: SubjectType,
    subject_id: int,
    source: AlertSource,
    text: str,
    level: AlertLevel,
    reasons: list[str],
    evidence: list[str],
    group_id: int | None = None,
    participant_id: int | None = None,
    now: datetime | None = None,
) -> SafeguardingAlert:
    """Store a new alert with its deadline and queue the leads' emails, in the caller's
    transaction: the alert is kept with what caused it, or neither is."""
    now = now or utcnow()
    alert = SafeguardingAlert(
        council_id=council_id,
        group_id=group_id,
        participant_id=participant_id,
        subject_type=subject_type,
        subject_id=subject_id,
        source=source,
        text=text,
        level=level,
        reasons=reasons,
        evidence=evidence,
        status=AlertStatus.NEW,
        created_at=now,
        due_at=due_for(level, now),
    )
    session.add(alert)
    session.flush()
    _notify_leads(session, alert)
    return alert


def raise_alert_if_needed(
    session: Session,
    *,
    council_id: int,
    subject_type: SubjectType,
    subject_id: int,
    text: str,
    group_id: int | None = None,
    participant_id: int | None = None,
    now: datetime | None = None,
    result: TriageResult | None = None,
) -> SafeguardingAlert | None:
    """Triage a child's text; if it may be a disclosure, store an alert and queue the emails.

    Call it inside the transaction that stores the text, so that both are kept or neither.
    ``result`` lets a caller triage before its write transaction begins, keeping it short.
    """
    if result is None:
        result = triage(text)
    if result.level is Level.NONE:
        return None
    return store_alert(
        session,
        council_id=council_id,
        group_id=group_id,
        participant_id=participant_id,
        subject_type=subject_type,
        subject_id=subject_id,
        source=AlertSource.FREE_TEXT,
        text=text,
        level=AlertLevel(result.level.value),
        reasons=list(result.reasons),
        evidence=list(result.evidence),
        now=now,
    )


def raise_risk_answer_alert(
    session: Session,
    *,
    council_id: int,
    answer_id: int,
    question_text: str,
    answer_label: str,
    reasons: list[str],
    level: AlertLevel = AlertLevel.CONCERN,
    text: str | None = None,
    group_id: int | None = None,
    participant_id: int | None = None,
    now: datetime | None = None,
) -> SafeguardingAlert:
    """A tapped survey answer marked as a risk: store an alert and queue the emails.

    The evidence is the question and the answer as the child saw them. Call it inside the
    transaction that stores the answer (or the child's yes to help), so both are kept or
    neither; the caller makes sure that one answer raises one alert.
    """
    return store_alert(
        session,
        council_id=council_id,
        group_id=group_id,
        participant_id=participant_id,
        subject_type=SubjectType.SURVEY_ANSWER,
        subject_id=answer_id,
        source=AlertSource.RISK_ANSWER,
        text=text or f"{question_text} {answer_label}",
        level=level,
        reasons=list(reasons),
        evidence=[question_text, answer_label],
        now=now,
    )


def escalate_risk_answer_alert(
    session: Session,
    alert: SafeguardingAlert,
    *,
    level: AlertLevel,
    question_text: str,
    answer_label: str,
    reason: str,
    now: datetime | None = None,
) -> None:
    """The child changed a risk answer to a more serious one (the same answer's alert).

    The open alert becomes urgent, with the sooner deadline and the new answer added to its
    evidence, and the leads are emailed again: an urgent alert must never wait on the
    deadline of a concern.
    """
    now = now or utcnow()
    alert.level = level
    alert.due_at = min(alert.due_at, due_for(level, now))
    alert.evidence = [*alert.evidence, question_text, answer_label]
    if reason not in alert.reasons:
        alert.reasons = [reason, *alert.reasons]
    session.flush()
    _notify_leads(session, alert, again=level.value)


def _notify_leads(session: Session, alert: SafeguardingAlert, again: str = "") -> None:
    """Email every lead of the council (or the fallback address), before any other email.

    The email never holds the child's words, nor what they left to be reached by.
    """
    leads = lead_addresses(session, alert.council_id)
    link = public_url("safeguarding.alert", alert_id=alert.id)
    for address in alert_recipients(session, alert.council_id):
        emails.send(
            session,
            "safeguarding_alert",
            to=address,
            council_id=alert.council_id,
            # "again": a raised level is news, so it is not folded into the first email.
            idempotency_key=f"alert-{alert.id}{'-' + again if again else ''}-{address}",
            priority=outbox.ALERT_PRIORITY,
            alert=alert,
            council_name=_council_name(session, alert.council_id),
            link=link,
            to_fallback=not leads,
        )


def _council_name(session: Session, council_id: int) -> str:
    council = session.get(Council, council_id)
    return council.name if council is not None else f"council {council_id}"


def acknowledge(session: Session, alert: SafeguardingAlert, by: StaffUser) -> None:
    """The lead has seen the alert and is dealing with it."""
    if alert.status is not AlertStatus.NEW:
        raise AlertError("This alert was already acknowledged.")
    # Read the person first: loading them must not flush a half-made change (the status
    # without its time breaks the table's CHECK).
    by_id = by.id
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by_id = by_id
    alert.status = AlertStatus.ACKNOWLEDGED
    session.flush()


def record_action(
    session: Session,
    alert: SafeguardingAlert,
    note: str,
    by: StaffUser,
    kind: ActionKind = ActionKind.NOTE,
) -> None:
    """Note something done; the first action meets the deadline. Acknowledges if needed."""
    note = note.strip()
    if not note:
        raise AlertError("Write what was done.")
    if alert.status is AlertStatus.CLOSED:
        raise AlertError("This alert is closed.")
    if alert.status is AlertStatus.NEW:
        acknowledge(session, alert, by)
    now = utcnow()
    alert.actions.append(
        AlertAction(
            council_id=alert.council_id,
            by_id=by.id,
            kind=kind,
            note=note[:MAX_NOTE],
            created_at=now,
        )
    )
    if alert.first_action_at is None:
        alert.first_action_at = now
    session.flush()


def close(session: Session, alert: SafeguardingAlert, outcome: str, by: StaffUser) -> None:
    """Close with an outcome; only after at least one action is recorded."""
    outcome = outcome.strip()
    if alert.status is AlertStatus.CLOSED:
        raise AlertError("This alert is already closed.")
    if not alert.actions:
        raise AlertError("Record what was done before closing the alert.")
    if not outcome:
        raise AlertError("Write the outcome.")
    alert.status = AlertStatus.CLOSED
    alert.outcome = outcome[:MAX_NOTE]
    alert.closed_by_id = by.id
    alert.closed_at = utcnow()
    session.flush()


def leave_contact(session: Session, alert: SafeguardingAlert, contact: str) -> None:
    """The child chose to say how they can be reached safely."""
    contact = contact.strip()
    if not contact:
        raise AlertError("empty")
    alert.contact_details = contact[:MAX_CONTACT]
    alert.contact_left_at = utcnow()
    session.flush()


def log_view(session: Session, alert: SafeguardingAlert, by: StaffUser) -> None:
    audit.free_text_viewed(session, by, "safeguarding_alert", alert.id)


def export_record(alert: SafeguardingAlert) -> dict[str, Any]:
    """An alert and what was done about it, as plain JSON values (for a retention export).

    Everything the lead needs to carry on: the child's words, the reasons, the deadlines,
    the contact the child left, and every action.
    """

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": alert.id,
        "council_id": alert.council_id,
        "group_id": alert.group_id,
        "participant_id": alert.participant_id,
        "subject_type": alert.subject_type.value,
        "subject_id": alert.subject_id,
        "level": alert.level.value,
        "status": alert.status.value,
        "reasons": list(alert.reasons),
        "evidence": list(alert.evidence),
        "text": alert.text,
        "created_at": when(alert.created_at),
        "due_at": when(alert.due_at),
        "acknowledged_by_id": alert.acknowledged_by_id,
        "acknowledged_at": when(alert.acknowledged_at),
        "first_action_at": when(alert.first_action_at),
        "contact_details": alert.contact_details,
        "contact_left_at": when(alert.contact_left_at),
        "actions": [
            {
                "id": action.id,
                "by_id": action.by_id,
                "note": action.note,
                "created_at": when(action.created_at),
            }
            for action in alert.actions
        ],
    }

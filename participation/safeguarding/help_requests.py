"""A child asks for someone to talk to them ("Get help now"). Services flush; views commit.

Help never depends on the right words: every request raises an urgent alert, whatever the
child wrote or did not write. Words are still triaged, so that the lead sees what they
suggest. A request is stored once per form (its ``submission_key``): a double tap, a resend
after Back, or two requests racing each other give one request, one alert, one email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from participation.councils.models import Participant
from participation.db import utcnow
from participation.safeguarding import services
from participation.safeguarding.forms import REACH_BY_PHONE, REACH_CHOICES
from participation.safeguarding.models import (
    AlertLevel,
    AlertSource,
    HelpRequest,
    SafeguardingAlert,
)
from participation.safeguarding.triage import Level, TriageResult, triage
from participation.subjects import SubjectType

# The first reason the lead reads: what the child did, before anything triage found.
ASKED_FOR_HELP = "asked_for_help"
MAX_WORDS = 4000


@dataclass(frozen=True)
class HelpAsked:
    """A stored request and its alert; ``created`` is False when it was already there."""

    request: HelpRequest
    alert: SafeguardingAlert
    created: bool


def assess_words(words: str | None) -> TriageResult | None:
    """Triage the optional words (before the write transaction, to keep it short)."""
    return triage(words) if words else None


def request_help(
    session: Session,
    participant: Participant,
    *,
    submission_key: str,
    words: str | None = None,
    reach_by: str | None = None,
    phone: str | None = None,
    result: TriageResult | None = None,
    now: datetime | None = None,
) -> HelpAsked:
    """Store the request and its urgent alert together, once per ``submission_key``.

    The insert runs in a savepoint: when another request with the same key got there first
    (a double tap landing on two processes), the unique key refuses this one and the
    request already stored is returned instead, with its alert.
    """
    existing = _existing(session, submission_key, participant)
    if existing is not None:
        return existing
    words = (words or "").strip()[:MAX_WORDS] or None
    if reach_by not in REACH_CHOICES:
        reach_by = None
    phone = ((phone or "").strip()[:40] or None) if reach_by == REACH_BY_PHONE else None
    if result is None:
        result = assess_words(words)
    now = now or utcnow()
    help_request = HelpRequest(
        council_id=participant.council_id,
        group_id=participant.group_id,
        participant_id=participant.id,
        words=words,
        reach_by=reach_by,
        phone=phone,
        submission_key=submission_key,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(help_request)
            session.flush()
    except IntegrityError:
        found = _existing(session, submission_key, participant)
        if found is None:  # the key is someone else's: refuse rather than merge
            raise
        return found
    alert = _raise_urgent_alert(session, help_request, result, now)
    return HelpAsked(help_request, alert, created=True)


def _raise_urgent_alert(
    session: Session, help_request: HelpRequest, result: TriageResult | None, now: datetime
) -> SafeguardingAlert:
    found_reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    if result is not None and result.level is not Level.NONE:
        found_reasons, evidence = result.reasons, result.evidence
    return services.store_alert(
        session,
        council_id=help_request.council_id,
        group_id=help_request.group_id,
        participant_id=help_request.participant_id,
        subject_type=SubjectType.HELP_REQUEST,
        subject_id=help_request.id,
        source=AlertSource.HELP_REQUEST,
        text=help_request.words or "",
        level=AlertLevel.URGENT,  # whatever the words say, or if there are none
        reasons=[ASKED_FOR_HELP, *(r for r in found_reasons if r != ASKED_FOR_HELP)],
        evidence=list(evidence),
        now=now,
    )


def _existing(session: Session, submission_key: str, participant: Participant) -> HelpAsked | None:
    help_request = session.scalar(
        select(HelpRequest).where(HelpRequest.submission_key == submission_key)
    )
    if help_request is None:
        return None
    if help_request.participant_id != participant.id:
        raise KeyClash(submission_key)
    alert = alert_for_help_request(session, help_request)
    assert alert is not None  # stored in the same transaction as the request
    return HelpAsked(help_request, alert, created=False)


class KeyClash(ValueError):
    """A submission key that belongs to another child's request (never merged into it)."""


def alert_for_help_request(session: Session, help_request: HelpRequest) -> SafeguardingAlert | None:
    return session.scalar(
        select(SafeguardingAlert).where(
            SafeguardingAlert.subject_type == SubjectType.HELP_REQUEST,
            SafeguardingAlert.subject_id == help_request.id,
        )
    )


def help_request_for_child(
    session: Session, request_id: int, participant: Participant
) -> HelpRequest | None:
    """The child's own request (for the "we have it" page); another child's is None."""
    return session.scalar(
        select(HelpRequest).where(
            HelpRequest.id == request_id, HelpRequest.participant_id == participant.id
        )
    )

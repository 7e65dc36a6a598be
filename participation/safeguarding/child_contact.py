"""What the lead needs to act: where an alert came from, how the child can be reached, the
group and its worker, the deadline in words, and what a feature knows of the subject (a card
and where it was sent). Also: recording "I spoke to the child".

The core imports no feature: a feature registers a describer for its subject type in
``app.extensions["alert_subjects"]`` (challenge cards do, for the card and its service).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.accounts.models import StaffUser
from participation.safeguarding import services
from participation.safeguarding.forms import REACH_AT_GROUP, REACH_BY_PHONE, REACH_THROUGH_WORKER
from participation.safeguarding.models import (
    ActionKind,
    AlertSource,
    AlertStatus,
    HelpRequest,
    SafeguardingAlert,
)
from participation.subjects import SubjectType


@dataclass(frozen=True)
class AlertSubject:
    """A feature's description of what raised the alert (for a card: the card)."""

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value), in order
    kind: str = ""


# (session, subject ids) -> {subject id: AlertSubject}
SubjectDescriber = Callable[[Session, list[int]], dict[int, AlertSubject]]


@dataclass(frozen=True)
class Reach:
    """Whether and how the child can be reached, in the lead's words.

    ``summary`` is for the queue, which shows none of what the child wrote (a contact note
    is the child's own words); ``how`` is the full detail, on the audited alert page.
    """

    reachable: bool
    summary: str
    how: str


@dataclass(frozen=True)
class AlertContext:
    where_from: str
    reach: Reach
    group: str | None
    worker: str | None
    deadline: str
    subject: AlertSubject | None = None
    help_request: HelpRequest | None = None


def where_from(alert: SafeguardingAlert) -> str:
    """Survey answer, card, help page or risk answer."""
    if alert.source is AlertSource.HELP_REQUEST:
        return _("Help page: the child asked for someone to talk to them")
    if alert.source is AlertSource.RISK_ANSWER:
        return _("Risk answer: an answer the child tapped in a survey")
    if alert.subject_type is SubjectType.CHALLENGE_CARD:
        return _("Challenge card: what the child wrote on a card")
    if alert.subject_type is SubjectType.SURVEY_ANSWER:
        return _("Survey answer: what the child wrote in a survey")
    return alert.source.label


def reach_for(
    alert: SafeguardingAlert, help_request: HelpRequest | None, worker: str | None
) -> Reach:
    """From the help request's choice, or the contact left on the help page; else not reachable."""
    if help_request is not None and help_request.reach_by == REACH_BY_PHONE and help_request.phone:
        return Reach(True, _("Yes: by phone"), _("By phone: %(phone)s", phone=help_request.phone))
    if help_request is not None and help_request.reach_by == REACH_AT_GROUP:
        return Reach(
            True,
            _("Yes: at their group"),
            _("At their group (the child is not named unless they wrote their name)"),
        )
    if help_request is not None and help_request.reach_by == REACH_THROUGH_WORKER:
        return Reach(
            True,
            _("Yes: through their worker"),
            _("Through their worker, %(worker)s", worker=worker)
            if worker
            else _("Through their worker (the group has no worker named)"),
        )
    if alert.contact_details:
        return Reach(
            True,
            _("Yes: the child left a contact"),
            _("Contact the child left: %(contact)s", contact=alert.contact_details),
        )
    if alert.group_id is not None:
        # The child was told "they will try to reach you through your group".
        return Reach(
            False,
            _("No contact left: only through their group"),
            _(
                "No contact left. The child was told someone would try to reach them through"
                " their group: ask the group's worker (the child is not named)."
            ),
        )
    return Reach(False, _("Not reachable: no contact left"), _("Not reachable: no contact left"))


def _span(delta: timedelta) -> str:
    minutes = max(1, int(delta.total_seconds() // 60))
    if minutes < 60:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    return ngettext("%(num)d day", "%(num)d days", hours // 24)


def deadline_words(alert: SafeguardingAlert, now: datetime) -> str:
    """ "due in 40 minutes", "overdue by 2 hours", or how the deadline was met."""
    if alert.first_action_at is not None:
        late = alert.first_action_at - alert.due_at
        if late > timedelta(0):
            return _("first action %(span)s late", span=_span(late))
        return _("first action in time")
    if alert.status is AlertStatus.CLOSED:
        return _("closed")
    if now > alert.due_at:
        return _("overdue by %(span)s", span=_span(now - alert.due_at))
    return _("due in %(span)s", span=_span(alert.due_at - now))


def contexts(
    session: Session, alerts: Iterable[SafeguardingAlert], now: datetime
) -> dict[int, AlertContext]:
    """Everything the queue shows beside each alert, in a few queries for the whole page."""
    alerts = list(alerts)
    help_ids = [a.subject_id for a in alerts if a.subject_type is SubjectType.HELP_REQUEST]
    help_requests = (
        {r.id: r for r in session.scalars(select(HelpRequest).where(HelpRequest.id.in_(help_ids)))}
        if help_ids
        else {}
    )
    describers: dict[SubjectType, SubjectDescriber] = current_app.extensions.get(
        "alert_subjects", {}
    )
    subjects: dict[tuple[SubjectType, int], AlertSubject] = {}
    for subject_type, describe in describers.items():
        ids = [a.subject_id for a in alerts if a.subject_type is subject_type]
        if ids:
            for subject_id, subject in describe(session, ids).items():
                subjects[(subject_type, subject_id)] = subject
    found: dict[int, AlertContext] = {}
    for alert in alerts:
        group = alert.group
        worker = group.worker.display_name if group is not None and group.worker else None
        help_request = (
            help_requests.get(alert.subject_id)
            if alert.subject_type is SubjectType.HELP_REQUEST
            else None
        )
        found[alert.id] = AlertContext(
            where_from=where_from(alert),
            reach=reach_for(alert, help_request, worker),
            group=group.name if group is not None else None,
            worker=worker,
            deadline=deadline_words(alert, now),
            subject=subjects.get((alert.subject_type, alert.subject_id)),
            help_request=help_request,
        )
    return found


def record_spoke_to_child(
    session: Session, alert: SafeguardingAlert, note: str, by: StaffUser
) -> None:
    """The lead (or someone for them) spoke to the child: an action, which meets the deadline."""
    services.record_action(
        session, alert, note.strip() or "Spoke to the child.", by, kind=ActionKind.SPOKE_TO_CHILD
    )


def register_subject(app: Any, subject_type: SubjectType, describe: SubjectDescriber) -> None:
    """A feature says what it knows about its subjects (called from its ``register``)."""
    app.extensions.setdefault("alert_subjects", {})[subject_type] = describe

"""Overdue alerts come back: emailed again until someone acknowledges them.

An alert past its deadline that nobody has acknowledged is emailed to every safeguarding
lead of its council and to the fallback address, then again every
ALERT_REMINDER_URGENT_MINUTES (urgent, default 30) or ALERT_REMINDER_CONCERN_MINUTES
(concern, default 240: every four hours) until it is acknowledged. Urgent alerts are due
within the hour, day or night, so they are chased day and night; a concern is chased too,
less often, because one working day is already a long wait.

The outbox worker (``flask --app wsgi outbox deliver --loop``) runs this before every
batch, so it needs no cron job; ``flask --app wsgi safeguarding remind-overdue`` runs it
once. Two workers at once send each reminder once: each reminder is claimed by a
compare-and-set on ``reminders_sent`` (the second worker's update matches no row), and
its emails carry idempotency keys with the reminder's number.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from participation import emails, outbox
from participation.councils.models import Council
from participation.db import utcnow
from participation.links import public_url, site_app
from participation.safeguarding.models import AlertLevel, AlertStatus, SafeguardingAlert
from participation.safeguarding.recipients import alert_recipients, fallback_address


def reminder_interval(level: AlertLevel) -> timedelta:
    """How long after one reminder the next is sent, from the settings."""
    config = site_app().config
    if level is AlertLevel.URGENT:
        return timedelta(minutes=int(config["ALERT_REMINDER_URGENT_MINUTES"]))
    return timedelta(minutes=int(config["ALERT_REMINDER_CONCERN_MINUTES"]))


def _every(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return "hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def remind_overdue_alerts(session: Session, now: datetime | None = None) -> int:
    """Queue a reminder for each unacknowledged alert that is due one; flushes, never commits.

    Returns how many alerts were reminded. The emails go before every other email.
    """
    now = now or utcnow()
    # The shortest interval bounds which alerts can be due a reminder; each is checked below.
    candidates = session.scalars(
        select(SafeguardingAlert)
        .where(
            SafeguardingAlert.status == AlertStatus.NEW,
            SafeguardingAlert.due_at < now,
            or_(
                SafeguardingAlert.last_reminded_at.is_(None),
                SafeguardingAlert.last_reminded_at
                <= now - min(reminder_interval(level) for level in AlertLevel),
            ),
        )
        .order_by(SafeguardingAlert.due_at, SafeguardingAlert.id)
        .execution_options(populate_existing=True)
    ).all()
    reminded = 0
    for alert in candidates:
        interval = reminder_interval(alert.level)
        if alert.last_reminded_at is not None and alert.last_reminded_at > now - interval:
            continue
        number = alert.reminders_sent + 1
        # Claim reminder `number`: only one transaction can move reminders_sent from n to n+1.
        # A Core UPDATE, so the alert's version (which the lead's open page holds) is kept.
        claimed = session.execute(
            update(SafeguardingAlert)
            .where(
                SafeguardingAlert.id == alert.id,
                SafeguardingAlert.reminders_sent == alert.reminders_sent,
                SafeguardingAlert.status == AlertStatus.NEW,
            )
            .values(reminders_sent=number, last_reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        _send_reminder(session, alert, number, interval)
        session.expire(alert, ["reminders_sent", "last_reminded_at"])
        reminded += 1
    session.flush()
    return reminded


def _send_reminder(
    session: Session, alert: SafeguardingAlert, number: int, interval: timedelta
) -> None:
    council = session.get(Council, alert.council_id)
    link = public_url("safeguarding.alert", alert_id=alert.id)
    for address in alert_recipients(session, alert.council_id, overdue=True):
        emails.send(
            session,
            "safeguarding_alert_reminder",
            to=address,
            council_id=alert.council_id,
            idempotency_key=f"alert-{alert.id}-reminder-{number}-{address}",
            priority=outbox.ALERT_PRIORITY,
            alert=alert,
            council_name=council.name if council else f"council {alert.council_id}",
            number=number,
            every=_every(interval),
            fallback=fallback_address(),
            link=link,
        )

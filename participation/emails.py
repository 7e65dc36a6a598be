"""Emails: a Jinja template per email (``templates/email/*.txt``), queued in the outbox.

Each template has a ``subject`` block and a ``body`` block and is plain text (no HTML
escaping: ``.txt`` templates are not autoescaped, and no email is HTML). Links come from
``participation.links.public_url``; times are written in UK local time with the
``uk_time`` and ``uk_date`` filters, since a UTC time in an email is an hour out for half
the year. Emails go to council staff and are written in English, whatever language the
request that caused them was in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from participation import outbox
from participation.links import site_app

UK = ZoneInfo("Europe/London")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def uk_date(value: datetime | date) -> str:
    """1 December 2026: the date in the UK (a UTC time late at night is the next day in BST)."""
    if isinstance(value, datetime):
        value = value.astimezone(UK).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def uk_time(value: datetime) -> str:
    """14:05 on 1 December 2026 (UK time): GMT in winter, BST in summer."""
    local = value.astimezone(UK)
    return f"{local:%H:%M} on {uk_date(local)} (UK time)"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str


def render(template: str, **context: Any) -> RenderedEmail:
    """The subject (one line, spaces collapsed) and body of ``email/<template>.txt``."""
    env = site_app().jinja_env
    compiled = env.get_template(f"email/{template}.txt")
    ctx = compiled.new_context(context)
    subject = " ".join("".join(compiled.blocks["subject"](ctx)).split())
    body = "".join(compiled.blocks["body"](ctx)).strip() + "\n"
    return RenderedEmail(subject=subject, body=body)


def send(
    session: Session,
    template: str,
    *,
    to: str,
    idempotency_key: str,
    council_id: int | None = None,
    priority: int = outbox.NORMAL_PRIORITY,
    **context: Any,
) -> outbox.OutboxEmail:
    """Render ``template`` for one reader and add it to the outbox (flushes, never commits)."""
    email = render(template, **context)
    return outbox.enqueue(
        session,
        to=to,
        subject=email.subject,
        body=email.body,
        council_id=council_id,
        idempotency_key=idempotency_key,
        priority=priority,
    )


def register_email_filters(app: Flask) -> None:
    app.jinja_env.filters["uk_time"] = uk_time
    app.jinja_env.filters["uk_date"] = uk_date

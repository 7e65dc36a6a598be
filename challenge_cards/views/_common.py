"""What the card pages share: the blueprint, service choices and the step runner."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from challenge_cards import queries, services
from challenge_cards.models import ChallengeCard, Service
from participation.accounts.models import Role, StaffUser
from participation.db import db
from participation.forms import choices, parse_row_id
from participation.safeguarding.models import SafeguardingAlert

# Named after the package, so that its templates folder is challenge_cards/templates.
bp = Blueprint("challenge_cards", "challenge_cards", template_folder="templates")
LONDON = ZoneInfo("Europe/London")
WORKER = Role.PARTICIPATION_WORKER
NOT_SURE = ""
MAX_PAGE = 10_000  # a page number beyond any queue (a larger one overflows SQLite's integers)


def _service_choices(council_id: int) -> list[Any]:
    return choices(
        [(NOT_SURE, _("I'm not sure"))]
        + [(str(s.id), s.name) for s in queries.active_services(db.session, council_id)]
    )


def _chosen_service(council_id: int, value: str | None) -> Service | None:
    service_id = parse_row_id(value)
    found = db.session.get(Service, service_id) if service_id is not None else None
    return found if found is not None and found.council_id == council_id else None


_SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def submission_key(form: Any) -> str:
    """The key the form was given when first shown; a new one if it has none or a bad one.

    The key rides in a hidden field through validation errors and the "not sent yet" page,
    so that however often the child taps "send", one card is raised.
    """
    value = form.submission_key.data or ""
    if not _SUBMISSION_KEY.fullmatch(value):
        value = new_submission_key()
        form.submission_key.data = value
    return value


def _after_raise(alert: SafeguardingAlert | None, next_url: str) -> Response:
    if alert is not None and alert.participant_id is not None:
        return redirect(url_for("safeguarding.child_help", alert_id=alert.id, next=next_url))
    return redirect(next_url)


def _run_step(
    found: ChallengeCard,
    form: Any,
    form_name: str,
    change: Callable[[ChallengeCard], None],
    done: str,
    page: Callable[..., tuple[str, int]],
    endpoint: str,
) -> Any:
    """Run one step on a card, refusing stale pages and keeping what was typed.

    Shared by the worker's and the responder's pages: ``page`` renders the card again with
    the form as sent, and ``endpoint`` is where a successful step goes back to.
    """
    if not form.validate_on_submit():
        return page(found, 422, **{form_name: form})
    if str(found.version) != (form.version.data or ""):
        flash(
            _("Someone else changed this card while you had it open. Check it, then try again."),
            "error",
        )
        return page(found, 409, **{form_name: form})
    try:
        change(found)
        db.session.commit()
    except services.CardError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return page(found, 422, **{form_name: form})
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this card at the same moment. Check it, then try again."),
            "error",
        )
        return redirect(url_for(endpoint, card_id=found.id))
    flash(done, "success")
    return redirect(url_for(endpoint, card_id=found.id))


def _me() -> StaffUser:
    return current_user._get_current_object()


def _end_of_day(day: Any) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(
        UTC
    ) - timedelta(minutes=1)

"""The safeguarding lead's queue, and the help a child sees at once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from participation.access import child_required, public, role_required
from participation.accounts.models import Role
from participation.councils.services import current_participant
from participation.db import db, utcnow
from participation.safeguarding import queries, services
from participation.safeguarding.forms import AcknowledgeForm, ActionForm, CloseForm, ContactForm
from participation.safeguarding.models import SafeguardingAlert
from participation.security import safe_next

bp = Blueprint("safeguarding", __name__)


@bp.get("/help")
@public
def help_page() -> str:
    """Help for any child, any time: Childline, 999, a trusted adult."""
    return render_template("safeguarding/help.html", alert=None, form=None)


@bp.route("/help/<int:alert_id>", methods=["GET", "POST"])
@child_required
def child_help(alert_id: int) -> Any:
    """Shown straight after a child wrote something worrying; they may leave a way to reach them."""
    participant = current_participant()
    assert participant is not None
    alert = queries.alert_for_child(db.session, alert_id, participant.id) or abort(404)
    form = ContactForm()
    # Where the child was going (the next survey question, their card): on this site only.
    continue_url = safe_next(request.args.get("next"), url_for("councils.child_home"))
    if form.validate_on_submit():
        services.leave_contact(db.session, alert, form.contact.data or "")
        db.session.commit()
        return render_template(
            "safeguarding/help.html",
            alert=alert,
            form=None,
            contact_saved=True,
            continue_url=continue_url,
        )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "safeguarding/help.html", alert=alert, form=form, continue_url=continue_url
    ), status


@bp.get("/safeguarding/alerts")
@role_required(Role.SAFEGUARDING_LEAD)
def queue() -> str:
    """Open alerts: overdue and urgent first."""
    include_closed = request.args.get("show") == "all"
    alerts = queries.alert_queue(db.session, current_user, include_closed=include_closed)
    return render_template(
        "safeguarding/queue.html", alerts=alerts, now=utcnow(), include_closed=include_closed
    )


def _render_alert(alert: SafeguardingAlert, status: int = 200, **forms: Any) -> tuple[str, int]:
    services.log_view(db.session, alert, current_user._get_current_object())
    db.session.commit()
    defaults = {
        "ack_form": AcknowledgeForm(version=alert.version),
        "action_form": ActionForm(version=alert.version),
        "close_form": CloseForm(version=alert.version),
    }
    defaults.update(forms)
    return render_template("safeguarding/alert.html", alert=alert, now=utcnow(), **defaults), status


@bp.get("/safeguarding/alerts/<int:alert_id>")
@role_required(Role.SAFEGUARDING_LEAD)
def alert(alert_id: int) -> tuple[str, int]:
    """One alert with the child's words (the view is audited)."""
    found = queries.alert_for_lead(db.session, alert_id, current_user) or abort(404)
    return _render_alert(found)


def _apply(alert_id: int, form_name: str, form: Any, change: Any) -> Any:
    found = queries.alert_for_lead(db.session, alert_id, current_user) or abort(404)
    if not form.validate_on_submit():
        return _render_alert(found, 422, **{form_name: form})
    if str(found.version) != (form.version.data or ""):
        flash(
            _("Someone else changed this alert while you had it open. Check it, then try again."),
            "error",
        )
        return _render_alert(found, 409, **{form_name: form})
    try:
        change(found)
        db.session.commit()
    except services.AlertError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _render_alert(found, 422, **{form_name: form})
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this alert at the same moment. Check it, then try again."),
            "error",
        )
        return redirect(url_for(".alert", alert_id=alert_id))
    return redirect(url_for(".alert", alert_id=alert_id))


@bp.post("/safeguarding/alerts/<int:alert_id>/acknowledge")
@role_required(Role.SAFEGUARDING_LEAD)
def acknowledge(alert_id: int) -> Response:
    """I have seen this and I am dealing with it."""
    by = current_user._get_current_object()
    return _apply(
        alert_id, "ack_form", AcknowledgeForm(), lambda a: services.acknowledge(db.session, a, by)
    )


@bp.post("/safeguarding/alerts/<int:alert_id>/actions")
@role_required(Role.SAFEGUARDING_LEAD)
def record_action(alert_id: int) -> Response:
    """Record what was done."""
    by = current_user._get_current_object()
    form = ActionForm()
    return _apply(
        alert_id,
        "action_form",
        form,
        lambda a: services.record_action(db.session, a, form.note.data or "", by),
    )


@bp.post("/safeguarding/alerts/<int:alert_id>/close")
@role_required(Role.SAFEGUARDING_LEAD)
def close(alert_id: int) -> Response:
    """Close the alert with its outcome."""
    by = current_user._get_current_object()
    form = CloseForm()
    return _apply(
        alert_id,
        "close_form",
        form,
        lambda a: services.close(db.session, a, form.outcome.data or "", by),
    )

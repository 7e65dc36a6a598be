"""The safeguarding lead's queue, and the help a child sees at once."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from participation.access import child_required, public, role_required
from participation.accounts.models import Role
from participation.councils.models import AgeBand, Participant
from participation.councils.services import current_participant
from participation.db import db, utcnow
from participation.extensions import csrf
from participation.safeguarding import child_contact, help_requests, queries, services
from participation.safeguarding.forms import (
    AcknowledgeForm,
    ActionForm,
    CloseForm,
    ContactForm,
    HelpRequestForm,
    SpokeToChildForm,
    new_submission_key,
)
from participation.safeguarding.models import SafeguardingAlert
from participation.security import safe_next
from participation.subjects import SubjectType

bp = Blueprint("safeguarding", __name__)


def _read_within() -> str:
    """How soon a person reads an urgent alert, in words ("1 hour"), from its deadline."""
    return str(format_timedelta(services.URGENT_RESPONSE, threshold=1, add_direction=False))


def _render_help(
    participant: Participant | None, form: HelpRequestForm | None, status: int = 200, **extra: Any
) -> tuple[str, int]:
    band = participant.group.age_band if participant is not None else None
    return render_template(
        "safeguarding/help.html",
        alert=None,
        form=form,
        participant=participant,
        care_leaver=band is AgeBand.CARE_LEAVERS_16_25,
        read_within=_read_within(),
        **extra,
    ), status


@bp.get("/help")
@public
def help_page() -> tuple[str, int]:
    """Help for any child, any time: 999, Childline, and "Do you want someone to talk to you?"."""
    participant = current_participant()
    form = HelpRequestForm(submission_key=new_submission_key()) if participant else None
    return _render_help(participant, form)


def _keep_words_on_a_stale_token(form: Any) -> int:
    """A page left open too long: say so kindly, keeping what the child wrote. The status:
    400 when the token was refused (nothing is stored), else 422."""
    if form.errors.pop("csrf_token", None) is not None:
        form.form_errors.append(_("This page was open a long time. Please tap Send again."))
        return 400
    return 422


# The forms check their own token (Flask-WTF's FlaskForm), so a page left open overnight
# comes back with the child's words and a fresh token, not an error page that loses them.
@bp.post("/help")
@csrf.exempt
@public
def send_help_request() -> Any:
    """The child asks for someone to talk to them: one urgent alert, however often they tap."""
    participant = current_participant()
    if participant is None:
        # No group on this phone: we cannot tell which council's lead to ask. Say what to do.
        return _render_help(None, None, 403, not_joined=True)
    form = HelpRequestForm()
    if not form.validate_on_submit():
        return _render_help(participant, form, _keep_words_on_a_stale_token(form))
    result = help_requests.assess_words(form.words.data)  # before the write begins
    fields = {
        "words": form.words.data,
        "reach_by": form.reach_by.data,
        "phone": form.phone.data,
        "result": result,
    }
    try:
        try:
            asked = help_requests.request_help(
                db.session, participant, submission_key=form.submission_key.data or "", **fields
            )
        except help_requests.KeyClash:  # another child's key: a new request, never theirs
            asked = help_requests.request_help(
                db.session, participant, submission_key=new_submission_key(), **fields
            )
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        form.form_errors.append(
            _("Not sent yet: we could not reach our computer. Please try again, or call Childline.")
        )
        return _render_help(participant, form, 503)
    return redirect(url_for(".help_sent", request_id=asked.request.id))


@bp.get("/help/sent/<int:request_id>")
@child_required
def help_sent(request_id: int) -> tuple[str, int]:
    """We have it: what happens next, and the numbers again."""
    participant = current_participant()
    assert participant is not None
    sent = help_requests.help_request_for_child(db.session, request_id, participant) or abort(404)
    return _render_help(participant, None, sent=sent)


@bp.route("/help/<int:alert_id>", methods=["GET", "POST"])
@csrf.exempt
@child_required
def child_help(alert_id: int) -> Any:
    """Shown straight after a child wrote something worrying; they may leave a way to reach them."""
    participant = current_participant()
    assert participant is not None
    alert = queries.alert_for_child(db.session, alert_id, participant.id) or abort(404)
    form = ContactForm()
    # Where the child was going (the next survey question, their card): on this site only.
    continue_url = safe_next(request.args.get("next"), url_for("councils.child_home"))
    shown = {
        "alert": alert,
        "participant": participant,
        "care_leaver": participant.group.age_band is AgeBand.CARE_LEAVERS_16_25,
        "read_within": _read_within(),
        "continue_url": continue_url,
    }
    if form.validate_on_submit():
        services.leave_contact(db.session, alert, form.contact.data or "")
        db.session.commit()
        return render_template("safeguarding/help.html", form=None, contact_saved=True, **shown)
    status = _keep_words_on_a_stale_token(form) if request.method == "POST" else 200
    return render_template("safeguarding/help.html", form=form, **shown), status


@bp.app_template_global()
def sent_to_safeguarding(subject_type: str, subject_id: int | None) -> bool:
    """Did this child's card or answer raise an alert? Then a shared phone hides its words."""
    if subject_id is None:
        return False
    if "alerted_subjects" not in g:
        participant = current_participant()
        g.alerted_subjects = (
            queries.alerted_subjects_for_child(db.session, participant.id)
            if participant is not None
            else frozenset()
        )
    return (SubjectType(subject_type), subject_id) in g.alerted_subjects


@bp.get("/safeguarding/alerts")
@role_required(Role.SAFEGUARDING_LEAD)
def queue() -> str:
    """Open alerts: overdue and urgent first."""
    include_closed = request.args.get("show") == "all"
    alerts = queries.alert_queue(db.session, current_user, include_closed=include_closed)
    now = utcnow()
    return render_template(
        "safeguarding/queue.html",
        alerts=alerts,
        now=now,
        include_closed=include_closed,
        context=child_contact.contexts(db.session, alerts, now),
    )


def _render_alert(alert: SafeguardingAlert, status: int = 200, **forms: Any) -> tuple[str, int]:
    services.log_view(db.session, alert, current_user._get_current_object())
    db.session.commit()
    defaults = {
        "ack_form": AcknowledgeForm(version=alert.version),
        "action_form": ActionForm(version=alert.version),
        "close_form": CloseForm(version=alert.version),
        "spoke_form": SpokeToChildForm(version=alert.version),
    }
    defaults.update(forms)
    now = utcnow()
    return render_template(
        "safeguarding/alert.html",
        alert=alert,
        now=now,
        context=child_contact.contexts(db.session, [alert], now)[alert.id],
        **defaults,
    ), status


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


@bp.post("/safeguarding/alerts/<int:alert_id>/spoke-to-child")
@role_required(Role.SAFEGUARDING_LEAD)
def spoke_to_child(alert_id: int) -> Response:
    """Record that someone spoke to the child (an action: it meets the deadline)."""
    by = current_user._get_current_object()
    form = SpokeToChildForm()
    return _apply(
        alert_id,
        "spoke_form",
        form,
        lambda a: child_contact.record_spoke_to_child(db.session, a, form.note.data or "", by),
    )

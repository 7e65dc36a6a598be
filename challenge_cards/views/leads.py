"""The safeguarding lead hands a card held by an alert back to moderation."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from challenge_cards import services
from challenge_cards.forms import HandBackForm
from challenge_cards.views._common import _me, bp
from participation.access import role_required
from participation.accounts.models import Role
from participation.db import db
from participation.safeguarding.queries import alert_for_lead


@bp.post("/safeguarding/alerts/<int:alert_id>/hand-back")
@role_required(Role.SAFEGUARDING_LEAD)
def hand_back(alert_id: int) -> Response:
    """Safe to go on as a card: the card leaves the hold and goes back to moderation."""
    alert = alert_for_lead(db.session, alert_id, current_user) or abort(404)
    form = HandBackForm()
    back = redirect(url_for("safeguarding.alert", alert_id=alert.id))
    if not form.validate_on_submit():
        abort(400)
    if str(alert.version) != (form.version.data or ""):
        flash(
            _("Someone else changed this alert while you had it open. Check it, then try again."),
            "error",
        )
        return back
    try:
        services.hand_back_to_moderation(db.session, alert, _me())
        db.session.commit()
    except services.CardError as error:
        db.session.rollback()
        flash(str(error), "error")
        return back
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this alert at the same moment. Check it, then try again."),
            "error",
        )
        return back
    flash(_("The card is back with moderation: a worker can send it on."), "success")
    return back

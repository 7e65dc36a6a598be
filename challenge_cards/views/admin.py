"""Administrators keep the council's list of services for cards."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from challenge_cards.forms import ServiceForm
from challenge_cards.models import Service
from challenge_cards.views._common import bp
from participation.access import role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import Role
from participation.db import db


@bp.route("/staff/services", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def council_services() -> Any:
    """The services cards can be sent to."""
    form = ServiceForm()
    if form.validate_on_submit():
        name = form.name.data or ""
        exists = db.session.scalar(
            select(Service).where(
                Service.council_id == current_user.council_id, Service.name == name
            )
        )
        if exists is not None:
            form.name.errors = [_("There is already a service with that name.")]
        else:
            db.session.add(Service(council_id=current_user.council_id, name=name))
            db.session.commit()
            flash(_("Service added."), "success")
            return redirect(url_for(".council_services"))
    rows = db.session.scalars(
        select(Service).where(Service.council_id == current_user.council_id).order_by(Service.name)
    ).all()
    status = 422 if request.method == "POST" else 200
    return render_template(
        "challenge_cards/services.html", form=form, services=rows, confirm=ConfirmForm()
    ), status


@bp.post("/staff/services/<int:service_id>/active")
@role_required(Role.ADMIN)
def toggle_service(service_id: int) -> Response:
    """Stop offering a service, or offer it again (cards already sent keep it)."""
    found = db.session.get(Service, service_id)
    if found is None or found.council_id != current_user.council_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found.active = not found.active
    db.session.commit()
    return redirect(url_for(".council_services"))

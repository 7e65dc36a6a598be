"""Start pages, the language choice and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from participation.access import public, staff_required
from participation.accounts.models import Role
from participation.councils.services import current_participant
from participation.db import db
from participation.i18n import LANGUAGE_COOKIE
from participation.safeguarding.recipients import alerts_reach_nobody
from participation.security import rate_limits_are_per_process, safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
@public
def index() -> str | Response:
    """Start page: children join their group, staff sign in."""
    if current_user.is_authenticated:
        return redirect(url_for(".staff_home"))
    return render_template("index.html", participant=current_participant())


@bp.get("/staff")
@staff_required
def staff_home() -> str:
    """What a member of staff can do, by role; an administrator is told if alerts reach nobody."""
    nobody_gets_alerts = current_user.has_role(Role.ADMIN) and alerts_reach_nobody(
        db.session, current_user.council_id
    )
    per_process_limits = current_user.has_role(Role.ADMIN) and rate_limits_are_per_process(
        current_app
    )
    return render_template(
        "staff_home.html",
        nobody_gets_alerts=nobody_gets_alerts,
        per_process_limits=per_process_limits,
    )


@bp.post("/language")
@public
def choose_language() -> Response:
    """Remember the language a person picked, then go back to where they were."""
    from participation.accounts.forms import ConfirmForm

    form = ConfirmForm()
    chosen = request.form.get("language", "")
    back = safe_next(request.form.get("next"), url_for(".index"))
    response = redirect(back)
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=400 * 24 * 3600,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.get("/healthz")
@public
def health() -> tuple[dict[str, str], int]:
    """For the load balancer: is the database reachable?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy"
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200

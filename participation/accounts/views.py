"""Staff sign-in (password, then second factor), sign-out, and account administration."""

from __future__ import annotations

import hmac
import time
from typing import Any

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from participation import audit
from participation.access import public, role_required, staff_required
from participation.accounts import services
from participation.accounts.forms import (
    ConfirmForm,
    RolesForm,
    SecondFactorForm,
    SignInForm,
    UserForm,
)
from participation.accounts.models import Role, StaffUser
from participation.db import db
from participation.extensions import limiter
from participation.security import safe_next

bp = Blueprint("accounts", __name__)

PENDING_SECONDS = 300  # between a right password and the second factor


def load_staff_user(user_id: str) -> StaffUser | None:
    """Flask-Login loader: the id carries a token that sign-out and role changes rotate."""
    raw_id, _sep, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(StaffUser, int(raw_id))
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def _sign_in_key() -> str:
    """Rate-limit key for one account, whether or not it exists."""
    return "sign-in:" + services.normalise_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _second_factor_required(user: StaffUser) -> bool:
    return bool(current_app.config["REQUIRE_SECOND_FACTOR"] and user.needs_second_factor)


def _complete_sign_in(user: StaffUser, next_url: str | None) -> Response:
    # A fresh session: nothing from before sign-in carries over (no session fixation).
    session.clear()
    login_user(user)
    session["seen_at"] = time.time()
    session.permanent = True
    services.signed_in(db.session, user)
    db.session.commit()
    return redirect(safe_next(next_url, url_for("core.staff_home")))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SIGN_IN_PER_ACCOUNT_LIMIT"],
    key_func=_sign_in_key,
    methods=["POST"],
    deduct_when=_failed,
)
def sign_in() -> Any:
    """Staff sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("core.staff_home"))
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), (
            422 if request.method == "POST" else 200
        )
    user = services.check_password(db.session, form.email.data or "", form.password.data or "")
    if user is None:
        known = services.find_user_by_email(db.session, form.email.data or "")
        audit.record(
            db.session,
            audit.AuditAction.SIGN_IN_FAILED,
            actor=known,
            detail={} if known else {"account": "unknown"},
        )
        db.session.commit()
        # The same words whether or not the account exists.
        form.form_errors.append(_("The email address or password is not right."))
        return render_template("accounts/sign_in.html", form=form), 401
    if not _second_factor_required(user):
        return _complete_sign_in(user, form.next.data)
    db.session.commit()  # keeps a rehashed password
    session.clear()
    session["pending_user"] = user.get_id()
    session["pending_at"] = time.time()
    session["pending_next"] = safe_next(form.next.data, "")
    if user.totp_secret:
        return redirect(url_for(".second_factor"))
    return redirect(url_for(".set_up_second_factor"))


def _pending_user() -> StaffUser | None:
    started = session.get("pending_at")
    if started is None or time.time() - float(started) > PENDING_SECONDS:
        return None
    return load_staff_user(session.get("pending_user", ""))


def _pending_key() -> str:
    return "second-factor:" + str(session.get("pending_user", "")).partition(":")[0]


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
@limiter.limit("6 per 5 minutes", key_func=_pending_key, methods=["POST"], deduct_when=_failed)
def second_factor() -> Any:
    """Second step of sign-in: a code from the authenticator app, each code usable once."""
    user = _pending_user()
    if user is None or not user.totp_secret:
        flash(_("Please sign in again."), "info")
        return redirect(url_for(".sign_in"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return render_template("accounts/second_factor.html", form=form), (
            422 if request.method == "POST" else 200
        )
    if not services.verify_second_factor(user, form.code.data or ""):
        audit.record(db.session, audit.AuditAction.SECOND_FACTOR_FAILED, actor=user)
        db.session.commit()
        form.code.errors = [_("That code is not right, or was already used. Wait for a new code.")]
        return render_template("accounts/second_factor.html", form=form), 401
    return _complete_sign_in(user, session.get("pending_next"))


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def set_up_second_factor() -> Any:
    """First sign-in of a role that reads children's words: link an authenticator app."""
    user = _pending_user()
    if user is None or user.totp_secret:
        flash(_("Please sign in again."), "info")
        return redirect(url_for(".sign_in"))
    secret = session.get("enrol_secret")
    if not secret:
        # Shown to this person once; stored on their account only when they prove it works.
        secret = services.new_totp_secret()
        session["enrol_secret"] = secret
    form = SecondFactorForm()
    if form.validate_on_submit():
        if services.enrol_second_factor(db.session, user, secret, form.code.data or ""):
            session.pop("enrol_secret", None)
            return _complete_sign_in(user, session.get("pending_next"))
        form.code.errors = [
            _("That code is not right. Check the time on your phone and try again.")
        ]
    uri = services.totp_uri(user, secret, issuer=current_app.config.get("SITE_NAME", "Child Voice"))
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "accounts/set_up_second_factor.html", form=form, qr=qr, secret=secret
    ), status


@bp.post("/sign-out")
@staff_required
def sign_out() -> Response:
    """Sign out here and everywhere else."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.signed_out(db.session, current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for(".sign_in"))


# Account administration --------------------------------------------------------------


def _user_for_admin(user_id: int) -> StaffUser:
    user = db.session.scalar(
        select(StaffUser).where(
            StaffUser.id == user_id, StaffUser.council_id == current_user.council_id
        )
    )
    if user is None:
        abort(404)
    return user


@bp.get("/staff/users")
@role_required(Role.ADMIN)
def users() -> str:
    """Staff accounts of this council."""
    rows = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.council_id == current_user.council_id)
        .order_by(func.lower(StaffUser.display_name))
    ).all()
    return render_template("accounts/users.html", users=rows)


@bp.route("/staff/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user() -> Any:
    """Create a staff account."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                council_id=current_user.council_id,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                password=form.password.data or "",
                roles=[Role(v) for v in form.roles.data or []],
                by=current_user._get_current_object(),
            )
        except services.AccountError as error:
            db.session.rollback()
            form.email.errors = [str(error)]
        else:
            db.session.commit()
            flash(_("Account created for %(name)s.", name=user.display_name), "success")
            return redirect(url_for(".user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/new_user.html", form=form), status


@bp.get("/staff/users/<int:user_id>")
@role_required(Role.ADMIN)
def user(user_id: int) -> str:
    """One staff account: roles and whether it is active."""
    account = _user_for_admin(user_id)
    form = RolesForm(roles=[r.value for r in account.roles])
    return render_template("accounts/user.html", account=account, form=form, confirm=ConfirmForm())


@bp.post("/staff/users/<int:user_id>/roles")
@role_required(Role.ADMIN)
def change_roles(user_id: int) -> Any:
    """Give a staff account exactly the chosen roles."""
    account = _user_for_admin(user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        return render_template(
            "accounts/user.html", account=account, form=form, confirm=ConfirmForm()
        ), 422
    try:
        changed = services.set_roles(
            db.session,
            account,
            [Role(v) for v in form.roles.data or []],
            by=current_user._get_current_object(),
        )
    except services.AccountError as error:
        db.session.rollback()
        form.roles.errors = [str(error)]
        return render_template(
            "accounts/user.html", account=account, form=form, confirm=ConfirmForm()
        ), 422
    db.session.commit()
    flash(_("Roles saved.") if changed else _("No change to roles."), "success")
    return redirect(url_for(".user", user_id=account.id))


@bp.post("/staff/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def toggle_active(user_id: int) -> Any:
    """Deactivate or reactivate a staff account."""
    account = _user_for_admin(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.set_active(
            db.session, account, not account.active, by=current_user._get_current_object()
        )
    except services.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".user", user_id=account.id))
    db.session.commit()
    flash(_("Account reactivated.") if account.active else _("Account deactivated."), "success")
    return redirect(url_for(".user", user_id=account.id))


@bp.get("/staff/audit")
@role_required(Role.ADMIN)
def audit_log() -> str:
    """The audit log of this council, newest first."""
    # Capped: a page number too big for the database's integers is not a server error.
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    per_page = 50
    rows = db.session.execute(
        select(audit.AuditEvent, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == audit.AuditEvent.actor_id)
        .where(audit.AuditEvent.council_id == current_user.council_id)
        .order_by(audit.AuditEvent.id.desc())
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    ).all()
    return render_template(
        "accounts/audit.html", rows=rows[:per_page], page=page, has_next=len(rows) > per_page
    )

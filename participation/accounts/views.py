"""Staff sign-in (password, then second factor), sign-out, and account administration."""

from __future__ import annotations

import hmac
import math
import secrets
import time
from datetime import timedelta
from typing import Any

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
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from participation import audit
from participation.access import public, role_required, staff_required
from participation.accounts import lifecycle, services, throttle
from participation.accounts.forms import (
    ConfirmForm,
    RolesForm,
    SecondFactorForm,
    SignInForm,
    UserForm,
)
from participation.accounts.models import LinkPurpose, Role, StaffUser, ThrottleKind
from participation.db import db, utcnow
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


DEVICE_COOKIE = "cv_device"
DEVICE_COOKIE_DAYS = 400
_DEVICE_ACCOUNTS = 5  # a shared office laptop remembers a few people


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt="known-device")


def _device_payload() -> dict[str, Any]:
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 400:
        return {}
    try:
        payload = _devices().loads(raw)
    except BadSignature:
        return {}
    return payload if isinstance(payload, dict) else {}


def known_device(user_id: int) -> str | None:
    """This browser's id if ``user_id`` has signed in from it before (a signed cookie)."""
    payload = _device_payload()
    device, users = payload.get("d"), payload.get("u")
    if isinstance(device, str) and isinstance(users, list) and user_id in users:
        return device
    return None


def remember_device(response: Response, user_id: int) -> Response:
    """Mark this browser as one ``user_id`` signs in from: it gets its own failure budget."""
    payload = _device_payload()
    device = payload.get("d") if isinstance(payload.get("d"), str) else None
    users = [u for u in payload.get("u") or [] if isinstance(u, int) and u != user_id]
    value = _devices().dumps(
        {"d": device or secrets.token_urlsafe(16), "u": [user_id, *users][:_DEVICE_ACCOUNTS]}
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        path="/sign-in",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def throttle_key(kind: ThrottleKind, user: StaffUser | None, email: str = "") -> str:
    """The identity an attempt counts against: this browser if the person signed in from it
    before, else the account (the normalised email, or the account's code step)."""
    if user is not None:
        device = known_device(user.id)
        if device is not None:
            return throttle.device_key(kind, device, user.id)
    if kind is ThrottleKind.CODE and user is not None:
        return throttle.code_key(user.id)
    return throttle.password_key(email)


def wait_words(wait: timedelta) -> str:
    """'30 seconds', '1 minute', '4 minutes': how long someone must wait, in plain words."""
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", max(1, seconds))
    minutes = math.ceil(seconds / 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def wait_message(wait: timedelta) -> str:
    return _(
        "Too many tries for this account. Try again in %(wait)s, or reset your password by email.",
        wait=wait_words(wait),
    )


def _second_factor_required(user: StaffUser) -> bool:
    return bool(current_app.config["REQUIRE_SECOND_FACTOR"] and user.needs_second_factor)


def complete_sign_in(user: StaffUser, next_url: str | None) -> Response:
    """Start the person's session (fresh: nothing from before carries over)."""
    session.clear()
    login_user(user)
    now = time.time()
    session["seen_at"] = now
    # The absolute cap on a staff session is counted from here; it never slides.
    session["signed_in_at"] = now
    session.permanent = True
    services.signed_in(db.session, user)
    db.session.commit()
    return remember_device(redirect(safe_next(next_url, url_for("core.staff_home"))), user.id)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def sign_in() -> Any:
    """Staff sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("core.staff_home"))
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), (
            422 if request.method == "POST" else 200
        )
    email = services.normalise_email(form.email.data or "")
    known = services.find_user_by_email(db.session, email)
    key = throttle_key(ThrottleKind.PASSWORD, known, email)
    wait = throttle.wait_before_attempt(
        db.session, key, ThrottleKind.PASSWORD, known.id if known else None
    )
    if wait is not None:
        audit.record(
            db.session,
            audit.AuditAction.SIGN_IN_DELAYED,
            actor=known,
            detail={"step": "password"} if known else {"step": "password", "account": "unknown"},
        )
        db.session.commit()
        form.form_errors.append(wait_message(wait))
        return render_template("accounts/sign_in.html", form=form), 429
    user = services.check_password(db.session, email, form.password.data or "")
    if user is None:
        throttle.failed(db.session, key)
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
    throttle.succeeded(db.session, key)
    if not _second_factor_required(user):
        return complete_sign_in(user, form.next.data)
    db.session.commit()  # keeps a rehashed password and the cleared failures
    if not user.totp_secret:
        # Only an invitation or a reset link sets up a code app: knowing the password
        # is not enough to choose the authenticator.
        form.form_errors.append(
            _(
                "Your account needs a code app, set up from a link we email you. "
                "Ask an administrator to send you one."
            )
        )
        return render_template("accounts/sign_in.html", form=form), 403
    session.clear()
    session["pending_user"] = user.get_id()
    session["pending_at"] = time.time()
    session["pending_next"] = safe_next(form.next.data, "")
    return redirect(url_for(".second_factor"))


def _pending_user() -> StaffUser | None:
    started = session.get("pending_at")
    if started is None or time.time() - float(started) > PENDING_SECONDS:
        return None
    return load_staff_user(session.get("pending_user", ""))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
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
    key = throttle_key(ThrottleKind.CODE, user)
    wait = throttle.wait_before_attempt(db.session, key, ThrottleKind.CODE, user.id)
    if wait is not None:
        audit.record(
            db.session, audit.AuditAction.SIGN_IN_DELAYED, actor=user, detail={"step": "code"}
        )
        db.session.commit()
        form.code.errors = [
            _("Too many wrong codes. Try again in %(wait)s.", wait=wait_words(wait))
        ]
        return render_template("accounts/second_factor.html", form=form), 429
    if not services.verify_second_factor(db.session, user, form.code.data or ""):
        throttle.failed(db.session, key)
        audit.record(db.session, audit.AuditAction.SECOND_FACTOR_FAILED, actor=user)
        db.session.commit()
        form.code.errors = [_("That code is not right, or was already used. Wait for a new code.")]
        return render_template("accounts/second_factor.html", form=form), 401
    throttle.succeeded(db.session, key)
    return complete_sign_in(user, session.get("pending_next"))


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
    delayed = throttle.delayed_user_ids(db.session, [u.id for u in rows])
    return render_template("accounts/users.html", users=rows, delayed=delayed)


@bp.route("/staff/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user() -> Any:
    """Invite a new member of staff: they choose their own password from an emailed link."""
    form = UserForm()
    if form.validate_on_submit():
        by = current_user._get_current_object()
        try:
            user = services.create_user(
                db.session,
                council_id=current_user.council_id,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                password=None,
                roles=[Role(v) for v in form.roles.data or []],
                by=by,
            )
        except services.AccountError as error:
            db.session.rollback()
            form.email.errors = [str(error)]
        else:
            lifecycle.issue_link(db.session, user, LinkPurpose.INVITE, by=by)
            db.session.commit()
            flash(
                _(
                    "Account created for %(name)s. We have emailed them a link to choose "
                    "their password.",
                    name=user.display_name,
                ),
                "success",
            )
            return redirect(url_for(".user", user_id=user.id))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/new_user.html", form=form), status


@bp.get("/staff/users/<int:user_id>")
@role_required(Role.ADMIN)
def user(user_id: int) -> tuple[str, int]:
    """One staff account: roles and whether it is active."""
    account = _user_for_admin(user_id)
    form = RolesForm(roles=[r.value for r in account.roles])
    return _render_user(account, form)


def _render_user(account: StaffUser, form: RolesForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "accounts/user.html",
        account=account,
        form=form,
        confirm=ConfirmForm(),
        throttles=throttle.for_user(db.session, account.id, account.email),
        has_password=services.has_password(account),
        now=utcnow(),
    ), status


@bp.post("/staff/users/<int:user_id>/roles")
@role_required(Role.ADMIN)
def change_roles(user_id: int) -> Any:
    """Give a staff account exactly the chosen roles."""
    account = _user_for_admin(user_id)
    form = RolesForm()
    if not form.validate_on_submit():
        return _render_user(account, form, 422)
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
        return _render_user(account, form, 422)
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


@bp.post("/staff/users/<int:user_id>/invite")
@role_required(Role.ADMIN)
def resend_invite(user_id: int) -> Response:
    """Email a new invitation to someone who has not chosen a password yet."""
    account = _user_for_admin(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if services.has_password(account) or not account.active:
        flash(_("This person already has a password, or the account is deactivated."), "error")
        return redirect(url_for(".user", user_id=account.id))
    lifecycle.issue_link(
        db.session, account, LinkPurpose.INVITE, by=current_user._get_current_object()
    )
    db.session.commit()
    flash(_("Invitation sent again. Earlier links no longer work."), "success")
    return redirect(url_for(".user", user_id=account.id))


@bp.post("/staff/users/<int:user_id>/reset-second-factor")
@role_required(Role.ADMIN)
def reset_second_factor(user_id: int) -> Response:
    """Forget someone's code app (a lost phone) and email them a link to set up a new one."""
    account = _user_for_admin(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    by = current_user._get_current_object()
    if account.id == by.id:
        flash(_("Another administrator must reset your own code app."), "error")
        return redirect(url_for(".user", user_id=account.id))
    if not account.active:
        flash(_("This account is deactivated."), "error")
        return redirect(url_for(".user", user_id=account.id))
    services.reset_second_factor(db.session, account, by=by)
    lifecycle.issue_link(db.session, account, LinkPurpose.SECOND_FACTOR_RESET, by=by)
    db.session.commit()
    flash(
        _(
            "Code app reset: %(name)s is signed out everywhere and has been emailed a link "
            "to set up a new one.",
            name=account.display_name,
        ),
        "success",
    )
    return redirect(url_for(".user", user_id=account.id))


@bp.post("/staff/users/<int:user_id>/clear-sign-in-delay")
@role_required(Role.ADMIN)
def clear_sign_in_delay(user_id: int) -> Response:
    """Forget the failed sign-in attempts counted against someone, so they can try at once."""
    account = _user_for_admin(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    cleared = throttle.clear_for_user(db.session, account.id, account.email)
    audit.record(
        db.session,
        audit.AuditAction.SIGN_IN_LOCK_CLEARED,
        actor=current_user._get_current_object(),
        target_type="staff_user",
        target_id=account.id,
        detail={"cleared": cleared},
    )
    db.session.commit()
    flash(_("Failed sign-in attempts cleared."), "success")
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


# The account pages (password, emailed links, code-app set-up) add their routes to ``bp``.
from participation.accounts import account_views  # noqa: E402, F401

"""A person's own account: change my password, forgot my password, an invitation, and
setting up the code app from an emailed link. Routes on the accounts blueprint."""

from __future__ import annotations

import time
from typing import Any

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from participation import audit, emails
from participation.access import public, staff_required
from participation.accounts import lifecycle, services, throttle
from participation.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    NewPasswordForm,
    PasswordCheckForm,
    SecondFactorForm,
)
from participation.accounts.models import AccountLink, LinkPurpose, StaffUser, ThrottleKind
from participation.accounts.views import (
    bp,
    complete_sign_in,
    remember_device,
    throttle_key,
    wait_message,
)
from participation.db import db
from participation.extensions import limiter
from participation.links import public_url

ENROL_SESSION_KEY = "enrol"
# "Forgot my password" answers no sooner than this (longer than queueing an email takes).
FORGOT_ANSWER_FLOOR_SECONDS = 0.5


def _sign_in_limit() -> str:
    return str(current_app.config["SIGN_IN_RATE_LIMIT"])


def _tell_owner_password_changed(user: StaffUser, how: str) -> None:
    emails.send(
        db.session,
        "password_changed",
        to=user.email,
        idempotency_key=f"password-changed:{user.id}:{user.session_token}",
        council_id=user.council_id,
        person=user,
        how=how,
        link=public_url("accounts.forgot_password"),
    )


@bp.route("/staff/account/password", methods=["GET", "POST"])
@staff_required
def change_password() -> Any:
    """Change my password (the current one is required); my other sessions end."""
    form = ChangePasswordForm()
    form.user_inputs = _personal_words(current_user)
    if form.validate_on_submit():
        user: StaffUser = current_user._get_current_object()
        # Guessing the current password from a session left open counts like a sign-in.
        key = throttle_key(ThrottleKind.PASSWORD, user, user.email)
        wait = throttle.wait_before_attempt(db.session, key, ThrottleKind.PASSWORD, user.id)
        if wait is not None:
            db.session.commit()
            form.current_password.errors = [wait_message(wait)]
            return render_template("accounts/change_password.html", form=form), 429
        try:
            services.change_password(
                db.session, user, form.current_password.data or "", form.new_password.data or ""
            )
        except services.AccountError as error:
            if isinstance(error, services.WrongPassword):
                throttle.failed(db.session, key)
            db.session.commit()  # keeps the audit of a wrong current password
            form.current_password.errors = [str(error)]
        else:
            throttle.succeeded(db.session, key)
            _tell_owner_password_changed(user, "changed")
            db.session.commit()
            # The token rotated: every other session ended; this one goes on under the new one.
            login_user(user)
            flash(_("Password changed. You are signed out everywhere else."), "success")
            return redirect(url_for("core.staff_home"))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/sign-in/forgot", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def forgot_password() -> Any:
    """'Forgot my password': a reset link by email, with the same answer for any address."""
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("accounts/forgot_password.html", form=form), status
    started = time.monotonic()
    user = services.find_user_by_email(db.session, form.email.data or "")
    lifecycle.request_password_reset(db.session, user)
    db.session.commit()
    # Writing and queueing the email takes time that an unknown address does not: answer
    # no sooner than a floor, so the time taken does not tell which addresses have accounts.
    time.sleep(max(0.0, FORGOT_ANSWER_FLOOR_SECONDS - (time.monotonic() - started)))
    return render_template("accounts/forgot_password_sent.html")


def _personal_words(user: Any) -> list[str]:
    """What a guesser would try first for this person: their email, name, the site's name."""
    return [
        str(user.email or ""),
        str(getattr(user, "display_name", "") or ""),
        str(current_app.config.get("SITE_NAME", "")),
    ]


def _link_gone() -> tuple[str, int]:
    return render_template("accounts/link_gone.html"), 410


def _password_from_link(
    token: str, purpose: LinkPurpose, *, how: str
) -> tuple[Any, AccountLink | None]:
    """What a reset and an invitation share: a live link, a new password that is hard to
    guess, the link claimed once (a double tap loses), the password set. Returns the page to
    answer with and no link, or no page and the claimed link."""
    link = lifecycle.live_link(db.session, token, purpose)
    if link is None:
        return _link_gone(), None
    form = NewPasswordForm()
    form.user_inputs = _personal_words(link.user)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return (render_template("accounts/new_password.html", form=form, link=link), status), None
    if not lifecycle.use_link(db.session, link):
        db.session.rollback()
        return _link_gone(), None
    services.set_password(db.session, link.user, form.new_password.data or "", how=how, by=None)
    return None, link


@bp.route("/sign-in/reset/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def reset_password(token: str) -> Any:
    """Choose a new password from an emailed reset link (once, within 30 minutes)."""
    answer, link = _password_from_link(token, LinkPurpose.PASSWORD_RESET, how="reset")
    if link is None:
        return answer
    user = link.user
    # The person proved they read their email: failures counted against the account no
    # longer hold them back, and this browser becomes one they sign in from.
    throttle.clear_for_user(db.session, user.id, user.email)
    _tell_owner_password_changed(user, "reset")
    if (
        current_app.config["REQUIRE_SECOND_FACTOR"]
        and user.needs_second_factor
        and not user.totp_secret
    ):
        # Someone invited who chose a password but never set up the code app (a closed
        # tab): the reset link proved the email as the invitation did, so set-up goes on
        # here instead of waiting for an administrator.
        return remember_device(_start_enrolment(link), user.id)
    db.session.commit()
    session.clear()
    flash(_("Password changed. Sign in with your new password."), "success")
    return remember_device(redirect(url_for(".sign_in")), user.id)


def _start_enrolment(link: AccountLink) -> Response:
    """This browser, and only this one, may now set up the code app for the link's person."""
    nonce = lifecycle.begin_enrolment(db.session, link)
    lifecycle.enrolment_secret(db.session, link)  # made here: the set-up page's GET writes nothing
    db.session.commit()
    session.clear()
    session[ENROL_SESSION_KEY] = nonce
    return redirect(url_for(".set_up_second_factor"))


@bp.route("/sign-in/welcome/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def welcome(token: str) -> Any:
    """An invitation: the new person chooses their password, then sets up their code app."""
    answer, link = _password_from_link(token, LinkPurpose.INVITE, how="invited")
    if link is None:
        return answer
    user = link.user
    if current_app.config["REQUIRE_SECOND_FACTOR"] and user.needs_second_factor:
        return _start_enrolment(link)
    return complete_sign_in(user, None)


@bp.route("/sign-in/new-code/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def new_second_factor(token: str) -> Any:
    """After an administrator reset the code app: the person's password, then a new app."""
    link = lifecycle.live_link(db.session, token, LinkPurpose.SECOND_FACTOR_RESET)
    if link is None:
        return _link_gone()
    form = PasswordCheckForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("accounts/password_check.html", form=form), status
    user = link.user
    key = throttle_key(ThrottleKind.PASSWORD, user, user.email)
    wait = throttle.wait_before_attempt(db.session, key, ThrottleKind.PASSWORD, user.id)
    if wait is not None:
        db.session.commit()
        form.password.errors = [wait_message(wait)]
        return render_template("accounts/password_check.html", form=form), 429
    if services.check_password(db.session, user.email, form.password.data or "") is None:
        throttle.failed(db.session, key)
        audit.record(
            db.session, audit.AuditAction.SIGN_IN_FAILED, actor=user, detail={"step": "new-code"}
        )
        db.session.commit()
        form.password.errors = [_("That password is not right.")]
        return render_template("accounts/password_check.html", form=form), 401
    throttle.succeeded(db.session, key)
    if not lifecycle.use_link(db.session, link):
        db.session.rollback()
        return _link_gone()
    return _start_enrolment(link)


@bp.route("/sign-in/set-up-code", methods=["GET", "POST"])
@public
@limiter.limit(_sign_in_limit, methods=["POST"])
def set_up_second_factor() -> Any:
    """Link an authenticator app: only in the browser that used an invitation or reset link."""
    link = lifecycle.enrolment_for(db.session, session.get(ENROL_SESSION_KEY))
    if link is None:
        flash(_("Please open the link in your email again."), "info")
        return redirect(url_for(".sign_in"))
    user = link.user
    secret = lifecycle.enrolment_secret(db.session, link)
    form = SecondFactorForm()
    if form.validate_on_submit():
        if services.enrol_second_factor(db.session, user, secret, form.code.data or ""):
            lifecycle.finish_enrolment(db.session, link)
            return complete_sign_in(user, None)
        form.code.errors = [
            _("That code is not right. Check the time on your phone and try again.")
        ]
    uri = services.totp_uri(user, secret, issuer=current_app.config.get("SITE_NAME", "Child Voice"))
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "accounts/set_up_second_factor.html", form=form, qr=qr, secret=secret
    ), status

"""The account lifecycle: change my password, forgot my password, an invitation, and a
reset code app, each by a single-use emailed link, each audited, each ending the person's
other sessions; the code app is set up only inside the invited or reset browser."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
from sqlalchemy import select

from participation.accounts import crypto, services
from participation.accounts.models import AccountLink, Role, SignInThrottle, StaffUser
from participation.audit import AuditAction, AuditEvent
from participation.db import utcnow
from participation.outbox import OutboxEmail
from tests.conftest import post_form

NEW_PASSWORD = "a brand new long password"
_LINK = re.compile(r"http://localhost(/sign-in/[a-z-]+/[A-Za-z0-9_-]+)")


def _emails_to(db_tx, address):
    db_tx.expire_all()
    return list(
        db_tx.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        )
    )


def _link_in(email):
    match = _LINK.search(email.body)
    assert match, email.body
    return match.group(1)


def _without_tokens(response):
    return re.sub(r'value="[^"]*"', 'value=""', response.get_data(as_text=True))


def _actions(db_tx, target=None):
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if target is not None:
        query = query.where(AuditEvent.target_id == target.id)
    return list(db_tx.scalars(query))


def _signed_in_browser(app, user):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["seen_at"] = time.time()
    return browser


# Change my password ------------------------------------------------------------------------


def test_change_my_password_needs_the_current_one(app, client, login_as, db_tx, password):
    user = login_as(Role.PANEL_MEMBER)
    wrong = post_form(
        client,
        "/staff/account/password",
        {
            "current_password": "not my password",
            "new_password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert "current password is not right" in wrong.get_data(as_text=True)
    assert AuditAction.PASSWORD_CHANGE_FAILED in _actions(db_tx)
    db_tx.expire_all()
    assert services.check_password(db_tx, user.email, password) is not None


def test_changing_my_password_ends_my_other_sessions_but_not_this_one(
    app, client, login_as, db_tx, password
):
    user = login_as(Role.PANEL_MEMBER)
    elsewhere = _signed_in_browser(app, user)
    assert elsewhere.get("/staff").status_code == 200
    response = post_form(
        client,
        "/staff/account/password",
        {"current_password": password, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/staff").status_code == 200
    assert elsewhere.get("/staff").status_code == 302
    db_tx.expire_all()
    assert services.check_password(db_tx, user.email, NEW_PASSWORD) is not None
    assert services.check_password(db_tx, user.email, password) is None
    assert AuditAction.PASSWORD_CHANGED in _actions(db_tx, user)
    (told,) = _emails_to(db_tx, user.email)
    assert "password was changed" in told.subject.lower()
    assert "Change my password" in client.get("/staff").get_data(as_text=True)


# Forgot my password -----------------------------------------------------------------------


def test_forgot_password_answers_the_same_whether_or_not_the_account_exists(
    client, post, make_user, db_tx
):
    user = make_user(Role.PANEL_MEMBER)
    known = post("/sign-in/forgot", {"email": user.email.upper()})
    unknown = post("/sign-in/forgot", {"email": "nobody@test.example"})
    assert known.status_code == unknown.status_code == 200
    # The same page, but for the CSRF token of the language form (signed with the time).
    assert _without_tokens(known) == _without_tokens(unknown)
    assert len(_emails_to(db_tx, user.email)) == 1
    assert _emails_to(db_tx, "nobody@test.example") == []
    assert "Forgot your password?" in client.get("/sign-in").get_data(as_text=True)


def test_a_reset_link_works_once_and_ends_every_session(
    app, client, post, make_user, db_tx, password
):
    user = make_user(Role.PANEL_MEMBER)
    signed_in_elsewhere = _signed_in_browser(app, user)
    post("/sign-in/forgot", {"email": user.email})
    (email,) = _emails_to(db_tx, user.email)
    link = _link_in(email)
    assert "/sign-in/reset/" in link
    assert client.get(link).status_code == 200
    response = post(link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    db_tx.expire_all()
    assert services.check_password(db_tx, user.email, NEW_PASSWORD) is not None
    assert signed_in_elsewhere.get("/staff").status_code == 302
    # Single use: the same link again does nothing.
    again = post_form(
        client,
        link,
        {"new_password": "yet another long password", "repeat": "yet another long password"},
        page="/sign-in",
    )
    assert again.status_code == 410
    assert client.get(link).status_code == 410
    db_tx.expire_all()
    assert services.check_password(db_tx, user.email, NEW_PASSWORD) is not None
    actions = _actions(db_tx)
    for action in (
        AuditAction.PASSWORD_RESET_REQUESTED,
        AuditAction.ACCOUNT_LINK_SENT,
        AuditAction.ACCOUNT_LINK_USED,
        AuditAction.PASSWORD_CHANGED,
    ):
        assert action in actions


def test_a_reset_link_is_short_lived_and_only_the_newest_works(client, post, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    post("/sign-in/forgot", {"email": user.email})
    post("/sign-in/forgot", {"email": user.email})
    first, second = (_link_in(e) for e in _emails_to(db_tx, user.email))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    newest = db_tx.scalars(select(AccountLink).order_by(AccountLink.id.desc())).first()
    assert newest.expires_at - newest.created_at == timedelta(minutes=30)
    newest.expires_at = utcnow() - timedelta(seconds=1)  # as if 30 minutes had passed
    db_tx.flush()
    assert client.get(second).status_code == 410


def test_reset_emails_are_capped_so_nobody_floods_a_mailbox(post, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    for _ in range(6):
        assert post("/sign-in/forgot", {"email": user.email}).status_code == 200
    assert len(_emails_to(db_tx, user.email)) == 3


def test_a_reset_lets_the_owner_past_a_strangers_failures(app, post, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    stranger = app.test_client()
    for _ in range(9):
        post_form(stranger, "/sign-in", {"email": user.email, "password": "wrong password!!"})
    owner = app.test_client()
    post_form(owner, "/sign-in/forgot", {"email": user.email})
    link = _link_in(_emails_to(db_tx, user.email)[-1])
    post_form(owner, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert db_tx.scalars(select(SignInThrottle).where(SignInThrottle.failures > 0)).all() == []
    response = post_form(owner, "/sign-in", {"email": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302


# Invitations and setting up the code app -----------------------------------------------------


def _invite(post, db_tx, email, *roles):
    post(
        "/staff/users/new",
        {"email": email, "display_name": "Newcomer", "roles": [r.value for r in roles]},
    )
    user = db_tx.scalar(select(StaffUser).where(StaffUser.email == email))
    return user, _link_in(_emails_to(db_tx, email)[-1])


def test_an_invited_lead_chooses_a_password_and_sets_up_the_code_app_in_that_browser(
    app, client, login_as, db_tx
):
    admin_browser = client
    login_as(Role.ADMIN)
    user, link = _invite(
        lambda path, data: post_form(admin_browser, path, data),
        db_tx,
        "lead@test.example",
        Role.SAFEGUARDING_LEAD,
    )
    assert "/sign-in/welcome/" in link
    newcomer = app.test_client()
    assert newcomer.get(link).status_code == 200
    response = post_form(newcomer, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/sign-in/set-up-code"
    page = newcomer.get("/sign-in/set-up-code").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    # The secret is not in the cookie (signed, but readable by anyone who has it).
    with newcomer.session_transaction() as session:
        assert secret not in repr(dict(session))
    cookie = newcomer.get_cookie("cv_session")
    assert secret not in cookie.value
    # Another browser, even with the password, cannot take over the set-up.
    other = app.test_client()
    assert other.get("/sign-in/set-up-code").headers["Location"] == "/sign-in"
    assert (
        post_form(other, "/sign-in", {"email": user.email, "password": NEW_PASSWORD}).status_code
        == 403
    )
    assert post_form(newcomer, "/sign-in/set-up-code", {"code": "123456"}).status_code == 422
    done = post_form(newcomer, "/sign-in/set-up-code", {"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/staff"
    assert newcomer.get("/staff").status_code == 200
    db_tx.expire_all()
    assert user.totp_secret and secret not in user.totp_secret
    assert crypto.decrypt(user.totp_secret) == secret
    assert AuditAction.SECOND_FACTOR_ENROLLED in _actions(db_tx)
    # The set-up cannot be done twice from the same browser either.
    assert newcomer.get("/sign-in/set-up-code").status_code == 302
    assert newcomer.get(link).status_code == 410


def test_an_invited_panel_member_is_signed_in_after_choosing_a_password(
    app, client, login_as, db_tx
):
    login_as(Role.ADMIN)
    _user, link = _invite(
        lambda path, data: post_form(client, path, data),
        db_tx,
        "cllr@test.example",
        Role.PANEL_MEMBER,
    )
    newcomer = app.test_client()
    response = post_form(newcomer, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/staff"
    assert newcomer.get("/staff").status_code == 200


def test_an_admin_resets_a_lost_code_app(app, client, post, login_as, make_user, db_tx, password):
    admin = login_as(Role.ADMIN)
    worker = make_user(Role.PARTICIPATION_WORKER)
    worker.totp_secret = crypto.encrypt(pyotp.random_base32())
    db_tx.flush()
    on_lost_phone = _signed_in_browser(app, worker)
    assert on_lost_phone.get("/staff").status_code == 200
    response = post(
        f"/staff/users/{worker.id}/reset-second-factor", {}, page=f"/staff/users/{worker.id}"
    )
    assert response.status_code == 302
    db_tx.expire_all()
    assert worker.totp_secret is None
    assert on_lost_phone.get("/staff").status_code == 302
    assert AuditAction.SECOND_FACTOR_RESET in _actions(db_tx, worker)
    link = _link_in(_emails_to(db_tx, worker.email)[-1])
    assert "/sign-in/new-code/" in link
    browser = app.test_client()
    wrong = post_form(browser, link, {"password": "not the password"})
    assert wrong.status_code == 401
    response = post_form(browser, link, {"password": password})
    assert response.headers["Location"] == "/sign-in/set-up-code"
    page = browser.get("/sign-in/set-up-code").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    done = post_form(browser, "/sign-in/set-up-code", {"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/staff"
    # Nobody resets their own code app: another administrator must.
    own = post(f"/staff/users/{admin.id}/reset-second-factor", {}, page=f"/staff/users/{admin.id}")
    assert own.status_code == 302
    assert "Another administrator must reset" in client.get(own.headers["Location"]).get_data(
        as_text=True
    )

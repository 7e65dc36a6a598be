"""Staff sign-in: argon2id, one message for unknown accounts, TOTP with replay refusal,
fresh sessions, idle timeout, rate limits and the audit trail."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from participation.accounts import crypto, services
from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent

WRONG = "The email address or password is not right."


def _sign_in(post, email, password, next_url=""):
    return post("/sign-in", {"email": email, "password": password, "next": next_url})


def _actions(db_tx, user=None):
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if user is not None:
        query = query.where(AuditEvent.actor_id == user.id)
    return [a for a in db_tx.scalars(query)]


def test_passwords_are_hashed_with_argon2id():
    hashed = services.hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert "a long enough password" not in hashed


def test_short_passwords_are_refused():
    with pytest.raises(services.AccountError):
        services.hash_password("short")


def test_panel_member_signs_in_with_password_alone(client, post, make_user, password, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    response = _sign_in(post, user.email, password)
    assert response.status_code == 302 and response.headers["Location"] == "/staff"
    assert "Hello, Test User" in client.get("/staff").get_data(as_text=True)
    assert AuditAction.SIGN_IN in _actions(db_tx, user)


def test_unknown_account_and_wrong_password_get_the_same_answer(post, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    wrong_password = _sign_in(post, user.email, "not the password at all")
    no_account = _sign_in(post, "nobody@test.example", "not the password at all")
    assert wrong_password.status_code == no_account.status_code == 401
    for response in (wrong_password, no_account):
        page = response.get_data(as_text=True)
        assert WRONG in page
        assert "no account" not in page.lower()
    assert _actions(db_tx).count(AuditAction.SIGN_IN_FAILED) == 2


def test_deactivated_account_cannot_sign_in(post, make_user, password, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    user.active = False
    db_tx.flush()
    assert WRONG in _sign_in(post, user.email, password).get_data(as_text=True)


def test_next_redirect_stays_on_this_site(post, make_user, password):
    user = make_user(Role.PANEL_MEMBER)
    response = _sign_in(post, user.email, password, next_url="//evil.example/steal")
    assert response.headers["Location"] == "/staff"


def test_next_redirect_to_a_page_here_is_followed(post, make_user, password):
    user = make_user(Role.PANEL_MEMBER)
    response = _sign_in(post, user.email, password, next_url="/staff/recommendations")
    assert response.headers["Location"] == "/staff/recommendations"


def test_sign_in_starts_a_fresh_session(client, post, make_user, password):
    user = make_user(Role.PANEL_MEMBER)
    client.get("/join")
    with client.session_transaction() as session:
        session["planted"] = "by someone else before sign-in"
    _sign_in(post, user.email, password)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.get_id()


def _worker_with_totp(make_user, db_tx):
    user = make_user(Role.PARTICIPATION_WORKER)
    user.plain_secret = pyotp.random_base32()
    user.totp_secret = crypto.encrypt(user.plain_secret)
    db_tx.flush()
    return user


def test_worker_needs_a_code_after_the_password(client, post, make_user, password, db_tx):
    user = _worker_with_totp(make_user, db_tx)
    response = _sign_in(post, user.email, password)
    assert response.headers["Location"] == "/sign-in/code"
    assert client.get("/staff").status_code == 302  # not signed in yet
    code = pyotp.TOTP(user.plain_secret).now()
    response = post("/sign-in/code", {"code": code})
    assert response.status_code == 302 and response.headers["Location"] == "/staff"
    assert client.get("/staff").status_code == 200


def test_a_replayed_code_is_refused(client, post, make_user, password, db_tx, csrf):
    user = _worker_with_totp(make_user, db_tx)
    code = pyotp.TOTP(user.plain_secret).now()
    _sign_in(post, user.email, password)
    assert post("/sign-in/code", {"code": code}).status_code == 302
    client.post("/sign-out", data={"csrf_token": csrf("/staff")})
    _sign_in(post, user.email, password)
    replay = post("/sign-in/code", {"code": code})
    assert replay.status_code == 401
    assert "already used" in replay.get_data(as_text=True)
    assert client.get("/staff").status_code == 302
    assert AuditAction.SECOND_FACTOR_FAILED in _actions(db_tx, user)


def test_wrong_code_is_refused(client, post, make_user, password, db_tx):
    user = _worker_with_totp(make_user, db_tx)
    _sign_in(post, user.email, password)
    assert post("/sign-in/code", {"code": "000000"}).status_code in (401, 422)
    assert client.get("/staff").status_code == 302


def test_replay_check_accepts_each_time_step_once(make_user, db_tx):
    user = _worker_with_totp(make_user, db_tx)
    now = time.time()
    code = pyotp.TOTP(user.plain_secret).at(now)
    assert services.verify_second_factor(db_tx, user, code, at=now)
    assert not services.verify_second_factor(db_tx, user, code, at=now)
    later = now + 60
    assert services.verify_second_factor(
        db_tx, user, pyotp.TOTP(user.plain_secret).at(later), at=later
    )
    db_tx.expire_all()
    assert user.totp_last_step == int(later // 30)


def test_a_password_alone_does_not_set_up_the_code_app(client, post, make_user, password, db_tx):
    # Whoever knows the password must not be the one who chooses the authenticator: the
    # code app is set up only from an emailed invitation or reset link.
    user = make_user(Role.SAFEGUARDING_LEAD)
    response = _sign_in(post, user.email, password)
    assert response.status_code == 403
    assert "set up from a link we email you" in response.get_data(as_text=True)
    assert client.get("/sign-in/set-up-code").headers["Location"] == "/sign-in"
    assert client.get("/staff").status_code == 302
    db_tx.refresh(user)
    assert user.totp_secret is None


def test_totp_secrets_are_stored_encrypted(make_user, db_tx):
    user = _worker_with_totp(make_user, db_tx)
    stored = db_tx.scalar(select(type(user).totp_secret).where(type(user).id == user.id))
    assert user.plain_secret not in stored
    assert services.totp_secret_of(user) == user.plain_secret


def test_code_step_expires(client, post, make_user, password, db_tx):
    user = _worker_with_totp(make_user, db_tx)
    _sign_in(post, user.email, password)
    with client.session_transaction() as session:
        session["pending_at"] = time.time() - 3600
    response = post("/sign-in/code", {"code": pyotp.TOTP(user.plain_secret).now()}, page="/join")
    assert response.headers["Location"] == "/sign-in"


def test_idle_staff_are_signed_out(client, login_as, db_tx):
    user = login_as(Role.PANEL_MEMBER)
    assert client.get("/staff").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 31 * 60
    response = client.get("/staff")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "without activity" in page
    assert client.get("/staff").status_code == 302
    assert AuditAction.IDLE_TIMEOUT in _actions(db_tx, user)


def test_sign_out_ends_the_session_everywhere(app, client, login_as, csrf, db_tx):
    user = login_as(Role.PANEL_MEMBER)
    other_device = app.test_client()
    with other_device.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["seen_at"] = time.time()
    assert other_device.get("/staff").status_code == 200
    response = client.post("/sign-out", data={"csrf_token": csrf("/staff")})
    assert response.status_code == 302
    assert client.get("/staff").status_code == 302
    assert other_device.get("/staff").status_code == 302
    assert AuditAction.SIGN_OUT in _actions(db_tx, user)


def test_sign_in_attempts_are_limited_the_same_way_for_any_account(
    app, post, make_user, rate_limits, monkeypatch
):
    # Lift the per-address limit so that the per-account limit is what is measured.
    monkeypatch.setitem(app.config, "SIGN_IN_RATE_LIMIT", "100 per minute")
    user = make_user(Role.PANEL_MEMBER)
    statuses = {}
    for email in (user.email, "nobody@test.example"):
        answers = [_sign_in(post, email, "wrong password here").status_code for _ in range(9)]
        statuses[email] = answers
    assert statuses[user.email] == statuses["nobody@test.example"]
    assert statuses[user.email][:8] == [401] * 8
    assert statuses[user.email][8] == 429


def test_too_many_attempts_page_is_clear(post, make_user, rate_limits):
    for _ in range(11):
        response = _sign_in(post, "someone@test.example", "wrong password here")
    assert response.status_code == 429
    assert "Too many tries" in response.get_data(as_text=True)


def test_a_secret_stored_in_the_clear_works_once_and_is_then_encrypted(
    client, post, make_user, password, db_tx
):
    # Written by a process of the previous release during a rolling upgrade.
    user = make_user(Role.PARTICIPATION_WORKER)
    plain = pyotp.random_base32()
    user.totp_secret = plain
    db_tx.flush()
    _sign_in(post, user.email, password)
    assert post("/sign-in/code", {"code": pyotp.TOTP(plain).now()}).status_code == 302
    db_tx.expire_all()
    assert user.totp_secret != plain and crypto.decrypt(user.totp_secret) == plain

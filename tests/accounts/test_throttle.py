"""Failed sign-ins are counted per normalised identity, slow a guesser down, and cannot
lock the owner out: their own browser has its own budget, a new one meets a growing delay,
and an administrator sees and clears the failures. The code step works the same way."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from participation.accounts import crypto, throttle
from participation.accounts.models import Role, SignInThrottle, ThrottleKind
from participation.audit import AuditAction, AuditEvent
from participation.db import utcnow
from tests.conftest import post_form

WRONG = "The email address or password is not right."


@pytest.fixture(autouse=True)
def _no_address_limit(app, monkeypatch):
    # The per-address limit (Flask-Limiter) is off in tests; these are about the account.
    monkeypatch.setitem(app.config, "SIGN_IN_PER_ACCOUNT_LIMIT", "8 per 15 minutes")


def _sign_in(browser, email, password):
    return post_form(browser, "/sign-in", {"email": email, "password": password, "next": ""})


def _rows(db_tx):
    db_tx.expire_all()
    return list(
        db_tx.scalars(
            select(SignInThrottle).where(SignInThrottle.failures > 0).order_by(SignInThrottle.key)
        )
    )


def _let_time_pass(db_tx):
    """As if the delay had run out (rather than sleeping in a test)."""
    db_tx.execute(
        update(SignInThrottle)
        .where(SignInThrottle.next_attempt_at.is_not(None))
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db_tx.flush()


@pytest.mark.parametrize(
    "variant",
    [
        "resp@south.example",
        "RESP@South.Example",
        "re\x00sp@south.example",
        "  resp@south.example\t",
        "\uff52\uff45\uff53\uff50@south.example",  # fullwidth letters
        "re\u200bsp@south.example",  # a zero-width space
        "re\u00adsp@south.example",  # a soft hyphen
    ],
)
def test_every_spelling_of_an_address_spends_the_same_budget(
    app, make_user, password, db_tx, variant
):
    make_user(Role.PANEL_MEMBER, email="resp@south.example")
    guesser = app.test_client()
    for _ in range(8):
        assert _sign_in(guesser, "resp@south.example", "a wrong password!").status_code == 401
    # A new spelling is no fresh budget, and the right password is not even checked.
    refused = _sign_in(guesser, variant, password)
    assert refused.status_code == 429
    assert "Too many tries for this account" in refused.get_data(as_text=True)
    assert guesser.get("/staff").status_code == 302
    assert [r.key for r in _rows(db_tx)] == ["password:resp@south.example"]


def test_the_owners_own_browser_signs_in_while_a_stranger_is_held_back(
    app, make_user, password, db_tx, csrf
):
    user = make_user(Role.PANEL_MEMBER)
    owner = app.test_client()
    assert _sign_in(owner, user.email, password).status_code == 302
    post_form(owner, "/sign-out", {}, page="/staff")
    stranger = app.test_client()
    answers = [_sign_in(stranger, user.email, "a wrong password!").status_code for _ in range(10)]
    assert answers == [401] * 8 + [429, 429]
    # The owner is not locked out: their browser has signed in to this account before.
    assert _sign_in(owner, user.email, password).status_code == 302
    assert owner.get("/staff").status_code == 200
    # ...and the stranger is still held back.
    assert _sign_in(stranger, user.email, password).status_code == 429


def test_a_new_browser_meets_a_growing_delay_not_a_flat_refusal(app, make_user, password, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    browser = app.test_client()
    for _ in range(8):
        _sign_in(browser, user.email, "a wrong password!")
    (row,) = _rows(db_tx)
    first_delay = row.next_attempt_at - row.last_failure_at
    assert first_delay == timedelta(seconds=30)
    assert "Try again in 30 seconds" in _sign_in(browser, user.email, password).get_data(
        as_text=True
    )
    # Tries made during the delay are not checked and do not lengthen it.
    (same,) = _rows(db_tx)
    assert same.failures == 8 and same.next_attempt_at == row.next_attempt_at
    _let_time_pass(db_tx)
    assert _sign_in(browser, user.email, "a wrong password!").status_code == 401
    (row,) = _rows(db_tx)
    assert row.next_attempt_at - row.last_failure_at == timedelta(seconds=60)
    _let_time_pass(db_tx)
    # Once the delay has passed, the right password signs in and the failures are forgotten.
    assert _sign_in(browser, user.email, password).status_code == 302
    assert _rows(db_tx) == []


def test_the_delay_grows_to_the_limits_window_and_no_further():
    policy = throttle.Policy(free_failures=8, max_delay=timedelta(minutes=15))
    delays = [policy.delay_after(n) for n in range(7, 16)]
    assert delays[0] == timedelta(0)
    assert delays[1:6] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert delays[6:] == [timedelta(minutes=15)] * 3
    assert policy.delay_after(10_000) == timedelta(minutes=15)


def test_an_unknown_address_is_held_back_exactly_like_a_real_one(app, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    answers = {}
    for email in (user.email, "nobody@test.example"):
        browser = app.test_client()
        answers[email] = [
            (r.status_code, WRONG in r.get_data(as_text=True))
            for r in (_sign_in(browser, email, "a wrong password!") for _ in range(10))
        ]
    assert answers[user.email] == answers["nobody@test.example"]


def test_an_administrator_sees_and_clears_the_failures(
    app, client, post, login_as, make_user, password, db_tx
):
    admin = login_as(Role.ADMIN)
    user = make_user(Role.PANEL_MEMBER)
    stranger = app.test_client()
    for _ in range(9):
        _sign_in(stranger, user.email, "a wrong password!")
    assert "failed sign-ins" in client.get("/staff/users").get_data(as_text=True)
    page = client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert 'id="sign-in-failures"' in page and "<td>8</td>" in page
    response = post(
        f"/staff/users/{user.id}/clear-sign-in-delay", {}, page=f"/staff/users/{user.id}"
    )
    assert response.status_code == 302
    assert _rows(db_tx) == []
    event = db_tx.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SIGN_IN_LOCK_CLEARED)
    )
    assert event.actor_id == admin.id and event.target_id == user.id
    assert _sign_in(app.test_client(), user.email, password).status_code == 302


def _worker_with_code(make_user, db_tx):
    user = make_user(Role.PARTICIPATION_WORKER)
    user.plain_secret = pyotp.random_base32()
    user.totp_secret = crypto.encrypt(user.plain_secret)
    db_tx.flush()
    return user


def _wrong_code(secret):
    right = {pyotp.TOTP(secret).at(utcnow().timestamp() + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def test_the_code_step_has_the_same_slower_path_and_the_owners_browser_is_spared(
    app, client, post, login_as, make_user, password, db_tx
):
    user = _worker_with_code(make_user, db_tx)
    wrong = _wrong_code(user.plain_secret)
    owner = app.test_client()
    _sign_in(owner, user.email, password)
    assert (
        post_form(owner, "/sign-in/code", {"code": pyotp.TOTP(user.plain_secret).now()}).status_code
        == 302
    )
    post_form(owner, "/sign-out", {}, page="/staff")
    # Someone with the password but not the phone guesses codes from elsewhere.
    other = app.test_client()
    answers = []
    for _ in range(9):
        assert _sign_in(other, user.email, password).status_code == 302
        answers.append(post_form(other, "/sign-in/code", {"code": wrong}).status_code)
    assert answers == [401] * 8 + [429]
    assert "Too many wrong codes" in post_form(other, "/sign-in/code", {"code": wrong}).get_data(
        as_text=True
    )
    # The owner's browser has its own budget: the next fresh code signs them in.
    db_tx.execute(update(type(user)).where(type(user).id == user.id).values(totp_last_step=None))
    db_tx.flush()
    _sign_in(owner, user.email, password)
    later = pyotp.TOTP(user.plain_secret).now()
    assert post_form(owner, "/sign-in/code", {"code": later}).status_code == 302
    # An administrator sees the code failures and clears them.
    login_as(Role.ADMIN)
    assert "<td>8</td>" in client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    post(f"/staff/users/{user.id}/clear-sign-in-delay", {}, page=f"/staff/users/{user.id}")
    assert _rows(db_tx) == []


def test_failures_are_forgotten_a_day_later(app, make_user, password, db_tx):
    db_tx.add(
        SignInThrottle(
            key="password:made-up@nowhere.example",
            kind=ThrottleKind.PASSWORD,
            failures=30,
            last_failure_at=utcnow() - timedelta(days=2),
            next_attempt_at=utcnow() - timedelta(days=2) + timedelta(minutes=15),
        )
    )
    db_tx.flush()
    user = make_user(Role.PANEL_MEMBER)
    _sign_in(app.test_client(), user.email, "a wrong password!")
    assert [r.key for r in _rows(db_tx)] == [f"password:{user.email}"]

"""What an outside tester found in the account lifecycle, each as a user would meet it."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from participation.accounts import crypto, services
from participation.accounts.models import Role, StaffUser
from tests.accounts.test_lifecycle import (
    NEW_PASSWORD,
    _emails_to,
    _invite,
    _link_in,
    _signed_in_browser,
)
from tests.conftest import post_form


def test_a_reset_link_sent_before_a_password_change_stops_working(
    app, client, post, make_user, db_tx, password
):
    user = make_user(Role.SERVICE_RESPONDER)
    post("/sign-in/forgot", {"email": user.email})
    old_link = _link_in(_emails_to(db_tx, user.email)[-1])
    owner = _signed_in_browser(app, user)
    changed = post_form(
        owner,
        "/staff/account/password",
        {"current_password": password, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    # Whoever holds the old email cannot set the password back.
    assert client.get(old_link).status_code == 410
    retry = post_form(
        client,
        old_link,
        {
            "new_password": "an attacker's long passphrase",
            "repeat": "an attacker's long passphrase",
        },
        page="/sign-in",
    )
    assert retry.status_code == 410
    db_tx.expire_all()
    assert services.check_password(db_tx, user.email, NEW_PASSWORD) is not None


def test_an_invitation_stops_working_once_a_reset_has_set_the_password(
    app, client, login_as, db_tx
):
    login_as(Role.ADMIN)
    user, invitation = _invite(
        lambda path, data: post_form(client, path, data),
        db_tx,
        "new@test.example",
        Role.PANEL_MEMBER,
    )
    stranger = app.test_client()
    post_form(stranger, "/sign-in/forgot", {"email": user.email})
    reset = _link_in(_emails_to(db_tx, user.email)[-1])
    post_form(stranger, reset, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert app.test_client().get(invitation).status_code == 410


def test_easy_to_guess_passwords_are_refused_with_a_way_forward(app, client, login_as, db_tx):
    login_as(Role.ADMIN)
    _user, link = _invite(
        lambda path, data: post_form(client, path, data),
        db_tx,
        "hana.housing@test.example",
        Role.PANEL_MEMBER,
    )
    newcomer = app.test_client()
    for weak in ("aaaaaaaaaaaa", "Password1234", "123456789012", "qwertyuiopas", "hanahousing12"):
        response = post_form(newcomer, link, {"new_password": weak, "repeat": weak})
        assert response.status_code == 422, weak
        assert "easy to guess" in response.get_data(as_text=True)
    # The link is still good after the refusals: nothing was used up.
    good = post_form(newcomer, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert good.status_code == 302


def test_someone_who_closed_the_tab_before_the_code_app_finishes_from_a_reset_link(
    app, client, login_as, db_tx
):
    login_as(Role.ADMIN)
    user, link = _invite(
        lambda path, data: post_form(client, path, data),
        db_tx,
        "lead2@test.example",
        Role.SAFEGUARDING_LEAD,
    )
    first_tab = app.test_client()
    post_form(first_tab, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    # The tab is closed before the code app is set up; a new browser.
    browser = app.test_client()
    assert (
        post_form(browser, "/sign-in", {"email": user.email, "password": NEW_PASSWORD}).status_code
        == 403
    )
    post_form(browser, "/sign-in/forgot", {"email": user.email})
    reset = _link_in(_emails_to(db_tx, user.email)[-1])
    chosen = "my second long passphrase here"
    response = post_form(browser, reset, {"new_password": chosen, "repeat": chosen})
    assert response.headers["Location"] == "/sign-in/set-up-code"
    page = browser.get("/sign-in/set-up-code").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    done = post_form(browser, "/sign-in/set-up-code", {"code": pyotp.TOTP(secret).now()})
    assert done.headers["Location"] == "/staff"
    assert browser.get("/staff").status_code == 200


def test_a_reset_link_does_not_replace_a_code_app_someone_already_has(
    app, client, post, make_user, db_tx
):
    user = make_user(Role.SAFEGUARDING_LEAD)
    user.totp_secret = crypto.encrypt(pyotp.random_base32())
    db_tx.flush()
    browser = app.test_client()
    post_form(browser, "/sign-in/forgot", {"email": user.email})
    reset = _link_in(_emails_to(db_tx, user.email)[-1])
    response = post_form(browser, reset, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/sign-in"


def test_the_role_checkboxes_are_not_each_marked_required(client, login_as):
    login_as(Role.ADMIN)
    page = client.get("/staff/users/new").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    assert boxes and not any("required" in box for box in boxes)
    refused = post_form(
        client, "/staff/users/new", {"email": "x@test.example", "display_name": "X", "roles": []}
    )
    assert refused.status_code == 422
    assert "Choose at least one role" in refused.get_data(as_text=True)


def test_the_outbox_show_command_prints_the_newest_emails_whole(app, post, make_user, db_tx):
    user = make_user(Role.PANEL_MEMBER)
    post("/sign-in/forgot", {"email": user.email})
    db_tx.flush()
    result = app.test_cli_runner().invoke(
        args=["outbox", "show", "--last", "2", "--to", user.email.upper()]
    )
    assert result.exit_code == 0, result.output
    assert f"To: {user.email}" in result.output
    assert "/sign-in/reset/" in result.output
    assert db_tx.scalar(select(StaffUser).where(StaffUser.email == user.email)) is not None

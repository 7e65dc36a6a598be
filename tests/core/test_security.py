"""CSRF, headers, cookies, redirects and error pages."""

from __future__ import annotations

import re

import pytest

from participation.accounts.models import Role
from participation.security import CONTENT_SECURITY_POLICY, safe_next


def test_a_post_without_a_csrf_token_is_refused(client, make_user, password):
    user = make_user(Role.PANEL_MEMBER)
    response = client.post("/sign-in", data={"email": user.email, "password": password})
    assert response.status_code == 400
    assert "Please go back, reload the page and try again" in response.get_data(as_text=True)
    assert client.get("/staff").status_code == 302


def test_a_token_from_another_session_is_refused(app, client, make_user, password):
    user = make_user(Role.PANEL_MEMBER)
    other = app.test_client()
    page = other.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/sign-in", data={"email": user.email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 400


def test_security_headers_forbid_inline_script_and_other_origins(client):
    response = client.get("/join")
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_third_party_assets(app, client):
    # The one address elsewhere is the quick exit's plain link: a link, not an asset, so
    # the browser fetches nothing from it unless the child taps it.
    exit_link = f'href="{app.config["QUICK_EXIT_URL"]}"'
    for path in ("/", "/join", "/sign-in"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "onclick" not in page and "style=" not in page
        assert not re.search(r'(?:src|srcset|action)="(?:https?:)?//', page)
        assert not re.search(r'<link[^>]+href="(?:https?:)?//', page)
        rest = page.replace(exit_link, "").replace("http://localhost", "")
        assert "https://" not in rest and "http://" not in rest


def test_cookies_are_secure_httponly_and_samesite(app, client, post, group, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = post("/join", {"code": group.current_join_code.display})
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "joining sets the child's cookie"
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_default_configuration_is_safe():
    from participation.config import APP_CONSTANTS, Settings

    defaults = Settings()
    assert defaults.SESSION_COOKIE_SECURE and APP_CONSTANTS["SESSION_COOKIE_HTTPONLY"]
    assert APP_CONSTANTS["WTF_CSRF_ENABLED"] and defaults.REQUIRE_SECOND_FACTOR
    assert defaults.SECRET_KEY is None  # never hard-coded


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/staff/groups", "/staff/groups"),
        ("/staff?x=1", "/staff?x=1"),
        ("//evil.example", "/fallback"),
        ("https://evil.example/x", "/fallback"),
        ("/\\evil.example", "/fallback"),
        ("javascript:alert(1)", "/fallback"),
        ("staff", "/fallback"),
        ("/sta\nff", "/fallback"),
        ("", "/fallback"),
        (None, "/fallback"),
    ],
)
def test_next_targets_stay_on_this_site(target, expected):
    assert safe_next(target, "/fallback") == expected


def test_language_choice_does_not_redirect_off_site(client, csrf):
    response = client.post(
        "/language", data={"language": "ar", "next": "https://evil.example/", "csrf_token": csrf()}
    )
    assert response.headers["Location"] == "/"


def test_not_found_page_is_plain(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page and "Traceback" not in page


def test_server_error_page_leaks_nothing(client, monkeypatch):
    def explode():
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr("participation.views.current_participant", explode)
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in page
    assert "secret internal detail" not in page and "Traceback" not in page


def test_forbidden_page_is_plain(client, login_as):
    login_as(Role.PANEL_MEMBER)
    response = client.get("/staff/users")
    assert response.status_code == 403
    assert "You cannot open this page" in response.get_data(as_text=True)


def test_health_check_reports_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


# The absolute staff session lifetime -------------------------------------------------------


def test_a_staff_session_ends_a_fixed_time_after_sign_in_however_active(client, login_as):
    import time

    login_as(Role.PANEL_MEMBER)
    started = time.time() - (8 * 3600 - 60)  # signed in 7 h 59 min ago, active all along
    with client.session_transaction() as session:
        session["signed_in_at"] = started
    assert client.get("/staff").status_code == 200
    with client.session_transaction() as session:
        assert session["signed_in_at"] == started  # activity does not slide it
        session["signed_in_at"] = started - 120
        session["seen_at"] = time.time()  # not idle at all
    response = client.get("/staff")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "signed in for a long time" in page
    assert client.get("/staff").status_code == 302


def test_signing_in_starts_the_clock(client, post, make_user, password):
    import time

    user = make_user(Role.PANEL_MEMBER)
    before = time.time()
    post("/sign-in", {"email": user.email, "password": password})
    with client.session_transaction() as session:
        assert before <= session["signed_in_at"] <= time.time()


# Join codes: one limit for every route that checks one ------------------------------------


def test_every_route_that_checks_a_join_code_shares_one_limit(client, post, group, rate_limits):
    misses = [client.get("/j/AAAA-AAAA").status_code for _ in range(5)]
    misses += [post("/join", {"code": "AAAA-AAAA"}).status_code for _ in range(5)]
    assert misses == [404] * 10
    # The budget (10 a minute) is spent across both routes: neither has a fresh one.
    assert client.get("/j/CCCC-CCCC").status_code == 429
    assert post("/join", {"code": "CCCC-CCCC"}).status_code == 429
    # Even the right code is not tested for this address until the minute is over.
    assert client.get(f"/j/{group.current_join_code.code}").status_code == 429


def test_a_right_join_link_is_not_counted(client, group, rate_limits):
    for _ in range(15):
        assert client.get(f"/j/{group.current_join_code.code}").status_code == 200


def test_join_codes_stay_unguessable_against_the_limit():
    from limits import parse_many

    from participation.config import Settings
    from participation.councils.services import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH

    codes = len(JOIN_CODE_ALPHABET) ** JOIN_CODE_LENGTH
    per_hour = min(
        item.amount * 3600 / item.get_expiry() for item in parse_many(Settings().JOIN_RATE_LIMIT)
    )
    live_codes = 1_000
    hours_for_one_address = codes / live_codes / per_hour
    assert codes > 1.5e11 and per_hour == 60
    assert hours_for_one_address > 2.5e6  # about 290 years, as the README says
    assert hours_for_one_address / 10_000 / 24 > 10  # 10,000 addresses: more than 10 days


# Several processes without shared rate-limit storage ---------------------------------------


def _production_app(tmp_path, **overrides):
    from flask import Flask

    from participation.config import load_config

    flask_app = Flask("storage_check", instance_path=str(tmp_path))
    load_config(
        flask_app,
        {
            "SECRET_KEY": "x" * 32,
            "DATABASE_URL": "sqlite://",
            "PUBLIC_BASE_URL": "https://voice.example.gov.uk",
            **overrides,
        },
    )
    return flask_app


def test_production_without_shared_rate_limit_storage_does_not_start(tmp_path):
    from participation.config import ConfigError
    from participation.security import register_rate_limit_storage_check

    with pytest.raises(ConfigError, match="PARTICIPATION_REDIS_URL is not set"):
        register_rate_limit_storage_check(_production_app(tmp_path))
    # With Redis, or in demo mode, it starts.
    register_rate_limit_storage_check(_production_app(tmp_path, REDIS_URL="redis://r:6379/0"))
    register_rate_limit_storage_check(_production_app(tmp_path, DEMO=True))


def test_one_declared_process_refuses_a_second_on_the_same_machine(tmp_path):
    import subprocess
    import sys

    from participation.security import register_rate_limit_storage_check

    flask_app = _production_app(tmp_path, SINGLE_PROCESS=True)
    flask_app.add_url_rule("/ping", "ping", lambda: "pong")
    register_rate_limit_storage_check(flask_app)
    holder = subprocess.Popen(  # another serving process, holding the machine's lock
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            f"h = open({str(tmp_path / 'single-process.lock')!r}, 'a')\n"
            "fcntl.flock(h, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert (
            flask_app.test_client()
            .get("/ping", base_url="https://voice.example.gov.uk")
            .status_code
            == 503
        )
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert (
        flask_app.test_client().get("/ping", base_url="https://voice.example.gov.uk").status_code
        == 200
    )
    from participation import security

    assert security._single_process_lock is not None
    security._single_process_lock.close()  # this test process serves nothing else
    security._single_process_lock = security._lock_owner_pid = None


def test_administrators_are_warned_when_limits_are_counted_per_process(client, login_as):
    login_as(Role.ADMIN)
    page = client.get("/staff").get_data(as_text=True)
    assert 'id="per-process-rate-limits"' in page
    assert "PARTICIPATION_REDIS_URL" in page


# Files at rest ---------------------------------------------------------------------------------


def test_the_instance_folder_is_owner_only(tmp_path):
    from participation.config import make_instance_dir, secret_key_for

    fresh = tmp_path / "instance"
    secret_key_for(fresh)
    assert fresh.stat().st_mode & 0o777 == 0o700
    assert (fresh / "secret_key").stat().st_mode & 0o777 == 0o600
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    make_instance_dir(loose)
    assert loose.stat().st_mode & 0o777 == 0o700


def test_the_sqlite_file_and_its_journal_are_owner_only(tmp_path):
    from sqlalchemy import text

    from participation.db import make_engine

    path = tmp_path / "private" / "participation.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE words (t TEXT)"))
        connection.execute(text("INSERT INTO words VALUES ('a child''s words')"))
        for candidate in (path, path.with_name(path.name + "-wal")):
            assert candidate.stat().st_mode & 0o777 == 0o600, candidate
    engine.dispose()
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.chmod(0o644)  # made by someone else, world-readable: tightened on next start
    make_engine(f"sqlite:///{path}").dispose()
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_session_cookie_expiry_does_not_slide_with_activity(client, post, make_user, password):
    from email.utils import parsedate_to_datetime

    user = make_user(Role.PANEL_MEMBER)
    signed_in = post("/sign-in", {"email": user.email, "password": password})

    def expiry(response):
        cookie = next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("cv_session=")
        )
        return parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])

    first = expiry(signed_in)
    with client.session_transaction() as session:
        started = session["signed_in_at"]
    later = client.get("/staff")
    assert later.status_code == 200
    assert expiry(later) == first
    assert abs(first.timestamp() - (started + 8 * 3600)) < 2

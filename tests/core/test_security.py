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

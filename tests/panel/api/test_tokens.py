"""API tokens: created and revoked by administrators, checked on every API call."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.api import services
from panel.api.models import ApiToken
from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.db import utcnow

TOKEN_RE = re.compile(r'id="new-token"[^>]*value="(cvp_[A-Za-z0-9_\-]+)"')


def _token_row(db_tx, prefix):
    db_tx.expire_all()
    return db_tx.scalar(select(ApiToken).where(ApiToken.prefix == prefix))


def test_an_admin_creates_a_token_sees_it_once_and_only_its_hash_is_kept(
    client, login_as, post, db_tx
):
    admin = login_as(Role.ADMIN)
    response = post("/staff/api-tokens", {"name": "  Power BI   panel report "})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = TOKEN_RE.search(page).group(1)
    assert "This is the only time it is shown" in page
    assert len(text) > 40 and text.startswith("cvp_")
    assert response.headers["Cache-Control"] == "no-store"

    row = _token_row(db_tx, text[:12])
    assert row.name == "Power BI panel report" and row.council_id == admin.council_id
    assert row.token_hash == hashlib.sha256(text.encode()).hexdigest()
    assert row.created_by_id == admin.id and row.revoked_at is None
    stored = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert not any(text in value for value in stored)

    listing = client.get("/staff/api-tokens").get_data(as_text=True)
    assert "Power BI panel report" in listing and text[:12] in listing
    assert text not in listing  # shown once, never again
    event = db_tx.scalar(select(AuditEvent).where(AuditEvent.target_id == row.id))
    assert event.action is AuditAction.API_TOKEN_CREATED and event.actor_id == admin.id
    assert text not in str(event.detail)


def test_a_token_needs_a_name(client, login_as, post, db_tx):
    login_as(Role.ADMIN)
    response = post("/staff/api-tokens", {"name": "   "}, page="/staff/api-tokens")
    assert response.status_code == 422
    assert 'class="error-summary"' in response.get_data(as_text=True)
    assert db_tx.scalar(select(ApiToken)) is None


def test_a_name_of_only_control_characters_is_refused_clearly(client, login_as, post, db_tx):
    login_as(Role.ADMIN)
    response = post("/staff/api-tokens", {"name": "\x00\x01\x00"})
    assert response.status_code == 422
    assert "Give the token a name." in response.get_data(as_text=True)


def test_revoking_a_token_stops_it_at_once(client, login_as, post, db_tx, council, api_get):
    admin = login_as(Role.ADMIN)
    token, text = services.create_token(db_tx, council, "Tableau", by=admin)
    assert api_get("/api/v1/indicators", text).status_code == 200
    page = client.get("/staff/api-tokens").get_data(as_text=True)
    assert f"/staff/api-tokens/{token.id}/revoke" in page
    response = post(f"/staff/api-tokens/{token.id}/revoke", {}, page="/staff/api-tokens")
    assert response.status_code == 302
    assert "revoked" in client.get("/staff/api-tokens").get_data(as_text=True)
    db_tx.expire_all()
    assert db_tx.get(ApiToken, token.id).revoked_at is not None
    refused = api_get("/api/v1/indicators", text)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    actions = db_tx.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "api_token")
    ).all()
    assert AuditAction.API_TOKEN_REVOKED in actions
    again = post(f"/staff/api-tokens/{token.id}/revoke", {}, page="/staff/api-tokens")
    assert again.status_code == 302  # already revoked: said so, nothing changes
    assert len(db_tx.scalars(select(AuditEvent).where(AuditEvent.target_id == token.id)).all()) == 2


def test_revoke_needs_the_forms_token(client, login_as, db_tx, council):
    admin = login_as(Role.ADMIN)
    token, _text = services.create_token(db_tx, council, "Tableau", by=admin)
    assert client.post(f"/staff/api-tokens/{token.id}/revoke").status_code == 400
    db_tx.expire_all()
    assert db_tx.get(ApiToken, token.id).revoked_at is None


def test_an_admin_cannot_see_or_revoke_another_councils_token(
    client, login_as, post, db_tx, other_council, make_user
):
    stranger = make_user(Role.ADMIN, council_id=other_council.id)
    theirs, _text = services.create_token(db_tx, other_council, "Their report", by=stranger)
    login_as(Role.ADMIN)
    assert "Their report" not in client.get("/staff/api-tokens").get_data(as_text=True)
    response = post(f"/staff/api-tokens/{theirs.id}/revoke", {}, page="/staff/api-tokens")
    assert response.status_code == 404
    db_tx.expire_all()
    assert db_tx.get(ApiToken, theirs.id).revoked_at is None


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_manage_tokens(client, login_as, role):
    login_as(role)
    assert client.get("/staff/api-tokens").status_code == 403
    assert "/staff/api-tokens" not in client.get("/staff").get_data(as_text=True)


def test_the_staff_home_links_admins_to_the_tokens(client, login_as):
    login_as(Role.ADMIN)
    assert "/staff/api-tokens" in client.get("/staff").get_data(as_text=True)


def test_token_for_finds_active_tokens_only(db_tx, council, make_user):
    admin = make_user(Role.ADMIN)
    token, text = services.create_token(db_tx, council, "BI", by=admin)
    assert services.token_for(db_tx, text) is token
    assert services.token_for(db_tx, text + "x") is None
    assert services.token_for(db_tx, "") is None
    assert services.token_for(db_tx, None) is None
    assert services.token_for(db_tx, "x" * 10_000) is None
    assert services.revoke_token(db_tx, token, by=admin) is True
    assert services.revoke_token(db_tx, token, by=admin) is False
    assert services.token_for(db_tx, text) is None


def test_each_token_is_new(db_tx, council, make_user):
    admin = make_user(Role.ADMIN)
    texts = {services.create_token(db_tx, council, "BI", by=admin)[1] for _ in range(5)}
    assert len(texts) == 5


def test_last_used_is_written_at_most_once_a_minute(db_tx, council, token_for, api_get):
    text = token_for(council)
    assert _token_row(db_tx, text[:12]).last_used_at is None
    assert api_get("/api/v1/cards", text).status_code == 200
    first = _token_row(db_tx, text[:12]).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    assert api_get("/api/v1/cards", text).status_code == 200
    assert _token_row(db_tx, text[:12]).last_used_at == first  # no write within the minute

    row = _token_row(db_tx, text[:12])
    row.last_used_at = utcnow() - timedelta(minutes=5)
    db_tx.flush()
    assert api_get("/api/v1/cards", text).status_code == 200
    assert utcnow() - _token_row(db_tx, text[:12]).last_used_at < timedelta(seconds=30)


# Authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer cvp_not-a-real-token",
        "Bearer cvp_a cvp_b",
        "Token cvp_abc",
        "Bearer \u00e9\u00e9\u00e9",
        "Bearer " + "a" * 5000,
    ],
)
def test_a_call_without_a_good_token_is_refused(client, answered, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/indicators", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"
    assert "feel safe" not in response.get_data(as_text=True)


def test_the_bearer_scheme_is_case_insensitive(client, council, token_for):
    text = token_for(council)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = client.get("/api/v1/cards", headers={"Authorization": f"{scheme} {text}"})
        assert response.status_code == 200, scheme


@pytest.mark.parametrize("role", [*Role])
def test_a_staff_session_cookie_does_not_open_the_api(client, login_as, answered, role):
    login_as(role)
    for path in ("/api/v1/indicators", "/api/v1/cards", "/api/v1/indicators/feel_safe"):
        response = client.get(path)
        assert response.status_code == 401, (path, role)
        assert response.mimetype == "application/json"
        assert "Set-Cookie" not in response.headers  # the staff session is not even read


def test_a_token_works_alongside_a_session_of_another_council(
    client, login_as, answered, council, other_council, token_for, api_get
):
    login_as(Role.ADMIN, council_id=other_council.id)
    body = api_get("/api/v1/indicators", token_for(council)).get_json()
    assert body["council"]["name"] == council.name  # the token, not the cookie, decides


def test_calls_are_rate_limited_per_token(
    app, rate_limits, monkeypatch, council, token_for, api_get
):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    first, second = token_for(council, "first"), token_for(council, "second")
    paths = ["/api/v1/indicators", "/api/v1/cards", "/api/v1/evidence"]
    assert [api_get(p, first).status_code for p in paths] == [200, 200, 200]
    refused = api_get("/api/v1/response-rates", first)  # one budget across endpoints
    assert refused.status_code == 429
    assert refused.mimetype == "application/json"
    assert refused.get_json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    assert api_get("/api/v1/indicators", second).status_code == 200

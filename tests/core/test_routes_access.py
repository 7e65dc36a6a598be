"""Every route, every role: walks app.url_map so that new routes are covered automatically."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from participation.access import Audience, rule_for
from participation.accounts.models import Role
from participation.db import Base

ROLE_CHOICES = [*Role, None]


@pytest.fixture()
def card(db_tx, group, make_user):
    """A card sent to a service; the responder is whoever the test signs in."""
    from challenge_cards.models import Service
    from challenge_cards.services import prepare, raise_card

    service = Service(council_id=group.council_id, name="Housing")
    db_tx.add(service)
    db_tx.flush()
    worker = make_user(Role.PARTICIPATION_WORKER)
    found, _alert = raise_card(
        db_tx,
        prepare("More help with rent", ""),
        group=group,
        service=service,
        about_me=False,
        by=worker,
    )
    return found


def _make_responder_of(db_tx, card, user):
    from datetime import timedelta

    from challenge_cards.models import CardStatus
    from participation.db import utcnow

    if user is not None:
        card.responder_id = user.id
        card.public_text = "More help with rent"
        card.due_at = utcnow() + timedelta(days=20)
        card.status = CardStatus.SENT
        db_tx.flush()


def _sample_args(
    endpoint, arguments, group, user, alert_id=1, round_id=1, card_id=1, service_id=1, job_id=1
):
    """A real value for each URL argument, from the signed-in user's own council."""
    values = {
        "group_id": group.id,
        "user_id": user.id if user else 1,
        "alert_id": alert_id,
        "round_id": round_id,
        "position": 1,
        "card_id": card_id,
        "key": "feel_safe",
        "service_id": service_id,
        "job_id": job_id,
        "token_id": 1,
        "answer_id": 1,
        "request_id": 1,  # a help request (the child's "we have it" page)
        "token": f"sample-{endpoint}",  # an emailed account link (see account_links)
    }
    if "code" in arguments:
        values["code"] = (
            group.current_join_code.code if endpoint == "councils.join_link" else "PEP-TARGETS"
        )
    return {name: values[name] for name in arguments}


@pytest.fixture()
def account_links(db_tx, make_user):
    """A live emailed link for each account-link page, with the token _sample_args gives."""
    from datetime import timedelta

    from participation.accounts.lifecycle import token_hash
    from participation.accounts.models import AccountLink, LinkPurpose
    from participation.db import utcnow

    person = make_user(Role.PANEL_MEMBER)
    for endpoint, purpose in (
        ("accounts.welcome", LinkPurpose.INVITE),
        ("accounts.reset_password", LinkPurpose.PASSWORD_RESET),
        ("accounts.new_second_factor", LinkPurpose.SECOND_FACTOR_RESET),
    ):
        db_tx.add(
            AccountLink(
                user_id=person.id,
                purpose=purpose,
                token_hash=token_hash(f"sample-{endpoint}"),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    db_tx.flush()


@pytest.fixture()
def export_job(db_tx, group):
    """A panel pack file, made and ready to download."""
    from participation.jobs import BackgroundJob, JobStatus

    job = BackgroundJob(
        council_id=group.council_id,
        kind="panel_pack",
        params={"format": "csv", "filters": {}},
        status=JobStatus.DONE,
        filename="panel-pack.csv",
        content_type="text/csv",
        content=b"table,row,measure,value\r\n",
    )
    db_tx.add(job)
    db_tx.flush()
    return job


@pytest.fixture()
def alert(db_tx, group):
    from participation.safeguarding.services import raise_alert_if_needed
    from participation.subjects import SubjectType

    found = raise_alert_if_needed(
        db_tx,
        council_id=group.council_id,
        # A survey answer's: an alert on a card would hold the responder's card (id 1 too).
        subject_type=SubjectType.SURVEY_ANSWER,
        subject_id=1,
        text="he hits me at home",
    )
    assert found is not None
    return found


def _url(app, endpoint, **values):
    with app.test_request_context():
        return app.url_for(endpoint, **values)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def test_every_route_declares_who_may_use_it(app):
    with app.test_request_context():
        missing = [r.endpoint for r in _routes(app) if rule_for(r.endpoint) is None]
    assert missing == []


@pytest.mark.parametrize("role", ROLE_CHOICES, ids=lambda r: r.value if r else "anonymous")
def test_get_routes_admit_exactly_the_declared_roles(
    app, client, login_as, group, alert, survey_round, card, export_job, account_links, db_tx, role
):
    user = login_as(role)
    _make_responder_of(db_tx, card, user)
    checked = 0
    for rule in _routes(app):
        if "GET" not in rule.methods:
            continue
        with app.test_request_context():
            access = rule_for(rule.endpoint)
        url = _url(
            app,
            rule.endpoint,
            **_sample_args(
                rule.endpoint,
                rule.arguments,
                group,
                user,
                alert.id,
                survey_round.id,
                card.id,
                card.service_id,
                export_job.id,
            ),
        )
        response = client.get(url)
        checked += 1
        if access.audience is Audience.PUBLIC:
            assert response.status_code in (200, 302), (rule.endpoint, response.status_code)
            assert "/sign-in" not in response.headers.get(
                "Location", ""
            ) or rule.endpoint.startswith("accounts.")
        elif access.audience is Audience.CHILD:
            assert response.status_code == 302 and "/join" in response.headers["Location"], (
                rule.endpoint
            )
        elif access.audience is Audience.API:
            # A bearer token only: no browser session, whatever its roles, opens the API.
            assert response.status_code == 401, (rule.endpoint, role, response.status_code)
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), rule.endpoint
        elif role is None:
            assert response.status_code == 302, rule.endpoint
            assert "/sign-in" in response.headers["Location"], rule.endpoint
        elif access.allows_staff(frozenset({role})):
            assert response.status_code == 200, (rule.endpoint, role, response.status_code)
        else:
            assert response.status_code == 403, (rule.endpoint, role, response.status_code)
    assert checked >= 15


@pytest.mark.parametrize("role", ROLE_CHOICES, ids=lambda r: r.value if r else "anonymous")
def test_post_routes_refuse_roles_not_declared(
    app, client, login_as, group, alert, survey_round, card, csrf, role
):
    user = login_as(role)
    token = csrf()
    for rule in _routes(app):
        if "POST" not in rule.methods:
            continue
        with app.test_request_context():
            access = rule_for(rule.endpoint)
        if access.audience is not Audience.STAFF or (
            role and access.allows_staff(frozenset({role}))
        ):
            continue  # allowed POSTs change things; their own tests cover them
        url = _url(
            app,
            rule.endpoint,
            **_sample_args(
                rule.endpoint,
                rule.arguments,
                group,
                user,
                alert.id,
                survey_round.id,
                card.id,
                card.service_id,
            ),
        )
        response = client.post(url, data={"csrf_token": token})
        if role is None:
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
        else:
            assert response.status_code == 403, (rule.endpoint, role)


def _row_counts(session):
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
        if table.name != "audit_event"  # a view of children's words is audited, by design
    }


@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "anonymous")
def test_no_get_request_changes_stored_data(
    app, client, login_as, group, alert, survey_round, card, account_links, db_tx, role
):
    user = login_as(role)
    _make_responder_of(db_tx, card, user)
    before = _row_counts(db_tx)
    for rule in _routes(app):
        if "GET" in rule.methods:
            url = _url(
                app,
                rule.endpoint,
                **_sample_args(
                    rule.endpoint, rule.arguments, group, user, alert.id, survey_round.id
                ),
            )
            client.get(url)
    assert _row_counts(db_tx) == before


def test_another_councils_records_are_not_found(client, login_as, group, other_council, make_user):
    stranger = make_user(Role.ADMIN, council_id=other_council.id)
    login_as(Role.ADMIN, Role.PARTICIPATION_WORKER, council_id=other_council.id)
    assert client.get(f"/staff/groups/{group.id}").status_code == 404
    assert stranger.council_id != group.council_id

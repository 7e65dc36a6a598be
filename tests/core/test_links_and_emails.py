"""Links in emails come only from PUBLIC_BASE_URL; each email is a template that renders.

Attackers' methods: a child's request with ``Host: evil.example``, or ``X-Forwarded-Host``
behind a proxy (PROXY_HOPS=1), must neither reach the app nor put evil.example in an email.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from challenge_cards.models import CardStatus, ChallengeCard, Service
from challenge_cards.services import remind_overdue
from participation import register_proxy
from participation.accounts.models import Role
from participation.emails import render, uk_date, uk_time
from participation.outbox import ALERT_PRIORITY, OutboxEmail
from participation.safeguarding.models import (
    AlertLevel,
    AlertSource,
    AlertStatus,
    SafeguardingAlert,
)
from participation.subjects import SubjectType

DISCLOSURE = "he touches me when mum is out"
EMAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "participation" / "templates" / "email"
_HIDDEN = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def _hidden_fields(page: str) -> dict[str, str]:
    """Every hidden input of a page (CSRF token, submission keys), as a browser sends them."""
    found = {}
    for tag in _HIDDEN.findall(page):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            found[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return found


def _raise_card(client: Any, service: Service, text: str, **request: Any) -> Any:
    """Fill in the card form as a browser would; ``request`` (a Host, headers) is for the POST."""
    page = client.get("/cards/new")
    assert page.status_code == 200, page.status_code
    data = {
        **_hidden_fields(page.get_data(as_text=True)),
        "what_change": text,
        "why_matters": "I want it to stop",
        "service": str(service.id),
    }
    return client.post("/cards/new", data=data, **request)


@pytest.fixture()
def service(db_tx, council):
    found = Service(council_id=council.id, name="Housing")
    db_tx.add(found)
    db_tx.flush()
    return found


@pytest.fixture()
def child(client, post, group):
    post("/join", {"code": group.current_join_code.display})
    return client


@pytest.fixture()
def behind_one_proxy(app, monkeypatch):
    """The app as `PARTICIPATION_PROXY_HOPS=1` builds it (X-Forwarded-* trusted once)."""
    original = app.wsgi_app
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    register_proxy(app)
    yield app
    app.wsgi_app = original


def _emails(db_tx) -> list[OutboxEmail]:
    db_tx.expire_all()
    return list(db_tx.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_a_request_for_another_host_is_refused(client, group):
    assert client.get("/join", base_url="http://evil.example").status_code == 400
    assert client.get("/join", base_url="http://localhost").status_code == 200


def test_a_forged_host_cannot_raise_an_alert_or_reach_an_email(child, service, make_user, db_tx):
    make_user(Role.SAFEGUARDING_LEAD)
    reply = _raise_card(child, service, DISCLOSURE, base_url="http://evil.example")
    assert reply.status_code == 400
    assert db_tx.scalar(select(SafeguardingAlert.id)) is None
    assert _emails(db_tx) == []


def test_x_forwarded_host_behind_a_proxy_is_refused(behind_one_proxy, child, service, db_tx):
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    assert child.get("/cards/new", headers=forged).status_code == 400
    assert _emails(db_tx) == []


def test_neither_host_nor_forwarded_host_changes_a_link(
    behind_one_proxy, child, service, make_user, db_tx
):
    """A host the app accepts (127.0.0.1 in tests) still gives links on PUBLIC_BASE_URL."""
    lead = make_user(Role.SAFEGUARDING_LEAD)
    headers = {"X-Forwarded-Host": "127.0.0.1:8443"}
    reply = _raise_card(child, service, DISCLOSURE, headers=headers)
    assert reply.status_code in (200, 302, 303), reply.status_code
    alert = db_tx.scalars(select(SafeguardingAlert)).one()
    [email] = _emails(db_tx)
    assert email.to_address == lead.email
    assert f"http://localhost/safeguarding/alerts/{alert.id}" in email.body
    assert "127.0.0.1" not in email.body and "8443" not in email.body
    assert "evil" not in email.body


def test_alert_emails_never_hold_the_childs_words(child, service, make_user, db_tx):
    make_user(Role.SAFEGUARDING_LEAD)
    make_user(Role.SAFEGUARDING_LEAD)
    _raise_card(child, service, DISCLOSURE)
    emails = _emails(db_tx)
    assert len(emails) == 2
    for email in emails:
        assert email.priority == ALERT_PRIORITY
        for words in ("touches", "mum is out", DISCLOSURE):
            assert words not in email.body and words not in email.subject


# Each template renders with realistic data ----------------------------------------------


def _alert(**fields: Any) -> SafeguardingAlert:
    raised = fields.pop("created_at", datetime(2026, 12, 1, 13, 5, tzinfo=UTC))
    values: dict[str, Any] = {
        "id": 8,
        "council_id": 1,
        "subject_type": SubjectType.CHALLENGE_CARD,
        "subject_id": 7,
        "source": AlertSource.FREE_TEXT,
        "text": DISCLOSURE,
        "level": AlertLevel.URGENT,
        "reasons": ["sexual_abuse", "unsafe_at_home"],
        "evidence": ["touches me"],
        "status": AlertStatus.NEW,
        "created_at": raised,
        "due_at": raised + timedelta(hours=1),
        "contact_details": "ring me on 07700 900123 after school",
        **fields,
    }
    return SafeguardingAlert(**values)


def _card() -> ChallengeCard:
    return ChallengeCard(
        id=7,
        council_id=1,
        group_id=1,
        what_change=DISCLOSURE,
        public_text="Young people want the bus to the college to run later.",
        status=CardStatus.SENT,
        due_at=datetime(2026, 12, 29, 17, 0, tzinfo=UTC),
        version=3,
    )


def _staff(email: str, name: str, *roles: Any) -> Any:
    from participation.accounts.models import StaffRole, StaffUser
    from participation.councils.models import Council

    person = StaffUser(id=3, email=email, display_name=name, password_hash="!")
    person.council = Council(name="Example County Council", slug="example")
    person.role_rows = [StaffRole(role=r) for r in roles]
    return person


def _account_cases() -> dict[str, tuple[dict[str, Any], list[str]]]:
    from participation.accounts.models import Role

    lead = _staff("sam@example.gov.uk", "Sam Lead", Role.SAFEGUARDING_LEAD)
    admin = _staff("ali@example.gov.uk", "Ali Admin", Role.ADMIN)
    expires = datetime(2026, 12, 4, 13, 5, tzinfo=UTC)
    base = "https://voice.example.gov.uk/sign-in"
    common = {"person": lead, "by": admin, "expires_at": expires, "site_name": "Child Voice"}
    return {
        "account_invite": (
            {**common, "link": f"{base}/welcome/abc"},
            [
                "You have a staff account on Child Voice",
                "Ali Admin has made you a staff account on Child Voice for Example County Council",
                "until 13:05 on 4 December 2026 (UK time)",
                f"{base}/welcome/abc",
                "Your role needs a code app too",
            ],
        ),
        "password_reset": (
            {**common, "by": None, "link": f"{base}/reset/abc"},
            ["Choose a new password for Child Voice", f"{base}/reset/abc", "ignore this email"],
        ),
        "second_factor_reset": (
            {**common, "link": f"{base}/new-code/abc"},
            ["Set up a new code app", "Ali Admin has reset", f"{base}/new-code/abc"],
        ),
        "role_granted": (
            {
                "person": lead,
                "by": admin,
                "roles": ["Designated safeguarding lead"],
                "when": datetime(2026, 12, 1, 13, 5, tzinfo=UTC),
                "link": "https://voice.example.gov.uk/staff/audit",
            },
            [
                "Sam Lead can now read children's words",
                "Sam Lead (sam@example.gov.uk) was given Designated safeguarding lead by "
                "Ali Admin (ali@example.gov.uk) at 13:05 on 1 December 2026 (UK time)",
                "https://voice.example.gov.uk/staff/audit",
            ],
        ),
        "password_changed": (
            {"person": lead, "how": "reset", "link": f"{base}/forgot"},
            ["Your password was reset", "reset from an emailed link", f"{base}/forgot"],
        ),
    }


RENDER_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "safeguarding_alert": (
        {
            "alert": _alert(),
            "council_name": "Example County Council",
            "link": "https://voice.example.gov.uk/safeguarding/alerts/8",
            "to_fallback": True,
        },
        [
            "URGENT safeguarding alert #8 (Example County Council)",
            "14:05 on 1 December 2026 (UK time)",
            "Respond by: 14:05 on 1 December 2026 (UK time)",
            "Raised: 13:05 on 1 December 2026 (UK time)",
            "sexual abuse, unsafe at home",
            "words the child wrote on a challenge card",
            "https://voice.example.gov.uk/safeguarding/alerts/8",
            "has no active safeguarding lead account",
        ],
    ),
    "safeguarding_alert_reminder": (
        {
            "alert": _alert(source=AlertSource.HELP_REQUEST, level=AlertLevel.URGENT),
            "council_name": "Example County Council",
            "number": 2,
            "every": "30 minutes",
            "fallback": "safeguarding@example.gov.uk",
            "link": "https://voice.example.gov.uk/safeguarding/alerts/8",
        },
        [
            "OVERDUE, not acknowledged",
            "Was due: 14:05 on 1 December 2026 (UK time)",
            "Reminder: 2",
            'the child asked for help on the "Get help now" page',
            "and to safeguarding@example.gov.uk, and again every 30 minutes",
            "https://voice.example.gov.uk/safeguarding/alerts/8",
        ],
    ),
    "card_sent": (
        {
            "card": _card(),
            "service_name": "Housing",
            "public_text": "Young people want the bus to the college to run later.",
            "due": datetime(2026, 12, 29, 17, 0, tzinfo=UTC),
            "link": "https://voice.example.gov.uk/staff/responses/7",
        },
        [
            "Challenge card #7 for Housing: please reply by 29 December 2026",
            "Young people want the bus to the college to run later.",
            "https://voice.example.gov.uk/staff/responses/7",
        ],
    ),
    "card_answered": (
        {
            "card": _card(),
            "service_name": "Housing",
            "link": "https://voice.example.gov.uk/staff/cards/7",
        },
        ["Challenge card #7 has an answer to check", "https://voice.example.gov.uk/staff/cards/7"],
    ),
    "card_overdue": (
        {
            "card": _card(),
            "service_name": "Housing",
            "for_responder": True,
            "link": "https://voice.example.gov.uk/staff/responses/7",
        },
        [
            "Overdue: challenge card #7 was due 29 December 2026",
            "Please answer it",
            "https://voice.example.gov.uk/staff/responses/7",
        ],
    ),
    **_account_cases(),
}


def test_every_email_template_has_a_rendering_test():
    templates = {p.stem for p in EMAIL_TEMPLATES.glob("*.txt") if not p.name.startswith("_")}
    assert templates == set(RENDER_CASES)


@pytest.mark.parametrize("template", sorted(RENDER_CASES))
def test_each_email_renders_with_realistic_data(app, template):
    context, expected = RENDER_CASES[template]
    with app.app_context():
        email = render(template, **context)
    assert "\n" not in email.subject and email.subject == email.subject.strip()
    text = email.subject + "\n" + email.body
    for piece in expected:
        assert piece in text, (template, piece, text)
    assert "{{" not in text and "{%" not in text
    # No template ever carries the child's own words or what they left to be reached by.
    for words in ("touches", "mum is out", "07700 900123"):
        assert words not in text, (template, words)


def test_times_in_emails_are_uk_local_time_with_bst():
    summer = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # BST: UTC+1
    winter = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)  # GMT
    assert uk_time(summer) == "14:05 on 1 July 2026 (UK time)"
    assert uk_time(winter) == "14:05 on 1 December 2026 (UK time)"
    # Late on a summer evening in UTC is already the next day in the UK.
    assert uk_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"
    # The clocks go forward at 01:00 UTC on 29 March 2026 and back on 25 October 2026.
    assert uk_time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "00:59 on 29 March 2026 (UK time)"
    assert uk_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "02:00 on 29 March 2026 (UK time)"
    assert uk_time(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)).startswith("01:30 on 25 October")
    assert uk_time(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)).startswith("01:30 on 25 October")


def test_an_alert_raised_in_summer_says_its_deadline_in_bst(app, db_tx, council, make_user):
    from participation.safeguarding.services import raise_alert_if_needed

    make_user(Role.SAFEGUARDING_LEAD)
    raised = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    with app.app_context():
        raise_alert_if_needed(
            db_tx,
            council_id=council.id,
            subject_type=SubjectType.SURVEY_ANSWER,
            subject_id=3,
            text="my step dad hits me",
            now=raised,
        )
    [email] = _emails(db_tx)
    assert "respond by 14:30 on 1 July 2026 (UK time)" in email.subject
    assert "Raised: 13:30 on 1 July 2026 (UK time)" in email.body
    assert "UTC" not in email.subject + email.body


def test_the_overdue_card_reminder_links_each_reader_to_a_page_they_can_open(
    app, db_tx, group, service, staff_client
):
    responder, responder_user = staff_client(Role.SERVICE_RESPONDER)
    worker, worker_user = staff_client(Role.PARTICIPATION_WORKER)
    card = ChallengeCard(
        council_id=group.council_id,
        group_id=group.id,
        what_change="The bus to college stops too early",
        public_text="Young people want the bus to the college to run later.",
        status=CardStatus.SENT,
        service_id=service.id,
        responder_id=responder_user.id,
        raised_by_id=worker_user.id,
        sent_at=datetime.now(UTC) - timedelta(days=30),
        due_at=datetime.now(UTC) - timedelta(days=1),
    )
    db_tx.add(card)
    db_tx.flush()
    with app.app_context():
        assert remind_overdue(db_tx) == 1
    by_reader = {e.to_address: e for e in _emails(db_tx)}
    assert set(by_reader) == {responder_user.email, worker_user.email}
    for reader, browser, path in (
        (responder_user, responder, f"/staff/responses/{card.id}"),
        (worker_user, worker, f"/staff/cards/{card.id}"),
    ):
        body = by_reader[reader.email].body
        assert f"http://localhost{path}" in body, body
        links = re.findall(r"https?://\S+", body)
        assert links == [f"http://localhost{path}"]
        assert browser.get(path).status_code == 200, path
    # The responder's own link: the worker's page is not theirs to open.
    assert responder.get(f"/staff/cards/{card.id}").status_code in (302, 403, 404)

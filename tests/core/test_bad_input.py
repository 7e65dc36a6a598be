"""Bad input on every form: nothing a browser (or anyone else) sends may cause a 500.

The POST routes come from ``app.url_map``, so a new form cannot be forgotten: every POST
route must have an entry in the ``world`` fixture's forms (who sends it, its fields and a
valid value for each), and every field a rendered page offers must be listed there. Each
form then gets huge text, NUL bytes, control characters, invalid UTF-8, odd Unicode, wrong
types, missing fields and foreign or replayed CSRF tokens. The answer must be a 4xx that
says what went wrong, or an ordinary page or redirect where the input is acceptable.

NUL bytes: PostgreSQL cannot store them in text and no keyboard types them, so every text
field drops them (``participation.forms.strip_filter`` and the services' own cleaning); the
rest of the text is kept. ``test_nul_bytes_are_dropped_on_both_databases`` holds that.

Each example runs inside a savepoint that is rolled back, so every example meets the same
cards, alerts and rounds in the states their forms need.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, select

from participation.accounts.models import Role
from participation.councils import services as council_services
from participation.db import Base, utcnow

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What each field expects, so that each can be sent the wrong kind of thing.
TEXT, ID, DATE, CHOICE, VERSION, FLAG, CODE, EMAIL, SECRET, SIZE = (
    "text",
    "id",
    "date",
    "choice",
    "version",
    "flag",
    "code",
    "email",
    "secret",
    "size",
)

HUGE = "a" * 1_000_000  # a megabyte in one field
OVER_LIMIT = "b" * (1024 * 1024 + 10)  # more than MAX_CONTENT_LENGTH on its own
CONTROL = "".join(chr(c) for c in range(1, 32)) + "\x7f\x85"
ODD_UNICODE = [
    "\u202eRTL override\u202c and \u2067isolate\u2069",
    # combining marks, piled up
    "e\u0301\u0301\u0301\u0301\u0301\u0301 Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357",
    "zero\u200bwidth\u200c\u200d\ufeff\u2060joined",
    "\ufffd\ufffe\uffff",
    "👩🏽‍👩🏿‍👧🏻‍👦 🏳️‍🌈 👍🏾",
    "ሰላም ከመይ ኣለኻ",
    "زه ښه یم، مننه",
    "مرحبا كيف حالك",
    "\U0010fffd\U000e0001\U000e0067",  # private use and tag characters
    "ﷺ" * 50 + "𒐫" * 50,  # characters that grow under normalisation
    "İ" * 30 + "ß" * 30 + "ﬃ" * 30,  # case folding changes their length
]
# Each field gets the first few; the hypothesis test draws from all of them.
WRONG_NUMBERS = [
    "abc",
    "-1",
    "1.5",
    "²",
    "١٢",
    "9" * 30,
    "9" * 5000,
    "",
    "0",
    "1e3",
    "0x10",
    " 7 ",
    "𝟗",
    "NaN",
]
WRONG_DATES = [
    "tomorrow",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "",
    "2026-13-45",
    "1900-01-01",
    "31/12/2026",
    "٢٠٢٦-٠١-٠١",
    "2026-01-01T00:00:00",
]
WRONG_CODES = ["１２３４５６", "١٢٣٤٥٦", "12345a", "²²²²²²", "1234567", ""]
WRONG_EMAILS = ["not-an-email", "a@", "ü@ü.example", "a@b@c", "x" * 300 + "@example.com"]
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    CONTROL,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%ff",
    "{{ 7*7 }}",
    *ODD_UNICODE,
    *WRONG_NUMBERS,
    *WRONG_DATES,
]


@dataclass
class Form:
    """A POST route as the tests use it: who sends it, where, and a valid value per field."""

    client: str  # "staff" (every role, and a joined child's cookie), "anonymous", "pending"
    url: str
    fields: dict[str, tuple[str, str]]  # name -> (kind, a valid value)

    def valid(self) -> dict[str, str]:
        return {name: good for name, (_kind, good) in self.fields.items()}


@dataclass
class World:
    app: Flask
    forms: dict[str, Form]
    child_token: str
    staff_id: str
    pending_totp: str
    pending_enrol: str
    url_values: dict[str, list[Any]]
    _sessions: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    def browser(self, kind: str) -> tuple[FlaskClient, str]:
        """A fresh browser of ``kind`` and the CSRF token its pages carry.

        Each request gets a fresh browser (a sign-out in one example cannot spoil the next)
        holding the session cookie that the first browser of its kind was given, as a
        browser that reopens a tab would.
        """
        app = self.app
        if kind not in self._sessions:
            first = app.test_client()
            if kind == "staff":
                with first.session_transaction() as session:
                    session["_user_id"] = self.staff_id
                    session["_fresh"] = True
                    session["seen_at"] = time.time()
            elif kind == "pending_totp":
                with first.session_transaction() as session:
                    session["pending_user"] = self.pending_totp
                    session["pending_at"] = time.time()
            elif kind == "pending_enrol":
                # The browser that used an invitation: its session holds the link's nonce.
                with first.session_transaction() as session:
                    session["enrol"] = self.pending_enrol
            token = _token(first)
            cookie = first.get_cookie(app.config["SESSION_COOKIE_NAME"])
            self._sessions[kind] = (cookie.value if cookie else None, token)
        cookie_value, token = self._sessions[kind]
        browser = app.test_client()
        if cookie_value is not None:
            browser.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie_value)
        if kind == "staff":
            browser.set_cookie(app.config["CHILD_COOKIE_NAME"], self.child_token)
        return browser, token


def _token(browser: FlaskClient) -> str:
    match = CSRF_RE.search(browser.get("/join").get_data(as_text=True))
    assert match
    return match.group(1)


def _card(db_tx: Any, group: Any, status: Any, **fields: Any) -> Any:
    from challenge_cards.models import ChallengeCard

    card = ChallengeCard(
        council_id=group.council_id,
        group_id=group.id,
        what_change="Better wifi in the home",
        why_matters="For homework",
        status=status,
        **fields,
    )
    db_tx.add(card)
    db_tx.flush()
    return card


@pytest.fixture()
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> str:
    """argon2 is slow on purpose; these tests are about input, so they hash cheaply.

    Returns a password hash made with the cheap settings (for a user who signs in).
    """
    from argon2 import PasswordHasher

    from participation.accounts import services as accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))
    return cheap.hash("the right password")


@pytest.fixture()
def world(app, db_tx, council, group, survey_round, make_user, cheap_passwords) -> World:
    """Every record a form needs, in the state that lets the form do its work."""
    from challenge_cards.models import CardStatus, Service
    from participation.safeguarding.services import raise_alert_if_needed, record_action
    from participation.subjects import SubjectType
    from surveys.services import prepare_answer, save_answer, start_response

    staff = make_user(*Role)
    staff.password_hash = cheap_passwords
    other = make_user(Role.PANEL_MEMBER)
    responder = make_user(Role.SERVICE_RESPONDER)
    with_totp = make_user(Role.PARTICIPATION_WORKER)
    from participation.accounts import crypto, lifecycle
    from participation.accounts.models import AccountLink, LinkPurpose

    with_totp.totp_secret = crypto.encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    enrolling = make_user(Role.PARTICIPATION_WORKER)
    invited = make_user(Role.PANEL_MEMBER)
    invited.password_hash = "!no-password-yet"
    link_tokens = {}
    for purpose, person in (
        (LinkPurpose.INVITE, invited),
        (LinkPurpose.PASSWORD_RESET, other),
        (LinkPurpose.SECOND_FACTOR_RESET, staff),
    ):
        link_tokens[purpose] = f"bad-input-{purpose.value}"
        db_tx.add(
            AccountLink(
                user_id=person.id,
                purpose=purpose,
                token_hash=lifecycle.token_hash(link_tokens[purpose]),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    enrol_nonce = "bad-input-enrolment-nonce"
    db_tx.add(
        AccountLink(
            user_id=enrolling.id,
            purpose=LinkPurpose.INVITE,
            token_hash=lifecycle.token_hash("bad-input-used-invite"),
            expires_at=utcnow() + timedelta(hours=1),
            used_at=utcnow(),
            session_hash=lifecycle.token_hash(enrol_nonce),
            enrol_secret=crypto.encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
        )
    )
    child, child_token = council_services.join_group(db_tx, group)
    response = start_response(db_tx, survey_round, child, "en")
    question = next(q for q in survey_round.question_set.questions if q.key == "school_words")
    written, _alert = save_answer(
        db_tx,
        response,
        prepare_answer(question, "next", None, "my pep meeting never happens"),
        child,
        None,
    )
    service = Service(council_id=council.id, name="Housing")
    db_tx.add(service)
    db_tx.flush()
    due = utcnow() + timedelta(days=20)
    new = _card(db_tx, group, CardStatus.NEW, participant_id=child.id)
    other_new = _card(db_tx, group, CardStatus.NEW, participant_id=child.id)
    private = _card(db_tx, group, CardStatus.PRIVATE, participant_id=child.id, about_me=True)
    returned = _card(
        db_tx, group, CardStatus.RETURNED, participant_id=child.id, return_question="Which home?"
    )
    sent_fields = {
        "raised_by_id": staff.id,
        "service_id": service.id,
        "public_text": "Better wifi",
        "due_at": due,
    }
    sent = _card(db_tx, group, CardStatus.SENT, responder_id=staff.id, **sent_fields)
    answered = _card(db_tx, group, CardStatus.ANSWERED, responder_id=responder.id, **sent_fields)
    responded = _card(
        db_tx,
        group,
        CardStatus.RESPONDED,
        responder_id=staff.id,
        participant_id=child.id,
        **{k: v for k, v in sent_fields.items() if k != "raised_by_id"},
    )
    alert = raise_alert_if_needed(
        db_tx,
        council_id=council.id,
        group_id=group.id,
        participant_id=child.id,
        subject_type=SubjectType.CHALLENGE_CARD,
        # On the private card: an open alert on ``new`` would hold it, and it is sent below.
        subject_id=private.id,
        text="he hits me at home",
    )
    assert alert is not None
    worked = raise_alert_if_needed(
        db_tx,
        council_id=council.id,
        group_id=group.id,
        participant_id=child.id,
        subject_type=SubjectType.CHALLENGE_CARD,
        subject_id=other_new.id,
        text="i want to kill myself",
    )
    assert worked is not None
    record_action(db_tx, worked, "Rang the carer", staff)
    from panel.api.services import create_token

    api_token, _text = create_token(db_tx, council, "Reporting", by=staff)
    text_position = question.position
    url_values = {
        "card_id": [new.id, private.id, returned.id, sent.id, answered.id, responded.id],
        "round_id": [survey_round.id],
        "alert_id": [alert.id, worked.id],
        "group_id": [group.id],
        "user_id": [other.id],
        "service_id": [service.id],
        "token_id": [api_token.id],
        "answer_id": [written.id],
        "position": [1, 2, 3, 4],
        "key": ["feel_safe"],
        "code": ["PEP-TARGETS"],
    }
    day = (utcnow() + timedelta(days=3)).date().isoformat()
    later = (utcnow() + timedelta(days=40)).date().isoformat()
    forms = {
        "core.choose_language": Form(
            "anonymous", "/language", {"language": (CHOICE, "ar"), "next": (TEXT, "/join")}
        ),
        "accounts.sign_in": Form(
            "anonymous",
            "/sign-in",
            {
                "email": (EMAIL, staff.email),
                "password": (SECRET, "not the password"),
                "next": (TEXT, "/staff"),
            },
        ),
        "accounts.second_factor": Form("pending_totp", "/sign-in/code", {"code": (CODE, "123456")}),
        "accounts.set_up_second_factor": Form(
            "pending_enrol", "/sign-in/set-up-code", {"code": (CODE, "123 456")}
        ),
        "accounts.sign_out": Form("staff", "/sign-out", {}),
        "accounts.new_user": Form(
            "staff",
            "/staff/users/new",
            {
                "email": (EMAIL, "new.person@test.example"),
                "display_name": (TEXT, "New Person"),
                "roles": (CHOICE, "panel_member"),
            },
        ),
        "accounts.change_password": Form(
            "staff",
            "/staff/account/password",
            {
                "current_password": (SECRET, "the right password"),
                "new_password": (SECRET, "a brand new long password"),
                "repeat": (SECRET, "a brand new long password"),
            },
        ),
        "accounts.forgot_password": Form(
            "anonymous", "/sign-in/forgot", {"email": (EMAIL, other.email)}
        ),
        "accounts.reset_password": Form(
            "anonymous",
            f"/sign-in/reset/{link_tokens[LinkPurpose.PASSWORD_RESET]}",
            {
                "new_password": (SECRET, "a brand new long password"),
                "repeat": (SECRET, "a brand new long password"),
            },
        ),
        "accounts.welcome": Form(
            "anonymous",
            f"/sign-in/welcome/{link_tokens[LinkPurpose.INVITE]}",
            {
                "new_password": (SECRET, "a brand new long password"),
                "repeat": (SECRET, "a brand new long password"),
            },
        ),
        "accounts.new_second_factor": Form(
            "anonymous",
            f"/sign-in/new-code/{link_tokens[LinkPurpose.SECOND_FACTOR_RESET]}",
            {"password": (SECRET, "the right password")},
        ),
        "accounts.resend_invite": Form("staff", f"/staff/users/{invited.id}/invite", {}),
        "accounts.reset_second_factor": Form(
            "staff", f"/staff/users/{other.id}/reset-second-factor", {}
        ),
        "accounts.clear_sign_in_delay": Form(
            "staff", f"/staff/users/{other.id}/clear-sign-in-delay", {}
        ),
        "accounts.change_roles": Form(
            "staff", f"/staff/users/{other.id}/roles", {"roles": (CHOICE, "service_responder")}
        ),
        "accounts.toggle_active": Form("staff", f"/staff/users/{other.id}/active", {}),
        "councils.join": Form(
            "anonymous", "/join", {"code": (TEXT, group.current_join_code.display)}
        ),
        "councils.forget_device": Form("staff", "/me/forget", {}),
        "councils.new_group": Form(
            "staff",
            "/staff/groups/new",
            {
                "name": (TEXT, "Care leavers forum"),
                "age_band": (CHOICE, "16-25"),
                "kind": (CHOICE, "care_leavers"),
            },
        ),
        "councils.rotate_code": Form("staff", f"/staff/groups/{group.id}/rotate-code", {}),
        "councils.confirm_joins": Form(
            "staff", f"/staff/groups/{group.id}/confirm-joins", {"membership": (ID, "1")}
        ),
        "councils.set_worker": Form(
            "staff", f"/staff/groups/{group.id}/worker", {"worker": (CHOICE, str(with_totp.id))}
        ),
        "safeguarding.send_help_request": Form(
            "staff",
            "/help",
            {
                "words": (TEXT, "please can someone talk to me"),
                "reach_by": (CHOICE, "phone"),
                "phone": (TEXT, "07700 900123"),
                "submission_key": (TEXT, "bad-input-help-request-key-0001"),
            },
        ),
        "safeguarding.spoke_to_child": Form(
            "staff",
            f"/safeguarding/alerts/{worked.id}/spoke-to-child",
            {"note": (TEXT, "Met at school"), "version": (VERSION, str(worked.version))},
        ),
        "safeguarding.child_help": Form(
            "staff", f"/help/{alert.id}", {"contact": (TEXT, "text my phone after school")}
        ),
        "safeguarding.acknowledge": Form(
            "staff",
            f"/safeguarding/alerts/{alert.id}/acknowledge",
            {"version": (VERSION, str(alert.version))},
        ),
        "safeguarding.record_action": Form(
            "staff",
            f"/safeguarding/alerts/{worked.id}/actions",
            {"note": (TEXT, "Called the social worker"), "version": (VERSION, str(worked.version))},
        ),
        "safeguarding.close": Form(
            "staff",
            f"/safeguarding/alerts/{worked.id}/close",
            {"outcome": (TEXT, "Safe now"), "version": (VERSION, str(worked.version))},
        ),
        "surveys.start": Form("staff", f"/survey/{survey_round.id}/start", {}),
        "surveys.answer": Form(
            "staff",
            f"/survey/{survey_round.id}/q/{text_position}",
            {
                "text": (TEXT, "School is fine"),
                "choice": (CHOICE, "yes"),
                "action": (CHOICE, "next"),
            },
        ),
        # The test set marks no risk answers: this help step only carries on.
        "surveys.help_step": Form(
            "staff", f"/survey/{survey_round.id}/q/1/help", {"want": (CHOICE, "yes")}
        ),
        "surveys.submit": Form("staff", f"/survey/{survey_round.id}/submit", {}),
        "surveys.change": Form(
            "staff",
            f"/survey/{survey_round.id}/q/{text_position}/change",
            {
                "text": (TEXT, "School is fine"),
                "choice": (CHOICE, "yes"),
                "action": (CHOICE, "next"),
                "confirm": (CHOICE, "yes"),
            },
        ),
        "surveys.round_dates": Form(
            "staff",
            f"/staff/rounds/{survey_round.id}/dates",
            {"opens_on": (DATE, day), "closes_on": (DATE, later)},
        ),
        "surveys.close_round": Form("staff", f"/staff/rounds/{survey_round.id}/close", {}),
        "surveys.delete_answers": Form("staff", f"/me/answers/{survey_round.id}/delete", {}),
        "surveys.new_round": Form(
            "staff",
            "/staff/rounds/new",
            {
                "name": (TEXT, "Annual survey 2027"),
                "question_set": (ID, str(survey_round.question_set_id)),
                "groups": (ID, str(group.id)),
                "opens_on": (DATE, day),
                "closes_on": (DATE, later),
                "override_age_band": (FLAG, "y"),
            },
        ),
        "surveys.group_sizes": Form(
            "staff",
            f"/staff/rounds/{survey_round.id}/sizes",
            {f"size-{survey_round.round_groups[0].id}": (SIZE, "12")},
        ),
        "challenge_cards.new_card": Form(
            "staff",
            "/cards/new",
            {
                "what_change": (TEXT, "More time with my sister"),
                "why_matters": (TEXT, "I miss her"),
                "service": (ID, str(service.id)),
                "about_me": (FLAG, "y"),
                "submission_key": (TEXT, "bad-input-card-key-000001"),
                "from_group": (ID, str(group.id)),
            },
        ),
        "challenge_cards.child_reply": Form(
            "staff",
            f"/cards/mine/{returned.id}/reply",
            {
                "what_change": (TEXT, "The home on Elm Road"),
                "why_matters": (TEXT, "It is slow"),
                "version": (VERSION, str(returned.version)),
            },
        ),
        "challenge_cards.feedback": Form(
            "staff", f"/cards/mine/{responded.id}/feedback", {"feedback": (CHOICE, "fixed")}
        ),
        "challenge_cards.staff_new_card": Form(
            "staff",
            "/staff/cards/new",
            {
                "what_change": (TEXT, "A quiet room for homework"),
                "why_matters": (TEXT, "Noise"),
                "service": (ID, str(service.id)),
                "group": (ID, str(group.id)),
                "about_me": (FLAG, ""),
                "submission_key": (TEXT, "bad-input-group-card-key-01"),
            },
        ),
        "challenge_cards.make_private": Form(
            "staff", f"/staff/cards/{new.id}/private", {"version": (VERSION, str(new.version))}
        ),
        "challenge_cards.hand_back": Form(
            "staff",
            f"/safeguarding/alerts/{alert.id}/hand-back",
            {"version": (VERSION, str(alert.version))},
        ),
        "challenge_cards.send": Form(
            "staff",
            f"/staff/cards/{new.id}/send",
            {
                "public_text": (TEXT, "Better wifi in children's homes"),
                "service": (ID, str(service.id)),
                "responder": (ID, str(responder.id)),
                "due_on": (DATE, later),
                "version": (VERSION, str(new.version)),
            },
        ),
        "challenge_cards.return_card": Form(
            "staff",
            f"/staff/cards/{new.id}/return",
            {"note": (TEXT, "Which home?"), "version": (VERSION, str(new.version))},
        ),
        "challenge_cards.decline": Form(
            "staff",
            f"/staff/cards/{new.id}/decline",
            {"note": (TEXT, "We cannot do this"), "version": (VERSION, str(new.version))},
        ),
        "challenge_cards.merge": Form(
            "staff",
            f"/staff/cards/{new.id}/merge",
            # Not into ``other_new``: its alert holds it, and a held card takes no others.
            {"into": (ID, f"#{returned.id}"), "version": (VERSION, str(new.version))},
        ),
        "challenge_cards.follow_up": Form(
            "staff",
            f"/staff/cards/{private.id}/follow-up",
            {"note": (TEXT, "Talked to the carer"), "version": (VERSION, str(private.version))},
        ),
        "challenge_cards.approve": Form(
            "staff",
            f"/staff/cards/{answered.id}/approve",
            {"version": (VERSION, str(answered.version))},
        ),
        "challenge_cards.send_back": Form(
            "staff",
            f"/staff/cards/{answered.id}/send-back",
            {"note": (TEXT, "Say when"), "version": (VERSION, str(answered.version))},
        ),
        "challenge_cards.close": Form(
            "staff",
            f"/staff/cards/{responded.id}/close",
            {"what_changed": (TEXT, "New router"), "version": (VERSION, str(responded.version))},
        ),
        "challenge_cards.decide_tags": Form(
            "staff",
            f"/staff/cards/{new.id}/tags",
            {"tag-1": (CHOICE, "confirm"), "add_code": (CHOICE, "PEP-TARGETS")},
        ),
        "challenge_cards.answer": Form(
            "staff",
            f"/staff/responses/{sent.id}/answer",
            {
                "kind": (CHOICE, "will_do"),
                "text": (TEXT, "We will fix it"),
                "version": (VERSION, str(sent.version)),
            },
        ),
        "challenge_cards.responder_close": Form(
            "staff",
            f"/staff/responses/{responded.id}/close",
            {"what_changed": (TEXT, "Fixed"), "version": (VERSION, str(responded.version))},
        ),
        "challenge_cards.council_services": Form(
            "staff", "/staff/services", {"name": (TEXT, "Leaving care team")}
        ),
        "challenge_cards.toggle_service": Form("staff", f"/staff/services/{service.id}/active", {}),
        "api_tokens.create_token": Form("staff", "/staff/api-tokens", {"name": (TEXT, "Power BI")}),
        "api_tokens.revoke_token": Form("staff", f"/staff/api-tokens/{api_token.id}/revoke", {}),
        "evidence_review.answer_tags": Form(
            "staff",
            f"/staff/evidence/answers/{written.id}/tags",
            {
                "tag-1": (CHOICE, "confirm"),
                "add_code": (CHOICE, "PEP-TARGETS"),
                "show": (CHOICE, "pending"),
            },
        ),
        "dashboards.request_export": Form(
            "staff",
            "/panel/pack/exports",
            {
                "format": (CHOICE, "csv"),
                "year": (ID, str(utcnow().year)),
                "round": (ID, str(survey_round.id)),
                "age_band": (CHOICE, "8-11"),
                "group": (ID, str(group.id)),
            },
        ),
    }
    db_tx.flush()
    return World(
        app=app,
        forms=forms,
        child_token=child_token,
        staff_id=staff.get_id(),
        pending_totp=with_totp.get_id(),
        pending_enrol=enrol_nonce,
        url_values=url_values,
    )


@contextmanager
def rolled_back(db_tx: Any) -> Iterator[None]:
    """Run one example in a savepoint that is undone afterwards."""
    connection = db_tx.get_bind()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db_tx.expire_all()


def _post_routes(app: Flask) -> list[str]:
    return sorted(r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods)


def post_endpoints() -> list[str]:
    from participation import create_app

    app = create_app(
        {"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "only-to-list-routes"}
    )
    return _post_routes(app)


POST_ENDPOINTS = post_endpoints()

CLEAR_MESSAGE = re.compile(
    r'class="error-summary"|class="error-message"|class="notice notice-error"|<p class="lead">'
)


def assert_handled(response: Any, endpoint: str, sent: Any = None) -> None:
    """Not a server error; a refusal must say what went wrong on a proper page."""
    status = response.status_code
    assert status < 500, (endpoint, status, repr(sent)[:300])
    if 400 <= status < 500:
        body = response.get_data(as_text=True)
        assert response.mimetype == "text/html", (endpoint, status)
        assert CLEAR_MESSAGE.search(body), (endpoint, status, body[:500])


def send(
    world: World,
    endpoint: str,
    data: dict[str, Any] | bytes,
    *,
    token: str | None = None,
    content_type: str | None = None,
) -> Any:
    """Post ``data`` to the form's address as a fresh browser of the right kind."""
    form = world.forms[endpoint]
    browser, real = world.browser(form.client)
    if isinstance(data, bytes):
        body = b"csrf_token=" + (token or real).encode() + b"&" + data
        return browser.post(
            form.url, data=body, content_type=content_type or "application/x-www-form-urlencoded"
        )
    payload = {"csrf_token": real if token is None else token, **data}
    return browser.post(form.url, data=payload)


# Every POST route is known ---------------------------------------------------------------


def test_every_post_route_has_an_entry_here(app, world):
    missing = sorted(set(_post_routes(app)) - set(world.forms))
    assert missing == [], f"add these POST routes to the world fixture's forms: {missing}"


class _FormFields(HTMLParser):
    """The fields of every POST form on a page, by where the form is sent."""

    def __init__(self, page_path: str) -> None:
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, set[str], set[str]]] = []  # (action, formactions, names)
        self._current: tuple[str, set[str], set[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and (found.get("method") or "get").lower() == "post":
            action = urlsplit(found.get("action") or self.page_path).path
            self._current = (action, set(), set())
            self.forms.append(self._current)
        elif tag in ("input", "textarea", "select", "button") and self._current is not None:
            if found.get("name"):
                self._current[2].add(str(found["name"]))
            if found.get("formaction"):
                self._current[1].add(urlsplit(str(found["formaction"])).path)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def _pages(world: World) -> list[str]:
    """Every page a signed-in member of staff with every role, or the child, can open."""
    from participation.access import Audience, rule_for

    values = world.url_values
    pages = []
    with world.app.test_request_context():
        for rule in world.app.url_map.iter_rules():
            access = rule_for(rule.endpoint)
            if "GET" not in rule.methods or access is None or rule.endpoint == "static":
                continue
            if access.audience is Audience.PUBLIC and rule.arguments:
                continue
            combos: list[dict[str, Any]] = [{}]
            for name in sorted(rule.arguments):
                combos = [{**c, name: v} for c in combos for v in values.get(name, [])]
            pages.extend(world.app.url_for(rule.endpoint, **c) for c in combos)
    return pages


def test_every_field_a_page_offers_is_listed_here(world, db_tx):
    """A new field on a form must be listed in the world fixture, so it gets bad input too."""
    rules = world.app.url_map.bind("localhost")
    seen: dict[str, set[str]] = {}
    browser, _csrf = world.browser("staff")
    for page in _pages(world):
        response = browser.get(page)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = _FormFields(page)
        parser.feed(response.get_data(as_text=True))
        for action, formactions, names in parser.forms:
            # Buttons with their own formaction send the form elsewhere.
            for target in formactions or {action}:
                endpoint, _args = rules.match(target, method="POST")
                seen.setdefault(endpoint, set()).update(names)
    assert len(seen) >= 20, sorted(seen)
    unlisted = {}
    for endpoint, names in seen.items():
        known = set(world.forms[endpoint].fields) | {"csrf_token"}
        extra = {
            n for n in names - known if not re.fullmatch(r"(tag|size)-\d+", n)
        }  # numbered fields: one per tag or group, listed here by a sample
        if extra:
            unlisted[endpoint] = sorted(extra)
    assert unlisted == {}


# Every form, every kind of bad input ----------------------------------------------------


def _wrong_type(kind: str) -> st.SearchStrategy[Any]:
    """A value of the wrong kind for a field of ``kind`` (lists included)."""
    numbers = st.sampled_from(WRONG_NUMBERS)
    dates = st.sampled_from(WRONG_DATES)
    text = st.text(max_size=40)
    single = {
        ID: numbers,
        VERSION: numbers,
        SIZE: numbers,
        DATE: dates,
        CODE: st.sampled_from(WRONG_CODES),
        EMAIL: st.sampled_from(WRONG_EMAILS),
    }.get(kind, st.one_of(numbers, dates, text))
    return st.one_of(single, st.lists(single, min_size=2, max_size=3))


@st.composite
def bad_payload(draw: Any, form: Form) -> dict[str, Any]:
    """Some fields valid, some missing, some nasty or of the wrong kind."""
    data: dict[str, Any] = {}
    for name, (kind, good) in form.fields.items():
        choice = draw(st.sampled_from(["good", "missing", "nasty", "wrong", "text"]))
        if choice == "good":
            data[name] = good
        elif choice == "nasty":
            data[name] = draw(st.sampled_from(NASTY))
        elif choice == "wrong":
            data[name] = draw(_wrong_type(kind))
        elif choice == "text":
            data[name] = draw(st.text(min_size=1, max_size=300))
    extra = draw(st.dictionaries(st.sampled_from(["x", "tag-99", "size-99", "id"]), st.text()))
    return {**extra, **data}


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
@SETTINGS
@given(data=st.data())
def test_mixed_bad_input_never_fails_on_our_side(world, db_tx, endpoint, data):
    form = world.forms[endpoint]
    payload = data.draw(bad_payload(form))
    with rolled_back(db_tx):
        assert_handled(send(world, endpoint, payload), endpoint, payload)


EXPECTED_REFUSALS = {
    "accounts.sign_in": 401,  # the password is wrong on purpose: no sign-in here
    "accounts.second_factor": 401,  # no authenticator app in a test
    "accounts.set_up_second_factor": 422,
}


def _wrong_values(kind: str) -> list[Any]:
    return {
        ID: WRONG_NUMBERS[:8],
        VERSION: WRONG_NUMBERS[:8],
        SIZE: WRONG_NUMBERS[:8],
        DATE: WRONG_DATES[:5],
        CODE: WRONG_CODES,
        EMAIL: WRONG_EMAILS,
    }.get(kind, ["12", "2026-01-01"])


def _raw(value: bytes) -> bytes:
    return quote_from_bytes(value, safe="").encode()


def _body(pairs: list[tuple[str, bytes]]) -> bytes:
    return b"&".join(name.encode() + b"=" + value for name, value in pairs)


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_every_kind_of_bad_input(world, db_tx, endpoint):
    """Valid input works; then each kind of bad input, in every field and in each one alone."""
    form = world.forms[endpoint]
    valid = form.valid()
    sent = 0

    def check(data: dict[str, Any] | bytes, what: Any, **kw: Any) -> Any:
        nonlocal sent
        sent += 1
        with rolled_back(db_tx):
            response = send(world, endpoint, data, **kw)
            assert_handled(response, endpoint, what)
        return response

    # The valid values really are valid: the routes' own checks refuse the bad ones below.
    with rolled_back(db_tx):
        response = send(world, endpoint, valid)
    expected = EXPECTED_REFUSALS.get(endpoint)
    assert response.status_code in ((expected,) if expected else (200, 302)), endpoint

    # Text of every kind in all fields at once; the kinds that reach our code in each alone.
    for label, value in TEXTS.items():
        check(dict.fromkeys(form.fields, value), (label, "all"))
    for label in TEXTS_EACH_FIELD:
        for name in form.fields:
            check({**valid, name: TEXTS[label]}, (label, name))

    # Wrong kinds of value, lists, and each field missing; then nothing at all.
    for name, (kind, _good) in form.fields.items():
        for value in [*_wrong_values(kind), ["1", "2"]]:
            check({**valid, name: value}, (name, value))
        check({k: v for k, v in valid.items() if k != name}, ("missing", name))
    check({}, "nothing")

    # Bytes that are not UTF-8: percent-encoded, and raw in the body.
    names = list(form.fields) or ["anything"]
    for label in INVALID_UTF8_EVERYWHERE:
        for encoded in (_raw(INVALID_UTF8[label]), INVALID_UTF8[label]):
            check(_body([(n, encoded) for n in names]), (label, "all"))
    for label in INVALID_UTF8_EACH_FIELD:
        for name in names:
            others = [(k, _raw(v.encode())) for k, v in valid.items() if k != name]
            check(_body([*others, (name, _raw(INVALID_UTF8[label]))]), (label, name))

    # More than MAX_CONTENT_LENGTH: refused before anything else is read.
    with rolled_back(db_tx):
        response = send(world, endpoint, {**valid, names[0]: OVER_LIMIT})
    assert response.status_code == 413
    assert "That was too big to send" in response.get_data(as_text=True)
    assert sent > 10


INVALID_UTF8 = {
    "ff": b"\xff\xfe\xfd",  # not UTF-8 at all
    "broken": b"a\xc3\x28b",  # a broken two-byte sequence
    "lone surrogate": b"\xed\xa0\x80",  # as CESU-8 would write it
    "reversed pair": b"\xed\xb2\xa9\xed\xa0\xbd",
    "beyond U+10FFFF": b"\xf4\x90\x80\x80",
    "overlong slash": b"\xc0\xaf",
    "nul and controls": b"\x00\x01\x02\x1b[31m",
}
# Every field of every form gets these; the rest go to each field alone.
INVALID_UTF8_EVERYWHERE = ("ff", "lone surrogate", "nul and controls")
INVALID_UTF8_EACH_FIELD = ("lone surrogate",)

TEXTS = {
    "megabyte": HUGE,  # more than a form field may hold: refused as it is read
    "nul and controls": "before\x00after" + CONTROL,
    "odd unicode": "".join(ODD_UNICODE),
    "long": "x" * 5000,
}
TEXTS_EACH_FIELD = ("nul and controls", "odd unicode", "long")


@pytest.mark.parametrize(
    "endpoint", ["surveys.answer", "challenge_cards.new_card", "councils.join"]
)
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=xyz",  # a body that does not use it
        "application/x-www-form-urlencoded; charset=latin-1",
        "text/plain",
        "application/json",
    ],
)
def test_odd_bodies_and_content_types(world, db_tx, endpoint, content_type):
    with rolled_back(db_tx):
        response = send(world, endpoint, b"text=\xff\x00&choice=yes", content_type=content_type)
    assert_handled(response, endpoint, content_type)


# CSRF ----------------------------------------------------------------------------------


# Forms that check their own token so that a page left open overnight keeps what was written.
# Every child-facing form keeps the child's words (issue 14: survey pages and the card form).
KEEPS_THE_WORDS = {
    "safeguarding.send_help_request": "Please tap Send again",
    "safeguarding.child_help": "Please tap Send again",
    "surveys.answer": "This page was open a long time",
    "surveys.change": "This page was open a long time",
    "challenge_cards.new_card": "This page was open a long time",
    "challenge_cards.feedback": "This page was open a long time",
    "councils.join": "This page was open a long time",
}


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_foreign_and_broken_csrf_tokens_are_refused(world, db_tx, endpoint):
    form = world.forms[endpoint]
    foreign = _token(world.app.test_client())  # a real token, from another browser's session
    for token in [foreign, "", "x" * 5000, "\u202e" + foreign, foreign + "\x00", foreign[::-1]]:
        with rolled_back(db_tx):
            response = send(world, endpoint, form.valid(), token=token)
        assert response.status_code == 400, (endpoint, token[:20])
        page = response.get_data(as_text=True)
        if endpoint in KEEPS_THE_WORDS:
            # Child forms: refused too, but the child's words come back with a fresh token.
            assert KEEPS_THE_WORDS[endpoint] in page
        else:
            assert "reload the page" in page
    browser, token = world.browser(form.client)
    with rolled_back(db_tx):
        both = browser.post(form.url, data={**form.valid(), "csrf_token": [foreign, token]})
    assert both.status_code == 400  # the first token counts, and it is not this session's


def test_a_token_replayed_after_sign_out_is_refused(world, db_tx):
    """Tokens belong to a session: signing out ends them, so a captured form is useless."""
    browser, token = world.browser("staff")
    with rolled_back(db_tx):
        assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302
        replay = browser.post(
            world.forms["challenge_cards.council_services"].url,
            data={"csrf_token": token, "name": "Replayed"},
        )
    assert replay.status_code == 400


def test_a_token_is_reusable_within_its_own_session(world, db_tx):
    """Within one session the token is not single-use (back button, second tab); resends
    are made harmless by the services instead (one response, one card step)."""
    browser, token = world.browser("staff")
    url = world.forms["surveys.start"].url
    with rolled_back(db_tx):
        assert browser.post(url, data={"csrf_token": token}).status_code == 302
        assert browser.post(url, data={"csrf_token": token}).status_code == 302


# NUL bytes -----------------------------------------------------------------------------


def _texts_with_nul(db_tx: Any) -> list[tuple[str, str]]:
    """Every stored text holding a NUL (PostgreSQL would have refused to store it)."""
    if db_tx.get_bind().dialect.name != "sqlite":
        return []  # PostgreSQL refuses them outright: a 500 would have shown it
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text) and not hasattr(column.type, "enum_class"):
                # In Python: SQLite's own string functions stop at a NUL.
                values = db_tx.scalars(select(column).where(column.is_not(None)))
                if any("\x00" in value for value in values):
                    found.append((table.name, column.name))
    return found


@pytest.mark.parametrize("endpoint", POST_ENDPOINTS)
def test_nul_bytes_are_dropped_on_both_databases(world, db_tx, endpoint):
    """The same rule on SQLite as on PostgreSQL: no NUL is ever stored, the rest is kept."""
    form = world.forms[endpoint]
    payload = {
        name: (good[:1] + "\x00" + good[1:]) if kind in (TEXT, EMAIL) and good else good
        for name, (kind, good) in form.fields.items()
    }
    with rolled_back(db_tx):
        response = send(world, endpoint, payload)
        assert_handled(response, endpoint, payload)
        expected = EXPECTED_REFUSALS.get(endpoint)
        assert response.status_code in ((expected,) if expected else (200, 302)), endpoint
        assert _texts_with_nul(db_tx) == []


def test_nul_in_a_childs_answer_is_dropped_and_the_rest_kept(world, db_tx):
    from surveys.models import Answer

    with rolled_back(db_tx):
        response = send(world, "surveys.answer", {"text": "ma\x00ths is ok", "action": "next"})
        assert response.status_code == 302
        stored = db_tx.scalar(select(Answer.text).where(Answer.question_key == "school_words"))
        assert stored == "maths is ok"


def test_nul_in_a_staff_note_is_dropped_and_the_rest_kept(world, db_tx):
    from participation.safeguarding.models import AlertAction

    form = world.forms["safeguarding.record_action"]
    with rolled_back(db_tx):
        payload = {**form.valid(), "note": "Rang\x00 the carer"}
        assert send(world, "safeguarding.record_action", payload).status_code == 302
        assert db_tx.scalar(select(AlertAction.note)) == "Rang the carer"


# Numbers that are not ours to store ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/staff/cards/99999999999999999999/send",
        "/staff/cards/9223372036854775808/tags",
        "/survey/99999999999999999999999/start",
        "/survey/1/q/99999999999999999999999",
        "/help/99999999999999999999",
        "/staff/users/99999999999999999999/active",
    ],
)
def test_ids_too_big_for_the_database_are_not_found(world, db_tx, path):
    browser, token = world.browser("staff")
    with rolled_back(db_tx):
        response = browser.post(path, data={"csrf_token": token})
    # 405 when a GET route shares the address (Werkzeug's matcher), else 404: never a 500.
    assert response.status_code in (404, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/staff/cards?group=99999999999999999999&service=²&page=99999999999999999999",
        "/staff/cards?group=-1&service=abc&page=-5",
        "/staff/audit?page=99999999999999999999",
    ],
)
def test_filters_in_the_address_too_big_for_the_database_are_ignored(world, db_tx, path):
    browser, _csrf = world.browser("staff")
    assert browser.get(path).status_code == 200

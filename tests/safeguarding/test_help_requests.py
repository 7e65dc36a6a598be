"""Help without words: "Get help now" on every child page, and "Do you want someone to talk
to you?" raising one urgent alert however often it is sent."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.councils import services as council_services
from participation.councils.models import AgeBand, GroupKind, Participant
from participation.outbox import OutboxEmail
from participation.safeguarding.models import (
    AlertLevel,
    AlertSource,
    AlertStatus,
    HelpRequest,
    SafeguardingAlert,
)
from participation.subjects import SubjectType

DISCLOSURE = "my step dad hits me when mum is out"
_KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


def _join(client, post, group):
    response = post("/join", {"code": group.current_join_code.display})
    assert response.status_code == 302


def _key(page: str) -> str:
    found = _KEY.search(page)
    assert found, "no submission key on the page"
    return found.group(1)


def _count(db_tx, model) -> int:
    return db_tx.scalar(select(func.count()).select_from(model))


def _send(client, post, data=None, key=None):
    page = client.get("/help").get_data(as_text=True)
    return post("/help", {"submission_key": key or _key(page), **(data or {})})


def test_anyone_sees_999_and_childline_as_big_buttons_and_how_to_get_help(client):
    page = client.get("/help").get_data(as_text=True)
    assert 'class="call-button call-emergency" href="tel:999"' in page
    assert 'class="call-button" href="tel:08001111"' in page
    # Not joined: nowhere to send the form, and told plainly what to do instead.
    assert "Do you want someone to talk to you?" not in page
    assert "Call Childline on" in page and "Join your group" in page
    assert "foster carer" not in page and "carer" not in page


def test_a_child_who_has_not_joined_cannot_send_and_is_told_why(client, post, db_tx):
    response = post("/help", {"submission_key": "k" * 32})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "this phone has not joined a group" in page and 'href="tel:08001111"' in page
    assert _count(db_tx, HelpRequest) == 0 and _count(db_tx, SafeguardingAlert) == 0


def test_the_page_says_when_a_person_reads_it_and_never_points_home_first(client, post, group):
    _join(client, post, group)
    page = client.get("/help").get_data(as_text=True)
    assert "Do you want someone to talk to you?" in page
    assert "will read it within 1 hour, day or night" in page
    assert "carer" not in page and "mum" not in page.lower() and "home" not in page.lower()
    assert "Samaritans" not in page  # adult helplines are for care leavers


def test_care_leavers_also_get_adult_helplines(client, post, db_tx, council):
    leavers = council_services.create_group(
        db_tx,
        council,
        name="Care leavers forum",
        age_band=AgeBand.CARE_LEAVERS_16_25,
        kind=GroupKind.CARE_LEAVERS,
        recorded_size=1000,
    )
    _join(client, post, leavers)
    page = client.get("/help").get_data(as_text=True)
    assert 'href="tel:116123"' in page and "Samaritans" in page
    assert 'href="sms:85258?&amp;body=SHOUT"' in page and "Text SHOUT to" in page
    assert 'href="tel:08001111"' in page and 'href="tel:999"' in page


def test_sending_with_no_words_raises_an_urgent_alert_and_emails_the_lead(
    client, post, group, db_tx, make_user
):
    lead = make_user(Role.SAFEGUARDING_LEAD)
    _join(client, post, group)
    response = _send(client, post)
    assert response.status_code == 302
    sent = db_tx.scalar(select(HelpRequest))
    assert response.headers["Location"] == f"/help/sent/{sent.id}"
    assert sent.words is None and sent.reach_by is None and sent.phone is None
    assert sent.group_id == group.id and sent.council_id == group.council_id
    alert = db_tx.scalar(select(SafeguardingAlert))
    assert alert.level is AlertLevel.URGENT and alert.status is AlertStatus.NEW
    assert alert.source is AlertSource.HELP_REQUEST
    assert (alert.subject_type, alert.subject_id) == (SubjectType.HELP_REQUEST, sent.id)
    assert alert.participant_id == sent.participant_id and alert.group_id == group.id
    assert alert.due_at - alert.created_at == timedelta(hours=1)
    assert alert.reasons == ["asked_for_help"]
    emails = db_tx.scalars(select(OutboxEmail)).all()
    assert [e.to_address for e in emails] == [lead.email]

    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We have your message" in after and "What happens next" in after
    assert "within 1 hour, day or night" in after and 'href="tel:999"' in after


def test_words_are_triaged_for_the_lead_but_harmless_words_are_still_urgent(
    client, post, group, db_tx
):
    _join(client, post, group)
    _send(client, post, {"words": "can someone just talk to me pls"})
    _send(client, post, {"words": DISCLOSURE})
    alerts = db_tx.scalars(select(SafeguardingAlert).order_by(SafeguardingAlert.id)).all()
    assert [a.level for a in alerts] == [AlertLevel.URGENT, AlertLevel.URGENT]
    assert alerts[0].reasons == ["asked_for_help"] and alerts[0].text.startswith("can someone")
    assert alerts[1].reasons[0] == "asked_for_help" and "physical_abuse" in alerts[1].reasons
    assert alerts[1].text == DISCLOSURE


def test_a_double_tap_or_a_resend_is_one_request_one_alert_one_email(
    client, post, group, db_tx, make_user
):
    make_user(Role.SAFEGUARDING_LEAD)
    _join(client, post, group)
    key = _key(client.get("/help").get_data(as_text=True))
    first = post("/help", {"submission_key": key, "words": "help"})
    again = post("/help", {"submission_key": key, "words": "help"})
    resent = post("/help", {"submission_key": key, "words": "help", "reach_by": "at_group"})
    assert first.headers["Location"] == again.headers["Location"] == resent.headers["Location"]
    assert _count(db_tx, HelpRequest) == 1
    assert _count(db_tx, SafeguardingAlert) == 1
    assert _count(db_tx, OutboxEmail) == 1
    # A new visit to the page is a new form: a second request, on purpose, is kept.
    _send(client, post, {"words": "me again"})
    assert _count(db_tx, HelpRequest) == 2 and _count(db_tx, SafeguardingAlert) == 2


def test_the_phone_number_is_kept_only_when_the_child_chose_it(client, post, group, db_tx):
    _join(client, post, group)
    _send(client, post, {"reach_by": "at_group", "phone": "07700 900123"})
    _send(client, post, {"reach_by": "phone", "phone": "07700 900456"})
    stored = db_tx.scalars(select(HelpRequest).order_by(HelpRequest.id)).all()
    assert [(r.reach_by, r.phone) for r in stored] == [
        ("at_group", None),
        ("phone", "07700 900456"),
    ]


def test_a_missing_phone_number_keeps_the_words_and_the_key(client, post, group, db_tx):
    _join(client, post, group)
    key = _key(client.get("/help").get_data(as_text=True))
    refused = post("/help", {"submission_key": key, "words": "please", "reach_by": "phone"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Write the phone number, or choose another way" in page
    assert _key(page) == key and "please</textarea>" in page
    assert _count(db_tx, HelpRequest) == 0
    post("/help", {"submission_key": key, "words": "please", "reach_by": "phone", "phone": "x"})
    ok = post("/help", {"submission_key": key, "reach_by": "phone", "phone": "+44 7700 900123"})
    assert ok.status_code == 302
    assert db_tx.scalar(select(HelpRequest.phone)) == "+44 7700 900123"


@pytest.mark.parametrize("bad", ["", "short", "has spaces in it, sixteen+", "<script>" * 4])
def test_a_broken_key_asks_for_one_more_tap_with_a_fresh_key(client, post, group, db_tx, bad):
    _join(client, post, group)
    response = post("/help", {"submission_key": bad, "words": "hi"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please tap Send again." in page and _key(page) != bad
    assert _count(db_tx, HelpRequest) == 0


def test_an_unknown_way_to_reach_is_refused(client, post, group, db_tx):
    _join(client, post, group)
    response = _send(client, post, {"reach_by": "carrier_pigeon"})
    assert response.status_code == 422 and _count(db_tx, HelpRequest) == 0


def test_another_childs_key_never_joins_their_request(app, client, post, group, db_tx):
    _join(client, post, group)
    key = _key(client.get("/help").get_data(as_text=True))
    post("/help", {"submission_key": key, "words": "first child"})
    other = app.test_client()
    post_as = __import__("tests.conftest", fromlist=["post_form"]).post_form
    post_as(other, "/join", {"code": group.current_join_code.display})
    response = post_as(other, "/help", {"submission_key": key, "words": "second child"})
    assert response.status_code == 302
    requests = db_tx.scalars(select(HelpRequest).order_by(HelpRequest.id)).all()
    assert [r.words for r in requests] == ["first child", "second child"]
    assert requests[0].participant_id != requests[1].participant_id
    # Each child sees only their own "we have it" page.
    assert other.get(f"/help/sent/{requests[0].id}").status_code == 404
    assert client.get(f"/help/sent/{requests[1].id}").status_code == 404


def test_sending_without_the_csrf_token_is_refused_and_keeps_the_words(client, post, group, db_tx):
    _join(client, post, group)
    key = _key(client.get("/help").get_data(as_text=True))
    response = client.post("/help", data={"submission_key": key, "words": DISCLOSURE})
    assert response.status_code == 400
    assert _count(db_tx, HelpRequest) == 0
    assert _count(db_tx, SafeguardingAlert) == 0
    page = response.get_data(as_text=True)
    assert "Please tap Send again" in page and DISCLOSURE in page and "tel:999" in page
    assert 'name="csrf_token"' in page  # a fresh token: the next tap sends it


def test_a_page_left_open_overnight_still_sends_on_the_next_tap(
    app, client, post, group, db_tx, monkeypatch
):
    _join(client, post, group)
    page = client.get("/help").get_data(as_text=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    time.sleep(2.1)  # the token on the open page has expired (timestamps are whole seconds)
    stale = client.post(
        "/help", data={"csrf_token": token, "submission_key": _key(page), "words": DISCLOSURE}
    )
    assert stale.status_code == 400 and DISCLOSURE in stale.get_data(as_text=True)
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    again = stale.get_data(as_text=True)
    fresh = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', again).group(1)
    sent = client.post(
        "/help", data={"csrf_token": fresh, "submission_key": _key(again), "words": DISCLOSURE}
    )
    assert sent.status_code == 302
    assert _count(db_tx, HelpRequest) == 1 and _count(db_tx, SafeguardingAlert) == 1


def test_every_child_page_has_get_help_now_and_leave_this_site(client, post, group):
    for path in ("/", "/join", "/help", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'class="help-now" href="/help"' in page, path
        assert 'href="https://www.bbc.co.uk/weather"' in page and "data-quick-exit" in page, path
    _join(client, post, group)
    for path in ("/me", "/help", "/cards/mine", "/cards/new", "/me/answers"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert 'class="help-now" href="/help"' in page, path
        assert page.index("data-quick-exit") < page.index("<main"), path


def test_the_alert_help_page_matches_the_help_page(app, client, post, group, db_tx, council):
    from participation.safeguarding import services

    _join(client, post, group)
    child = db_tx.scalar(select(Participant))
    with app.app_context():  # the alert's email links to the configured site
        alert = services.raise_alert_if_needed(
            db_tx,
            council_id=council.id,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=7,
            text=DISCLOSURE,
            participant_id=child.id,
            group_id=group.id,
        )
    page = client.get(f"/help/{alert.id}").get_data(as_text=True)
    assert 'class="call-button call-emergency" href="tel:999"' in page
    assert 'class="call-button" href="tel:08001111"' in page
    assert "will read what you wrote within 1 hour, day or night" in page
    assert "foster carer" not in page and "carer" not in page

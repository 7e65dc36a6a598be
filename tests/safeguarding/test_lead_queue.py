"""The lead's queue tells the lead what to do: where each alert came from, whether the child
can be reached, the group and its worker, the deadline in words, and the card and where it went."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from challenge_cards.models import CardStatus, ChallengeCard, Service
from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.councils.models import Group, Participant
from participation.db import utcnow
from participation.safeguarding import child_contact, services
from participation.safeguarding.models import (
    ActionKind,
    AlertAction,
    AlertLevel,
    AlertSource,
    HelpRequest,
    SafeguardingAlert,
)
from participation.subjects import SubjectType

DISCLOSURE = "my step dad hits me when mum is out"
_KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


def _alert(db_tx, council, group=None, *, subject_type=SubjectType.SURVEY_ANSWER, **kw):
    now = kw.pop("now", utcnow())
    alert = SafeguardingAlert(
        council_id=council.id,
        group_id=group.id if group else None,
        subject_type=subject_type,
        subject_id=kw.pop("subject_id", 1),
        text=kw.pop("text", DISCLOSURE),
        level=kw.pop("level", AlertLevel.URGENT),
        reasons=["physical_abuse"],
        evidence=[],
        created_at=now,
        due_at=services.due_for(kw.get("level", AlertLevel.URGENT), now),
        **kw,
    )
    db_tx.add(alert)
    db_tx.flush()
    return alert


def _ask_for_help(app, group, data):
    """A child on another phone asks for help through the help page."""
    from tests.conftest import post_form

    phone = app.test_client()
    post_form(phone, "/join", {"code": group.current_join_code.display})
    key = _KEY.search(phone.get("/help").get_data(as_text=True)).group(1)
    assert post_form(phone, "/help", {"submission_key": key, **data}).status_code == 302


def test_the_queue_says_where_each_alert_came_from(client, login_as, db_tx, council, group):
    _alert(db_tx, council, group)
    _alert(db_tx, council, group, subject_type=SubjectType.CHALLENGE_CARD)
    _alert(db_tx, council, group, source=AlertSource.RISK_ANSWER)
    _alert(
        db_tx,
        council,
        group,
        subject_type=SubjectType.HELP_REQUEST,
        source=AlertSource.HELP_REQUEST,
        text="",
    )
    login_as(Role.SAFEGUARDING_LEAD)
    page = client.get("/safeguarding/alerts").get_data(as_text=True)
    for words in (
        "Survey answer: what the child wrote in a survey",
        "Challenge card: what the child wrote on a card",
        "Risk answer: an answer the child tapped in a survey",
        "Help page: the child asked for someone to talk to them",
    ):
        assert words in page
    assert DISCLOSURE not in page


def test_the_deadline_in_words(client, login_as, db_tx, council, group):
    now = utcnow()
    _alert(db_tx, council, group, now=now - timedelta(minutes=20))
    _alert(db_tx, council, group, now=now - timedelta(hours=3, minutes=5))
    login_as(Role.SAFEGUARDING_LEAD)
    page = client.get("/safeguarding/alerts").get_data(as_text=True)
    assert re.search(r"due in (39|40) minutes", page)
    assert "overdue by 2 hours" in page


def test_deadline_words_when_met_or_late(db_tx, council, app):
    alert = _alert(db_tx, council)
    with app.test_request_context():
        assert child_contact.deadline_words(alert, alert.due_at + timedelta(days=3)) == (
            "overdue by 3 days"
        )
        alert.first_action_at = alert.due_at - timedelta(minutes=5)
        assert child_contact.deadline_words(alert, utcnow()) == "first action in time"
        alert.first_action_at = alert.due_at + timedelta(minutes=90)
        assert child_contact.deadline_words(alert, utcnow()) == "first action 1 hour late"


def test_whether_and_how_the_child_can_be_reached(
    app, client, login_as, db_tx, council, group, make_user
):
    worker = make_user(Role.PARTICIPATION_WORKER)
    worker.display_name = "Priya Worker"
    group.worker_id = worker.id
    db_tx.flush()
    _ask_for_help(app, group, {"reach_by": "phone", "phone": "07700 900123"})
    _ask_for_help(app, group, {"reach_by": "through_worker"})
    left = _alert(db_tx, council, group, contact_details="ring me at school on tuesday")
    silent = _alert(db_tx, council, group)
    login_as(Role.SAFEGUARDING_LEAD)
    queue = client.get("/safeguarding/alerts").get_data(as_text=True)
    assert "Yes: by phone" in queue and "Yes: through their worker" in queue
    assert "Yes: the child left a contact" in queue
    assert "No contact left: only through their group" in queue
    assert "Worker: Priya Worker" in queue
    assert "07700 900123" not in queue and "tuesday" not in queue  # details on the alert page

    by_phone, by_worker = db_tx.scalars(
        select(SafeguardingAlert)
        .where(SafeguardingAlert.source == AlertSource.HELP_REQUEST)
        .order_by(SafeguardingAlert.id)
    ).all()
    assert "By phone: 07700 900123" in client.get(f"/safeguarding/alerts/{by_phone.id}").get_data(
        as_text=True
    )
    page = client.get(f"/safeguarding/alerts/{by_worker.id}").get_data(as_text=True)
    assert "Through their worker, Priya Worker" in page
    assert "The child did not write anything" in page and "Voices 8 to 11" in page
    page = client.get(f"/safeguarding/alerts/{left.id}").get_data(as_text=True)
    assert "Contact the child left: ring me at school on tuesday" in page
    page = client.get(f"/safeguarding/alerts/{silent.id}").get_data(as_text=True)
    assert "No contact left. The child was told someone would try to reach them" in page
    assert "Priya Worker" in page


def test_for_a_card_the_lead_sees_the_card_its_status_and_where_it_was_sent(
    client, login_as, db_tx, council, group, make_user
):
    responder = make_user(Role.SERVICE_RESPONDER)
    responder.display_name = "Harry Housing"
    service = Service(council_id=council.id, name="Housing")
    db_tx.add(service)
    db_tx.flush()
    card = ChallengeCard(
        council_id=council.id,
        group_id=group.id,
        raised_by_id=responder.id,
        service_id=service.id,
        what_change=DISCLOSURE,
        status=CardStatus.SENT,
        responder_id=responder.id,
        sent_at=utcnow(),
        due_at=utcnow() + timedelta(days=20),
    )
    db_tx.add(card)
    db_tx.flush()
    alert = _alert(
        db_tx, council, group, subject_type=SubjectType.CHALLENGE_CARD, subject_id=card.id
    )
    login_as(Role.SAFEGUARDING_LEAD)
    page = client.get(f"/safeguarding/alerts/{alert.id}").get_data(as_text=True)
    assert f"Card #{card.id}" in page and "Sent to a service" in page
    assert "Housing" in page and "Harry Housing" in page
    assert "None (not published)" in page
    queue = client.get("/safeguarding/alerts").get_data(as_text=True)
    assert f"Card #{card.id}: Sent to a service" in queue


def test_the_lead_records_that_they_spoke_to_the_child(
    client, login_as, db_tx, council, group, post
):
    alert = _alert(db_tx, council, group, now=utcnow() - timedelta(minutes=30))
    lead = login_as(Role.SAFEGUARDING_LEAD)
    page = f"/safeguarding/alerts/{alert.id}"
    response = post(
        f"{page}/spoke-to-child", {"note": "Met at school, safe plan", "version": "1"}, page=page
    )
    assert response.status_code == 302
    db_tx.expire_all()
    action = db_tx.scalar(select(AlertAction))
    assert action.kind is ActionKind.SPOKE_TO_CHILD and action.by_id == lead.id
    assert action.note == "Met at school, safe plan"
    stored = db_tx.get(SafeguardingAlert, alert.id)
    assert stored.first_action_at is not None and stored.acknowledged_at is not None
    shown = client.get(page).get_data(as_text=True)
    assert "Spoke to the child" in shown and "Met at school, safe plan" in shown
    assert "first action in time" in shown


def test_spoke_to_the_child_with_no_note_is_still_recorded(client, login_as, db_tx, council, post):
    alert = _alert(db_tx, council)
    login_as(Role.SAFEGUARDING_LEAD)
    page = f"/safeguarding/alerts/{alert.id}"
    assert post(f"{page}/spoke-to-child", {"version": "1"}, page=page).status_code == 302
    db_tx.expire_all()
    assert db_tx.scalar(select(AlertAction.kind)) is ActionKind.SPOKE_TO_CHILD


def test_another_councils_lead_cannot_record_on_the_alert(
    client, login_as, db_tx, council, other_council, post
):
    alert = _alert(db_tx, council)
    login_as(Role.SAFEGUARDING_LEAD, council_id=other_council.id)
    response = post(
        f"/safeguarding/alerts/{alert.id}/spoke-to-child",
        {"version": "1"},
        page="/safeguarding/alerts",
    )
    assert response.status_code == 404


def test_a_worker_names_the_groups_worker_on_the_group_page(
    client, login_as, db_tx, group, make_user, post
):
    priya = make_user(Role.PARTICIPATION_WORKER)
    login_as(Role.PARTICIPATION_WORKER)
    page = f"/staff/groups/{group.id}"
    assert "Nobody named yet" in client.get(page).get_data(as_text=True)
    assert post(f"{page}/worker", {"worker": str(priya.id)}, page=page).status_code == 302
    db_tx.expire_all()
    assert db_tx.get(Group, group.id).worker_id == priya.id
    assert db_tx.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.GROUP_WORKER_SET))
    assert post(f"{page}/worker", {"worker": ""}, page=page).status_code == 302
    db_tx.expire_all()
    assert db_tx.get(Group, group.id).worker_id is None


def test_only_a_worker_of_the_council_can_be_named(
    client, login_as, db_tx, group, make_user, other_council, post
):
    elsewhere = make_user(Role.PARTICIPATION_WORKER, council_id=other_council.id)
    panel = make_user(Role.PANEL_MEMBER)
    login_as(Role.ADMIN)
    page = f"/staff/groups/{group.id}"
    for someone in (elsewhere, panel):
        assert post(f"{page}/worker", {"worker": str(someone.id)}, page=page).status_code == 422
    db_tx.expire_all()
    assert db_tx.get(Group, group.id).worker_id is None


def test_a_help_request_alert_links_the_request(app, db_tx, group):
    _ask_for_help(app, group, {"words": "hi"})
    request = db_tx.scalar(select(HelpRequest))
    alert = db_tx.scalar(select(SafeguardingAlert))
    assert alert.subject_id == request.id
    assert db_tx.get(Participant, request.participant_id).group_id == group.id

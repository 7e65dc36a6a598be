"""Alerts raised from children's words: stored with the text, emailed, worked by the lead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.councils.models import Participant
from participation.db import utcnow
from participation.outbox import OutboxEmail
from participation.safeguarding import services
from participation.safeguarding.models import AlertLevel, AlertStatus, SafeguardingAlert
from participation.subjects import SubjectType

DISCLOSURE = "my step dad hits me when mum is out and i dont feel safe at home"
HARMLESS = "maths is killing me lol but i like my foster carer"


def _raise(db_tx, council, text=DISCLOSURE, **kw):
    return services.raise_alert_if_needed(
        db_tx,
        council_id=council.id,
        subject_type=SubjectType.CHALLENGE_CARD,
        subject_id=7,
        text=text,
        **kw,
    )


def test_a_disclosure_raises_an_urgent_alert_and_emails_the_leads(db_tx, council, make_user):
    lead = make_user(Role.SAFEGUARDING_LEAD)
    make_user(Role.PANEL_MEMBER)
    alert = _raise(db_tx, council)
    assert alert is not None and alert.level is AlertLevel.URGENT
    assert "physical_abuse" in alert.reasons
    assert alert.due_at - alert.created_at == timedelta(hours=1)
    assert alert.text == DISCLOSURE and alert.status is AlertStatus.NEW
    emails = db_tx.scalars(select(OutboxEmail)).all()
    assert [e.to_address for e in emails] == [lead.email]
    assert "URGENT" in emails[0].subject and f"/safeguarding/alerts/{alert.id}" in emails[0].body
    assert "hits" not in emails[0].body and "step dad" not in emails[0].body


def test_harmless_words_raise_nothing(db_tx, council, make_user):
    make_user(Role.SAFEGUARDING_LEAD)
    assert _raise(db_tx, council, HARMLESS) is None
    assert db_tx.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_the_alert_lives_and_dies_with_the_transaction_that_stores_the_text(db_tx, council):
    savepoint = db_tx.begin_nested()
    _raise(db_tx, council)
    savepoint.rollback()
    assert db_tx.scalar(select(func.count()).select_from(SafeguardingAlert)) == 0


def test_a_concern_is_due_in_one_working_day(db_tx, council):
    alert = _raise(db_tx, council, "sometimes i go to bed hungry")
    assert alert is not None and alert.level is AlertLevel.CONCERN
    assert alert.reasons == ["neglect"]
    assert alert.due_at == services.due_for(AlertLevel.CONCERN, alert.created_at)
    assert timedelta(hours=23) <= alert.due_at - alert.created_at <= timedelta(days=5)


def test_concern_deadline_rule():
    from datetime import UTC, datetime

    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert services.due_for(AlertLevel.CONCERN, friday) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert services.due_for(AlertLevel.URGENT, friday) == friday + timedelta(hours=1)


# The lead's queue, through HTTP -------------------------------------------------------


def test_the_lead_sees_overdue_alerts_first(client, login_as, db_tx, council):
    old = _raise(db_tx, council, now=utcnow() - timedelta(hours=3))
    new = _raise(db_tx, council)
    login_as(Role.SAFEGUARDING_LEAD)
    page = client.get("/safeguarding/alerts").get_data(as_text=True)
    assert page.index(f"#{old.id}") < page.index(f"#{new.id}")
    assert page.count("Overdue") == 1
    assert DISCLOSURE not in page  # the queue does not show children's words


def test_opening_an_alert_shows_the_words_and_is_audited(client, login_as, db_tx, council):
    alert = _raise(db_tx, council)
    lead = login_as(Role.SAFEGUARDING_LEAD)
    page = client.get(f"/safeguarding/alerts/{alert.id}").get_data(as_text=True)
    assert DISCLOSURE in page
    viewed = db_tx.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.FREE_TEXT_VIEWED)
    )
    assert viewed.actor_id == lead.id and viewed.target_id == alert.id


def test_acknowledge_record_action_and_close(client, login_as, db_tx, council, post):
    alert = _raise(db_tx, council, now=utcnow() - timedelta(hours=2))
    login_as(Role.SAFEGUARDING_LEAD)
    page = f"/safeguarding/alerts/{alert.id}"
    assert post(f"{page}/acknowledge", {"version": "1"}, page=page).status_code == 302
    refused = post(f"{page}/close", {"outcome": "done", "version": "2"}, page=page)
    assert refused.status_code == 422
    assert "Record what was done before closing" in refused.get_data(as_text=True)
    assert (
        post(
            f"{page}/actions", {"note": "Called the social worker", "version": "2"}, page=page
        ).status_code
        == 302
    )
    assert (
        post(
            f"{page}/close", {"outcome": "Child safe, plan made", "version": "3"}, page=page
        ).status_code
        == 302
    )
    db_tx.expire_all()
    stored = db_tx.get(SafeguardingAlert, alert.id)
    assert stored.status is AlertStatus.CLOSED and stored.outcome == "Child safe, plan made"
    assert [a.note for a in stored.actions] == ["Called the social worker"]
    assert stored.first_action_at is not None and not stored.is_overdue(utcnow())


def test_a_second_lead_acting_on_an_old_page_is_told_and_loses_nothing(
    client, login_as, db_tx, council, post
):
    alert = _raise(db_tx, council)
    login_as(Role.SAFEGUARDING_LEAD)
    page = f"/safeguarding/alerts/{alert.id}"
    post(f"{page}/actions", {"note": "First lead's note", "version": "1"}, page=page)
    stale = post(f"{page}/actions", {"note": "Second lead's note", "version": "1"}, page=page)
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Someone else changed this alert" in text
    assert "Second lead&#39;s note" in text or "Second lead's note" in text  # kept in the form


def test_another_councils_alert_is_not_found(client, login_as, db_tx, council, other_council):
    alert = _raise(db_tx, council)
    login_as(Role.SAFEGUARDING_LEAD, council_id=other_council.id)
    assert client.get(f"/safeguarding/alerts/{alert.id}").status_code == 404


@pytest.mark.parametrize("role", [Role.PANEL_MEMBER, Role.SERVICE_RESPONDER, Role.ADMIN])
def test_only_safeguarding_leads_see_alerts(client, login_as, db_tx, council, role):
    alert = _raise(db_tx, council)
    login_as(role)
    assert client.get("/safeguarding/alerts").status_code == 403
    assert client.get(f"/safeguarding/alerts/{alert.id}").status_code == 403


# The child's help page ------------------------------------------------------------------


def _join(app, client, post, group, db_tx):
    post("/join", {"code": group.current_join_code.display})
    from participation.councils.services import hash_token

    token = client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value
    return db_tx.scalar(select(Participant).where(Participant.token_hash == hash_token(token)))


def test_the_child_sees_help_and_can_leave_a_way_to_be_contacted(
    app, client, post, group, db_tx, council
):
    child = _join(app, client, post, group, db_tx)
    alert = _raise(db_tx, council, participant_id=child.id, group_id=group.id)
    page = client.get(f"/help/{alert.id}").get_data(as_text=True)
    assert "Thank you for telling us" in page and "0800 1111" in page and "999" in page
    response = post(f"/help/{alert.id}", {"contact": "ring my foster carer after 6"})
    assert "Someone will get in touch" in response.get_data(as_text=True)
    db_tx.expire_all()
    assert db_tx.get(SafeguardingAlert, alert.id).contact_details == "ring my foster carer after 6"


def test_a_child_cannot_open_another_childs_help_page(app, client, post, group, db_tx, council):
    _join(app, client, post, group, db_tx)
    someone_else = _raise(db_tx, council)
    assert client.get(f"/help/{someone_else.id}").status_code == 404


def test_general_help_is_open_to_everyone(client):
    page = client.get("/help").get_data(as_text=True)
    assert "Childline" in page and 'href="tel:08001111"' in page

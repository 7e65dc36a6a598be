"""Every alert reaches a person: first in the outbox, sent again until acknowledged.

Against a real SMTP server (aiosmtpd on 127.0.0.1). Measured in the issue: after a mail
outage the alert email was 37th of 37 in line, and an overdue alert was never sent again.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from participation import links
from participation.accounts.models import Role, StaffRole, StaffUser
from participation.councils.models import Council
from participation.db import db, utcnow
from participation.outbox import (
    ALERT_PRIORITY,
    EmailStatus,
    OutboxEmail,
    deliver_due,
    enqueue,
)
from participation.safeguarding import services
from participation.safeguarding.models import AlertLevel, AlertStatus, SafeguardingAlert
from participation.safeguarding.recipients import log_councils_without_a_lead
from participation.safeguarding.reminders import remind_overdue_alerts
from participation.subjects import SubjectType

FALLBACK = "safeguarding@council.example"
URGENT_WORDS = "my step dad hits me when mum is out"
CONCERN_WORDS = "sometimes i go to bed hungry"


def _mail(app: Any, port: int) -> dict[str, Any]:
    return {**app.config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT_SECONDS": 5}


def _raise(app, session, council, text=URGENT_WORDS, **kw) -> SafeguardingAlert:
    with app.app_context():
        alert = services.raise_alert_if_needed(
            session,
            council_id=council.id,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=7,
            text=text,
            **kw,
        )
    assert alert is not None
    return alert


def _reminders(session: Session) -> list[OutboxEmail]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxEmail).where(OutboxEmail.subject.like("OVERDUE%")).order_by(OutboxEmail.id)
        )
    )


@pytest.fixture()
def fallback(app, monkeypatch):
    monkeypatch.setitem(app.config, "SAFEGUARDING_FALLBACK_EMAIL", FALLBACK)
    # Services called directly, outside a request, read the process's app: make that this
    # test's app, not whichever app another test module created last.
    monkeypatch.setattr(links, "_process_app", app)
    return FALLBACK


# First in line -----------------------------------------------------------------------


def test_after_an_outage_the_alert_email_goes_before_36_others(
    app, db_tx, council, make_user, smtp_down
):
    lead = make_user(Role.SAFEGUARDING_LEAD, email="dsl@council.example")
    for n in range(36):
        enqueue(db_tx, to=f"worker{n}@council.example", subject=f"Card {n}", body="b")
    _raise(app, db_tx, council)
    config = _mail(app, smtp_down.port)
    start = utcnow()
    report = deliver_due(db_tx, config, now=start)  # the server is down
    assert report.retried == 37

    smtp_down.start()
    later = start + timedelta(hours=2)  # every email is due again by now
    first = deliver_due(db_tx, config, now=later, limit=1)
    assert first.sent == 1
    [message] = smtp_down.mailbox.messages()
    assert message["To"] == lead.email and "URGENT safeguarding alert" in message["Subject"]
    rest = deliver_due(db_tx, config, now=later, limit=100)
    assert rest.sent == 36
    assert len(smtp_down.mailbox.messages()) == 37


def test_during_an_outage_an_alert_is_tried_every_minute_and_never_given_up(
    app, db_tx, council, make_user, smtp_down
):
    make_user(Role.SAFEGUARDING_LEAD)
    alert_email = _raise(app, db_tx, council) and db_tx.scalars(select(OutboxEmail)).one()
    other = enqueue(db_tx, to="worker@council.example", subject="Card", body="b")
    config = {**_mail(app, smtp_down.port), "OUTBOX_MAX_ATTEMPTS": 3}
    moment = utcnow()
    for _ in range(5):
        moment += timedelta(hours=2)
        deliver_due(db_tx, config, now=moment)
    db_tx.expire_all()
    assert other.status is EmailStatus.FAILED
    assert alert_email.status is EmailStatus.PENDING and alert_email.attempts == 5
    assert alert_email.next_attempt_at - moment <= timedelta(seconds=60)
    smtp_down.start()
    deliver_due(db_tx, config, now=moment + timedelta(minutes=1))
    db_tx.expire_all()
    assert alert_email.status is EmailStatus.SENT


# Sent again until acknowledged -------------------------------------------------------


def test_an_overdue_unacknowledged_alert_is_sent_again_to_every_lead_and_the_fallback(
    app, db_tx, council, make_user, fallback, staff_client, post_as
):
    leads = [make_user(Role.SAFEGUARDING_LEAD) for _ in range(2)]
    raised = utcnow() - timedelta(hours=2)
    alert = _raise(app, db_tx, council, now=raised)  # due an hour ago, nobody acknowledged
    lead_browser, _lead = staff_client(Role.SAFEGUARDING_LEAD)
    page = f"/safeguarding/alerts/{alert.id}"
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"', lead_browser.get(page).get_data(as_text=True)
    ).group(1)

    now = utcnow()
    assert remind_overdue_alerts(db_tx, now) == 1
    first = _reminders(db_tx)
    expected = [*sorted([*(u.email for u in leads), _lead.email]), FALLBACK]
    assert [e.to_address for e in first] == expected
    for email in first:
        assert email.priority == ALERT_PRIORITY
        assert f"http://localhost/safeguarding/alerts/{alert.id}" in email.body
        assert "hits" not in email.body and "step dad" not in email.body
        assert "Reminder: 1" in email.body and "(UK time)" in email.body
    # Not again before the interval (30 minutes for an urgent alert), however often it runs.
    assert remind_overdue_alerts(db_tx, now + timedelta(minutes=5)) == 0
    assert remind_overdue_alerts(db_tx, now + timedelta(minutes=29)) == 0
    assert remind_overdue_alerts(db_tx, now + timedelta(minutes=30)) == 1
    assert len(_reminders(db_tx)) == 2 * len(expected)
    db_tx.expire_all()
    assert alert.reminders_sent == 2

    # The lead acknowledges from the page opened before the reminders: still accepted.
    reply = post_as(lead_browser, f"{page}/acknowledge", {"version": version}, page=page)
    assert reply.status_code in (302, 303), reply.status_code
    db_tx.expire_all()
    assert alert.status is AlertStatus.ACKNOWLEDGED
    assert remind_overdue_alerts(db_tx, now + timedelta(hours=5)) == 0
    assert len(_reminders(db_tx)) == 2 * len(expected)


def test_an_alert_not_yet_due_is_not_chased_and_a_concern_every_four_hours(
    app, db_tx, council, make_user
):
    make_user(Role.SAFEGUARDING_LEAD)
    _raise(app, db_tx, council)  # due in an hour
    assert remind_overdue_alerts(db_tx) == 0
    concern = _raise(app, db_tx, council, CONCERN_WORDS)
    assert concern.level is AlertLevel.CONCERN
    past_due = concern.due_at + timedelta(minutes=1)
    with app.app_context():
        assert remind_overdue_alerts(db_tx, past_due) == 2  # the urgent one is overdue too
        assert remind_overdue_alerts(db_tx, past_due + timedelta(hours=1)) == 1  # urgent only
        assert remind_overdue_alerts(db_tx, past_due + timedelta(hours=4)) == 2


def test_running_the_reminders_twice_at_once_sends_each_reminder_once(
    app, db_tx, council, make_user
):
    """Two workers in one cycle: the second sees reminder 1 claimed and sends nothing."""
    make_user(Role.SAFEGUARDING_LEAD)
    _raise(app, db_tx, council, now=utcnow() - timedelta(hours=2))
    now = utcnow()
    other = Session(bind=db_tx.connection(), join_transaction_mode="create_savepoint")
    assert remind_overdue_alerts(db_tx, now) == 1
    assert remind_overdue_alerts(other, now) == 0
    other.close()
    assert len(_reminders(db_tx)) == 1


def test_the_cli_and_the_outbox_worker_send_the_reminders(
    app, db_tx, council, make_user, smtp, monkeypatch
):
    lead = make_user(Role.SAFEGUARDING_LEAD)
    alert = _raise(app, db_tx, council, now=utcnow() - timedelta(hours=3))
    runner = app.test_cli_runner()
    once = runner.invoke(args=["safeguarding", "remind-overdue"])
    assert once.exit_code == 0, once.output
    assert "1 overdue safeguarding alert(s) reminded." in once.output
    # 31 minutes later, the outbox worker (no cron job) sends the next one, and delivers it.
    db_tx.execute(
        SafeguardingAlert.__table__.update()
        .where(SafeguardingAlert.id == alert.id)
        .values(last_reminded_at=utcnow() - timedelta(minutes=31))
    )
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    looped = runner.invoke(
        args=["outbox", "deliver", "--loop", "--interval", "0.05", "--max-seconds", "0.3"]
    )
    assert looped.exit_code == 0, looped.output
    assert "reminded 1 overdue safeguarding alert(s)" in looped.output
    subjects = [m["Subject"] for m in smtp.mailbox.messages() if m["To"] == lead.email]
    assert sum(s.startswith("OVERDUE") for s in subjects) == 2
    assert sum(s.startswith("URGENT") for s in subjects) == 1


# PostgreSQL: two worker processes really at once ---------------------------------------


def test_two_workers_at_once_on_postgres_send_each_reminder_once(app):
    assert db.engine is not None
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    engine = db.engine
    tag = uuid.uuid4().hex[:10]
    with Session(engine) as session:
        council = Council(name=f"Race {tag}", slug=f"race-{tag}")
        session.add(council)
        session.flush()
        lead = StaffUser(
            council_id=council.id, email=f"lead-{tag}@council.example", display_name="Lead"
        )
        lead.password_hash = "x"
        lead.role_rows = [StaffRole(role=Role.SAFEGUARDING_LEAD)]
        session.add(lead)
        session.flush()
        _raise(app, session, council, now=utcnow() - timedelta(hours=2))
        session.commit()
        council_id = council.id
    try:
        barrier = threading.Barrier(2)
        counts: list[int] = []

        def worker() -> None:
            with Session(engine) as session:
                barrier.wait(timeout=10)
                counts.append(remind_overdue_alerts(session))
                session.commit()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(counts) == [0, 1]
        with Session(engine) as session:
            reminders = session.scalar(
                select(func.count())
                .select_from(OutboxEmail)
                .where(OutboxEmail.council_id == council_id, OutboxEmail.subject.like("OVERDUE%"))
            )
            assert reminders == 1
    finally:
        with engine.begin() as connection:
            connection.execute(delete(OutboxEmail).where(OutboxEmail.council_id == council_id))
            connection.execute(
                delete(SafeguardingAlert).where(SafeguardingAlert.council_id == council_id)
            )
            users = select(StaffUser.id).where(StaffUser.council_id == council_id)
            connection.execute(delete(StaffRole).where(StaffRole.user_id.in_(users)))
            connection.execute(delete(StaffUser).where(StaffUser.council_id == council_id))
            connection.execute(delete(Council).where(Council.id == council_id))


# A council whose alerts would reach nobody is named ----------------------------------


def test_a_council_with_no_lead_and_no_fallback_is_named_at_start_up(
    app, db_tx, council, other_council, make_user, caplog, monkeypatch
):
    make_user(Role.SAFEGUARDING_LEAD, council_id=other_council.id)
    retired = make_user(Role.SAFEGUARDING_LEAD)
    retired.active = False  # an inactive lead reaches nobody either
    db_tx.flush()
    with caplog.at_level(logging.WARNING, logger="participation.safeguarding.recipients"):
        log_councils_without_a_lead(app)
    named = [r.getMessage() for r in caplog.records]
    assert any("'Test Council'" in m and "no active safeguarding lead" in m for m in named)
    assert not any("Other Council" in m for m in named)

    caplog.clear()
    monkeypatch.setitem(app.config, "SAFEGUARDING_FALLBACK_EMAIL", FALLBACK)
    with caplog.at_level(logging.WARNING, logger="participation.safeguarding.recipients"):
        log_councils_without_a_lead(app)
    assert caplog.records == []


def test_start_up_does_not_create_or_need_the_database(tmp_path, caplog):
    """Before `db upgrade`: no SQLite file is made, and nothing fails."""
    from flask import Flask

    fake = Flask("no_db_yet")
    missing = tmp_path / "not-there.sqlite3"
    fake.config.update(DATABASE_URL=f"sqlite:///{missing}", SAFEGUARDING_FALLBACK_EMAIL=None)
    log_councils_without_a_lead(fake)
    assert not missing.exists()


def test_the_admin_home_page_warns_when_alerts_reach_nobody(
    client, login_as, make_user, other_council, monkeypatch, app
):
    login_as(Role.ADMIN)
    page = client.get("/staff").get_data(as_text=True)
    assert 'id="no-safeguarding-lead"' in page
    assert "Safeguarding alerts from Test Council reach nobody." in page

    monkeypatch.setitem(app.config, "SAFEGUARDING_FALLBACK_EMAIL", FALLBACK)
    assert 'id="no-safeguarding-lead"' not in client.get("/staff").get_data(as_text=True)
    monkeypatch.setitem(app.config, "SAFEGUARDING_FALLBACK_EMAIL", None)
    make_user(Role.SAFEGUARDING_LEAD)
    assert 'id="no-safeguarding-lead"' not in client.get("/staff").get_data(as_text=True)


def test_only_administrators_see_the_warning(client, login_as):
    login_as(Role.PARTICIPATION_WORKER)
    assert 'id="no-safeguarding-lead"' not in client.get("/staff").get_data(as_text=True)

"""The mail server is down when a child's words raise a safeguarding alert.

From the child's answer to the emails in the leads' mailboxes: the child is helped at once
(no email is sent while the child waits), the emails wait in the outbox while the SMTP
server (aiosmtpd on 127.0.0.1) is down, and each lead gets exactly one when it is back.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.db import utcnow
from participation.outbox import EmailStatus, OutboxEmail, deliver_due
from participation.safeguarding.models import SafeguardingAlert

WORDS = "my step dad hits me when mum is out and i am scared to go home"


def test_alert_emails_wait_for_the_smtp_down_and_each_lead_gets_one(
    app, client, post, group, survey_round, make_user, other_council, db_tx, smtp_down
):
    leads = [make_user(Role.SAFEGUARDING_LEAD, email=f"dsl{i}@council.example") for i in (1, 2)]
    make_user(Role.PARTICIPATION_WORKER, email="worker@council.example")
    make_user(Role.SAFEGUARDING_LEAD, council_id=other_council.id, email="dsl@other.example")
    config = {
        **app.config,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_down.port,
        "MAIL_FROM": "alerts@council.example",
        "MAIL_TIMEOUT_SECONDS": 5,
    }

    # The child answers, skipping to the question that asks for their own words.
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    post(f"{base}/q/1", {"action": "skip"}, page=f"{base}/q/1")
    post(f"{base}/q/2", {"action": "next", "choice": "no"}, page=f"{base}/q/2")
    answered = post(f"{base}/q/4", {"action": "next", "text": WORDS}, page=f"{base}/q/4")

    alert = db_tx.scalar(select(SafeguardingAlert))
    assert alert is not None
    assert answered.status_code == 302
    assert answered.headers["Location"].startswith(f"/help/{alert.id}")
    assert "Childline" in client.get(answered.headers["Location"]).get_data(as_text=True)
    # A resend of the same words (a double tap) raises nothing more.
    post(f"{base}/q/4", {"action": "next", "text": WORDS}, page=f"{base}/q/4")
    queued = db_tx.scalars(select(OutboxEmail).order_by(OutboxEmail.to_address)).all()
    assert [e.to_address for e in queued] == [lead.email for lead in leads]
    assert all(e.status is EmailStatus.PENDING for e in queued)

    # The mail server is down: every attempt fails, nothing is lost.
    now = utcnow()
    down = deliver_due(db_tx, config, now=now)
    assert (down.sent, down.retried, down.failed) == (0, 2, 0)
    later = deliver_due(db_tx, config, now=now + timedelta(minutes=5))
    assert (later.sent, later.retried, later.failed) == (0, 2, 0)
    db_tx.expire_all()
    rows = db_tx.scalars(select(OutboxEmail)).all()
    assert [(r.status, r.attempts) for r in rows] == [(EmailStatus.PENDING, 2)] * 2
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in rows)

    # Back up: after the backoff each lead gets exactly one email, and never a second.
    smtp_down.start()
    back = deliver_due(db_tx, config, now=now + timedelta(hours=1))
    assert (back.sent, back.retried, back.failed) == (2, 0, 0)
    assert deliver_due(db_tx, config, now=now + timedelta(days=3)).handled == 0

    messages = smtp_down.mailbox.messages()
    assert sorted(m["To"] for m in messages) == ["dsl1@council.example", "dsl2@council.example"]
    for message in messages:
        assert f"safeguarding alert #{alert.id}" in message["Subject"]
        body = message.get_content()
        assert f"/safeguarding/alerts/{alert.id}" in body
        assert "hits me" not in body and "step dad" not in body  # never the child's words
    db_tx.expire_all()
    assert db_tx.scalar(select(func.count()).select_from(OutboxEmail)) == 2
    assert {r.status for r in db_tx.scalars(select(OutboxEmail))} == {EmailStatus.SENT}

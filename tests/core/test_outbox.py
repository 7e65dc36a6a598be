"""The email outbox, delivered to a real SMTP server on 127.0.0.1 (aiosmtpd), never a mock.

A mail server that is down must delay an email and lose nothing; an email is sent once.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from participation.db import db, utcnow
from participation.outbox import (
    EmailStatus,
    OutboxEmail,
    _describe,
    deliver_due,
    enqueue,
    retry_delay,
)

SENDER = "alerts@council.example"


@pytest.fixture(scope="module", autouse=True)
def outbox_left_clean(app):
    yield
    assert db.engine is not None
    with db.engine.begin() as connection:
        # deliver_due commits after each email; inside db_tx those commits only release
        # SAVEPOINTs, so every test's rows must have been rolled back with its transaction.
        left = connection.scalar(select(func.count()).select_from(OutboxEmail.__table__))
    assert left == 0


def mail_config(app, port: int, **overrides: Any) -> dict[str, Any]:
    return {
        **app.config,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_FROM": SENDER,
        "MAIL_TIMEOUT_SECONDS": 5,
        **overrides,
    }


def stored(session: Session, email_id: int) -> OutboxEmail:
    """The row as the database holds it now, not as this session remembers it."""
    row = session.scalar(
        select(OutboxEmail)
        .where(OutboxEmail.id == email_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def test_mail_settings_have_safe_defaults(app):
    assert app.config["MAIL_PORT"] == 25 and isinstance(app.config["MAIL_PORT"], int)
    assert app.config["MAIL_USE_STARTTLS"] is False and app.config["MAIL_USE_SSL"] is False
    assert app.config["MAIL_PASSWORD"] is None
    assert app.config["OUTBOX_MAX_ATTEMPTS"] == 60


def test_enqueue_only_flushes_and_the_same_key_makes_one_row(db_tx, council):
    first = enqueue(
        db_tx,
        to="dsl@council.example",
        subject="Safeguarding alert",
        body="Please look at alert 7.",
        council_id=council.id,
        idempotency_key="safeguarding-alert:7:dsl@council.example",
    )
    again = enqueue(
        db_tx,
        to="dsl@council.example",
        subject="Safeguarding alert (retried request)",
        body="Please look at alert 7.",
        council_id=council.id,
        idempotency_key="safeguarding-alert:7:dsl@council.example",
    )
    assert again.id == first.id
    rows = db_tx.scalars(select(OutboxEmail)).all()
    assert [(r.subject, r.status, r.attempts, r.council_id) for r in rows] == [
        ("Safeguarding alert", EmailStatus.PENDING, 0, council.id)
    ]
    # Without a key, two calls are two emails.
    enqueue(db_tx, to="a@council.example", subject="Reminder", body="x")
    enqueue(db_tx, to="a@council.example", subject="Reminder", body="x")
    assert db_tx.scalar(select(func.count()).select_from(OutboxEmail)) == 3


def test_a_long_key_is_stored_as_its_hash_and_still_makes_one_row(db_tx):
    key = "safeguarding-alert-7-" + "x" * 240 + "@council.example"
    first = enqueue(db_tx, to="a@council.example", subject="s", body="b", idempotency_key=key)
    again = enqueue(db_tx, to="a@council.example", subject="s", body="b", idempotency_key=key)
    assert again.id == first.id
    assert first.idempotency_key is not None and first.idempotency_key.startswith("sha256:")
    assert len(first.idempotency_key) <= 120


def test_the_database_refuses_a_second_row_with_the_same_key(db_tx):
    enqueue(db_tx, to="a@council.example", subject="s", body="b", idempotency_key="k1")
    db_tx.add(
        OutboxEmail(to_address="a@council.example", subject="s", body="b", idempotency_key="k1")
    )
    with pytest.raises(IntegrityError), db_tx.begin_nested():
        db_tx.flush()


def test_enqueue_refuses_header_injection(db_tx):
    with pytest.raises(ValueError, match="single line"):
        enqueue(db_tx, to="a@council.example", subject="Hi\r\nBcc: x@evil.example", body="b")
    with pytest.raises(ValueError, match="single line"):
        enqueue(db_tx, to="a@council.example\nBcc: x@evil.example", subject="Hi", body="b")
    assert db_tx.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_delivery_sends_the_exact_email_and_marks_it_sent(app, db_tx, council, smtp):
    body = "A child wrote something that needs a look today.\n\nOpen alert 12. £ ✓ مرحبا\n"
    queued = enqueue(
        db_tx,
        to="dsl@council.example",
        subject="Safeguarding alert: Test Council",
        body=body,
        council_id=council.id,
    )
    report = deliver_due(db_tx, mail_config(app, smtp.port))

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [envelope] = smtp.mailbox.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["dsl@council.example"]
    [message] = smtp.mailbox.messages()
    assert message["From"] == SENDER
    assert message["To"] == "dsl@council.example"
    assert message["Subject"] == "Safeguarding alert: Test Council"
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == body
    row = stored(db_tx, queued.id)
    assert row.status is EmailStatus.SENT
    assert row.sent_at is not None and row.attempts == 0 and row.last_error is None


def test_a_server_that_is_down_delays_the_email_and_it_is_sent_once_when_back(app, db_tx, smtp):
    config = mail_config(app, smtp.port)
    queued = enqueue(db_tx, to="dsl@council.example", subject="Alert", body="Look at alert 3.")
    smtp.stop()
    now = utcnow()

    report = deliver_due(db_tx, config, now=now)

    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = stored(db_tx, queued.id)
    assert row.status is EmailStatus.PENDING
    assert row.attempts == 1
    assert row.last_error and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=30)
    assert (row.subject, row.body) == ("Alert", "Look at alert 3.")
    # Not due again until the backoff has passed, even once the server is back.
    smtp.start()
    assert deliver_due(db_tx, config, now=now + timedelta(seconds=29)).sent == 0
    assert smtp.mailbox.envelopes == []

    report = deliver_due(db_tx, config, now=now + timedelta(seconds=31))

    assert report.sent == 1
    assert deliver_due(db_tx, config, now=now + timedelta(hours=3)).sent == 0
    assert [m["Subject"] for m in smtp.mailbox.messages()] == ["Alert"]
    row = stored(db_tx, queued.id)
    assert row.status is EmailStatus.SENT and row.attempts == 1


def test_when_the_server_cannot_be_reached_every_due_email_waits(app, db_tx, smtp_down):
    config = mail_config(app, smtp_down.port)  # nothing listens there
    ids = [
        enqueue(db_tx, to=f"p{i}@council.example", subject=f"Card {i}", body="b").id
        for i in range(3)
    ]
    report = deliver_due(db_tx, config)
    assert (report.sent, report.retried, report.failed) == (0, 3, 0)
    for email_id in ids:
        row = stored(db_tx, email_id)
        assert (row.status, row.attempts) == (EmailStatus.PENDING, 1)
        assert row.next_attempt_at > utcnow()


def test_an_email_is_never_sent_twice(app, db_tx, smtp):
    config = mail_config(app, smtp.port)
    for i in range(3):
        enqueue(db_tx, to="worker@council.example", subject=f"Deadline {i}", body="b")

    first = deliver_due(db_tx, config, limit=2)
    second = deliver_due(db_tx, config)
    third = deliver_due(db_tx, config, now=utcnow() + timedelta(days=2))

    assert (first.sent, second.sent, third.sent) == (2, 1, 0)
    subjects = [m["Subject"] for m in smtp.mailbox.messages()]
    assert sorted(subjects) == ["Deadline 0", "Deadline 1", "Deadline 2"]


def test_a_refused_recipient_does_not_hold_up_the_others(app, db_tx, smtp):
    refused = enqueue(db_tx, to="gone@refused.example", subject="One", body="b")
    fine = enqueue(db_tx, to="dsl@council.example", subject="Two", body="b")

    report = deliver_due(db_tx, mail_config(app, smtp.port))

    assert (report.sent, report.retried) == (1, 1)
    assert [m["To"] for m in smtp.mailbox.messages()] == ["dsl@council.example"]
    row = stored(db_tx, refused.id)
    assert row.status is EmailStatus.PENDING and "550" in (row.last_error or "")
    assert stored(db_tx, fine.id).status is EmailStatus.SENT


def test_after_the_last_attempt_the_email_is_failed_but_kept(app, db_tx, smtp_down):
    config = mail_config(app, smtp_down.port, OUTBOX_MAX_ATTEMPTS=3)
    queued = enqueue(db_tx, to="dsl@council.example", subject="Alert", body="Keep me.")
    now = utcnow()
    reports = []
    for _ in range(4):
        reports.append(deliver_due(db_tx, config, now=now))
        now += timedelta(hours=2)  # past any backoff

    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = stored(db_tx, queued.id)
    assert row.status is EmailStatus.FAILED
    assert (row.attempts, row.to_address, row.body) == (3, "dsl@council.example", "Keep me.")
    assert row.last_error and row.sent_at is None


def test_the_mail_password_never_reaches_the_stored_error(app, db_tx, smtp):
    # The test server offers no AUTH, so the login fails after the password was given.
    config = mail_config(app, smtp.port, MAIL_USERNAME="outbox", MAIL_PASSWORD="s3cret-Pa55")
    queued = enqueue(db_tx, to="dsl@council.example", subject="Alert", body="b")
    assert deliver_due(db_tx, config).retried == 1
    error = stored(db_tx, queued.id).last_error or ""
    assert "AUTH" in error and "s3cret-Pa55" not in error
    assert _describe(OSError("login s3cret-Pa55 refused"), config) == "OSError: login *** refused"
    assert len(_describe(OSError("x" * 2000), config)) == 500


def test_backoff_doubles_and_is_capped_at_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 9, 40)] == [
        30,
        60,
        120,
        3600,
        3600,
        3600,
    ]


def test_cli_status_counts_emails_by_status(app, db_tx):
    enqueue(db_tx, to="a@council.example", subject="One", body="b")
    enqueue(db_tx, to="b@council.example", subject="Two", body="b")
    sent = enqueue(db_tx, to="c@council.example", subject="Three", body="b")
    sent.status = EmailStatus.SENT
    db_tx.flush()

    result = app.test_cli_runner().invoke(args=["outbox", "status"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["pending: 2", "sent: 1", "failed: 0"]
    assert lines[3].startswith("oldest pending: ") and lines[3].endswith(" old (attempts 0)")


def test_cli_deliver_sends_once_and_loops_until_max_seconds(app, db_tx, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.port)
    monkeypatch.setitem(app.config, "MAIL_FROM", SENDER)
    enqueue(db_tx, to="dsl@council.example", subject="From the CLI", body="b")
    runner = app.test_cli_runner()

    once = runner.invoke(args=["outbox", "deliver"])
    assert once.exit_code == 0, once.output
    assert once.output.strip().endswith("sent 1, retried 0, failed 0")

    looped = runner.invoke(
        args=["outbox", "deliver", "--loop", "--interval", "0.05", "--max-seconds", "0.3"]
    )
    assert looped.exit_code == 0, looped.output
    lines = looped.output.splitlines()
    assert len(lines) >= 2 and all(line.endswith("sent 0, retried 0, failed 0") for line in lines)
    assert [m["Subject"] for m in smtp.mailbox.messages()] == ["From the CLI"]


# PostgreSQL only: several processes at once. These commit for real (other connections
# cannot see a rolled-back test transaction) and delete their rows afterwards.


@pytest.fixture()
def postgres_engine(app):
    assert db.engine is not None
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) and concurrent writers need PostgreSQL")
    tag = f"concurrency-{uuid.uuid4().hex}"
    yield db.engine, tag
    with db.engine.begin() as connection:
        connection.execute(delete(OutboxEmail).where(OutboxEmail.subject.like(f"{tag}%")))


def test_two_workers_at_once_never_send_the_same_email(app, postgres_engine, smtp_down):
    engine, tag = postgres_engine
    with Session(engine) as session:
        for i in range(20):
            enqueue(session, to=f"p{i}@council.example", subject=f"{tag} {i}", body="b")
        session.commit()
    server = smtp_down
    server.mailbox.delay = 0.01  # slow enough for the two workers to overlap
    server.start()
    try:
        config = mail_config(app, server.port)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        reports: list[Any] = []
        workers = [
            threading.Thread(target=lambda: reports.append(deliver_due(factory, config)))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    finally:
        server.stop()

    subjects = [m["Subject"] for m in server.mailbox.messages()]
    assert sorted(subjects) == sorted(f"{tag} {i}" for i in range(20))
    assert sum(r.sent for r in reports) == 20
    with Session(engine) as session:
        statuses = session.scalars(
            select(OutboxEmail.status).where(OutboxEmail.subject.like(f"{tag}%"))
        ).all()
    assert statuses == [EmailStatus.SENT] * 20


def test_two_transactions_enqueueing_the_same_key_make_one_row(app, postgres_engine):
    engine, tag = postgres_engine
    key = f"{tag}-alert"
    results: dict[str, int] = {}
    with Session(engine) as first, Session(engine) as second:
        winner_id = enqueue(first, to="dsl@council.example", subject=f"{tag} a", body="b",
                         idempotency_key=key).id  # fmt: skip

        def enqueue_again() -> None:
            row = enqueue(second, to="dsl@council.example", subject=f"{tag} b", body="b",
                          idempotency_key=key)  # fmt: skip
            results["id"] = row.id
            second.commit()

        racer = threading.Thread(target=enqueue_again)
        racer.start()
        # Wait until the second insert is blocked on the first's uncommitted key, so the
        # SAVEPOINT and IntegrityError path is the one taken.
        with engine.connect() as probe:
            deadline = time.monotonic() + 10
            while not probe.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                assert time.monotonic() < deadline, "the second insert never waited"
                time.sleep(0.02)
                probe.rollback()
        first.commit()
        racer.join(timeout=10)

    assert results["id"] == winner_id
    with Session(engine) as session:
        rows = session.scalars(select(OutboxEmail).where(OutboxEmail.idempotency_key == key))
        assert [r.subject for r in rows] == [f"{tag} a"]


def test_failed_emails_can_be_queued_again(app, db_tx):
    from participation.outbox import requeue_failed

    email = enqueue(db_tx, to="lead@council.example", subject="Alert", body="Open the queue")
    email.status = EmailStatus.FAILED
    email.attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    db_tx.flush()
    assert requeue_failed(db_tx) == 1
    assert email.status is EmailStatus.PENDING and email.attempts == 0

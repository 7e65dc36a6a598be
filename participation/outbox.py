"""The email outbox: emails are rows written in the transaction that causes them.

A safeguarding alert and the email about it commit together or not at all. A separate
delivery step (``flask --app wsgi outbox deliver``) sends the rows, so a mail server that
is down only delays an email: it stays in the table and is tried again with backoff.

Delivery is at-least-once: each email is committed as sent right after the server accepts
it, so a crash can re-send at most the one email that was in flight, never a whole batch.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import signal
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from participation.db import Base, db, enum_type, utcnow

log = logging.getLogger(__name__)

# Retry schedule: 30 s, 1 min, 2 min ... capped at an hour. With the default 12 attempts
# an email is retried for about five hours before it is marked failed.
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
# An alert is tried at least every minute, so that it leaves within a minute of the mail
# server coming back, and it is never given up on while the server cannot be reached: the
# server being down says nothing about the email. (A recipient the server refuses still
# uses up OUTBOX_MAX_ATTEMPTS.)
ALERT_MAX_RETRY_SECONDS = 60
MAX_ERROR_LENGTH = 500
MAX_SUBJECT_LENGTH = 200
MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit
MAX_KEY_LENGTH = 120
# Lower goes first. Safeguarding alerts and their reminders are 0, every other email 10, so
# after a mail outage the alerts leave before the backlog.
ALERT_PRIORITY = 0
NORMAL_PRIORITY = 10


class EmailStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    # Gave up after OUTBOX_MAX_ATTEMPTS (or the message could never be built); the row is
    # kept so that someone can see what was not delivered.
    FAILED = "failed"


class OutboxEmail(Base):
    __tablename__ = "outbox_email"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int | None] = mapped_column(ForeignKey("council.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(MAX_ADDRESS_LENGTH))
    subject: Mapped[str] = mapped_column(String(MAX_SUBJECT_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[EmailStatus] = mapped_column(enum_type(EmailStatus), default=EmailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    # Lower goes first: safeguarding alerts (ALERT_PRIORITY) before every other email.
    priority: Mapped[int] = mapped_column(default=NORMAL_PRIORITY, server_default="10")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    # Unique in the database, so that two requests raising the same alert at once still
    # make one email; NULLs (no key) never clash.
    idempotency_key: Mapped[str | None] = mapped_column(String(MAX_KEY_LENGTH), unique=True)


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery batch did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        """Emails this batch took a decision on."""
        return self.sent + self.retried + self.failed


def enqueue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    council_id: int | None = None,
    idempotency_key: str | None = None,
    priority: int = NORMAL_PRIORITY,
) -> OutboxEmail:
    """Add an email to the outbox and flush; the caller's transaction commits it.

    ``priority``: ALERT_PRIORITY for safeguarding alerts, which are delivered first.
    With an ``idempotency_key`` that is already stored, the existing row is returned and
    nothing is added, so a retried request does not email twice.
    """
    # Refuse header injection here, where the caller's bug is, not hours later at delivery.
    for name, value in (("to", to), ("subject", subject)):
        if "\r" in value or "\n" in value:
            raise ValueError(f"{name} must be a single line")
    to = to.strip()
    if not to or len(to) > MAX_ADDRESS_LENGTH:
        raise ValueError(f"to must be 1 to {MAX_ADDRESS_LENGTH} characters")
    if idempotency_key is not None:
        idempotency_key = _stored_key(idempotency_key)
    # A long subject must not stop an alert from being raised: shorten it instead.
    if len(subject) > MAX_SUBJECT_LENGTH:
        subject = subject[: MAX_SUBJECT_LENGTH - 1] + "…"

    if idempotency_key is not None:
        existing = _by_key(session, idempotency_key)
        if existing is not None:
            return existing

    email = OutboxEmail(
        council_id=council_id,
        to_address=to,
        subject=subject,
        body=body,
        status=EmailStatus.PENDING,
        attempts=0,
        priority=priority,
        next_attempt_at=utcnow(),
        idempotency_key=idempotency_key,
    )
    if idempotency_key is None:
        session.add(email)
        session.flush()
        return email
    # Another transaction may insert the same key between the select and this insert: the
    # SAVEPOINT lets the unique constraint refuse ours without undoing the caller's work.
    try:
        with session.begin_nested():
            session.add(email)
    except IntegrityError:
        winner = _by_key(session, idempotency_key)
        if winner is None:  # the clash was about something else: let the caller see it
            raise
        return winner
    return email


def _stored_key(key: str) -> str:
    """The key as stored: a long one (say, with a long address in it) becomes its hash.

    Hashing, not refusing: an alert must never fail to be raised over the length of a key.
    """
    if not key:
        raise ValueError("idempotency_key must not be empty")
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _by_key(session: Session, key: str) -> OutboxEmail | None:
    return session.scalar(select(OutboxEmail).where(OutboxEmail.idempotency_key == key))


def retry_delay(attempts: int, priority: int = NORMAL_PRIORITY) -> timedelta:
    """How long to wait after the ``attempts``-th failure (exponential, capped)."""
    exponent = min(max(attempts - 1, 0), 20)  # the cap is reached long before 2**20
    cap = ALERT_MAX_RETRY_SECONDS if priority <= ALERT_PRIORITY else MAX_RETRY_SECONDS
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2**exponent, cap))


SessionSource = Session | scoped_session[Session] | Callable[[], Session]


def deliver_due(
    sessions: SessionSource,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> DeliveryReport:
    """Send up to ``limit`` due emails, alerts first, then oldest first, committing each.

    ``sessions`` is a Session (or the app's scoped session), which this commits, so it must
    hold no unfinished work; or a session factory, whose session is closed afterwards.
    ``now`` is the time the batch treats as the present (tests move it forward).
    """
    if isinstance(sessions, Session | scoped_session):
        session = sessions() if isinstance(sessions, scoped_session) else sessions
        return _deliver(session, config, now, limit)
    with sessions() as session:
        return _deliver(session, config, now, limit)


def _deliver(
    session: Session, config: Mapping[str, Any], now: datetime | None, limit: int
) -> DeliveryReport:
    batch_start = now if now is not None else utcnow()
    max_attempts = int(config["OUTBOX_MAX_ATTEMPTS"])
    # Row locks exist on PostgreSQL only; SQLite (one writer, development) has none.
    lock = session.get_bind().dialect.name == "postgresql"
    sent = retried = failed = 0
    mailer = _Mailer(config)
    try:
        for _ in range(limit):
            email = _claim_next(session, batch_start, lock=lock)
            if email is None:
                break
            moment = now if now is not None else utcnow()
            try:
                mailer.send(_message(email, config, moment), email.to_address)
            except ValueError as error:
                # A message that cannot be built or encoded never will be: fail it now,
                # rather than retry it for hours or let it stop every batch behind it.
                mailer.close()
                _record_failure(email, _describe(error, config), moment, max_attempts=0)
                failed += 1
                log.error("outbox email %s cannot be sent: %s", email.id, email.last_error)
            except (OSError, smtplib.SMTPException) as error:
                unreachable = mailer.unreachable or isinstance(
                    error, OSError | smtplib.SMTPServerDisconnected
                )
                keep_trying = unreachable and email.priority <= ALERT_PRIORITY
                _record_failure(
                    email,
                    _describe(error, config),
                    moment,
                    max_attempts if not keep_trying else None,
                )
                if email.status is EmailStatus.FAILED:
                    failed += 1
                else:
                    retried += 1
                log.warning("outbox email %s not sent: %s", email.id, email.last_error)
            else:
                email.status = EmailStatus.SENT
                email.sent_at = moment
                email.last_error = None
                sent += 1
            # One commit per email: a crash later in the batch cannot make this one be
            # sent again, and on PostgreSQL it releases this row's lock.
            session.commit()
    finally:
        mailer.close()
    return DeliveryReport(sent=sent, retried=retried, failed=failed)


def _claim_next(session: Session, now: datetime, *, lock: bool) -> OutboxEmail | None:
    """The next due email (lowest priority, then oldest), locked on PostgreSQL until commit.

    One row per transaction, rather than a locked batch: the per-email commit would
    otherwise release the locks on the rest of the batch while they are still unsent,
    and another worker could send them too. SKIP LOCKED lets workers share the queue.
    """
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.PENDING, OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.priority, OutboxEmail.created_at, OutboxEmail.id)
        .limit(1)
        # Another worker may have changed a row this session saw earlier.
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return session.scalar(query)


def _record_failure(
    email: OutboxEmail, error: str, now: datetime, max_attempts: int | None
) -> None:
    """Count the attempt; give up after ``max_attempts`` (None: never, an alert in an outage)."""
    email.attempts += 1
    email.last_error = error
    if max_attempts is not None and email.attempts >= max_attempts:
        email.status = EmailStatus.FAILED
    else:
        email.next_attempt_at = now + retry_delay(email.attempts, email.priority)


def _message(email: OutboxEmail, config: Mapping[str, Any], now: datetime) -> EmailMessage:
    sender = str(config["MAIL_FROM"])
    domain = sender.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    # Stable per row: if a crash makes us send an email twice, mail clients can tell.
    message["Message-ID"] = f"<outbox-{email.id}@{domain}>"
    message.set_content(email.body)
    return message


def _describe(error: BaseException, config: Mapping[str, Any]) -> str:
    """A short error for the row and the log, with the mail password never in it."""
    text = " ".join(f"{type(error).__name__}: {error}".split())
    for secret in (config.get("MAIL_PASSWORD"),):
        if secret:
            text = text.replace(str(secret), "***")
    return text[:MAX_ERROR_LENGTH]


class _Mailer:
    """One SMTP connection for a batch, opened on first use.

    If the server cannot be reached, the rest of the batch is not tried against it again:
    each email is marked for retry at once instead of waiting out a timeout each.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: OSError | smtplib.SMTPException | None = None

    @property
    def unreachable(self) -> bool:
        """This batch could not connect (or sign in) to the mail server."""
        return self._unreachable is not None

    def send(self, message: EmailMessage, to_address: str) -> None:
        if self._unreachable is not None:
            # The same error for every email of the batch, without a growing traceback.
            raise self._unreachable.with_traceback(None)
        smtp = self._connection()
        try:
            smtp.send_message(
                message, from_addr=str(self._config["MAIL_FROM"]), to_addrs=[to_address]
            )
        except (OSError, smtplib.SMTPServerDisconnected):
            # The connection is gone; the next email reconnects (once) before giving up.
            self.close()
            raise

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                self._unreachable = error
                raise
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        host = str(config["MAIL_SERVER"])
        port = int(config["MAIL_PORT"])
        timeout = float(config["MAIL_TIMEOUT_SECONDS"])
        smtp: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["MAIL_USE_STARTTLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(str(config["MAIL_USERNAME"]), str(config["MAIL_PASSWORD"] or ""))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()  # the emails are committed already; a rude goodbye loses nothing


# Command line ------------------------------------------------------------------------

outbox_cli = AppGroup("outbox", help="Outgoing email.")


@outbox_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped.")
@click.option(
    "--interval", type=float, default=10.0, show_default=True, help="Seconds between batches."
)
@click.option("--max-seconds", type=float, default=None, help="With --loop: stop after this long.")
@click.option("--limit", type=int, default=50, show_default=True, help="Emails per batch.")
def deliver_command(loop: bool, interval: float, max_seconds: float | None, limit: int) -> None:
    """Send the emails that are due (once, or in a loop with --loop).

    Each batch first queues reminders about overdue, unacknowledged safeguarding alerts,
    so that they come back without a cron job.
    """
    from participation.safeguarding.reminders import remind_overdue_alerts

    config = current_app.config
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    with _stop_on_sigterm() as stop:
        while True:
            try:
                reminded = remind_overdue_alerts(db.session)
                db.session.commit()
                if reminded:
                    click.echo(f"{_stamp()} reminded {reminded} overdue safeguarding alert(s)")
                report = deliver_due(db.session, config, limit=limit)
            except SQLAlchemyError as error:
                if not loop:
                    raise
                # The database may be back by the next batch; a worker that exits would
                # need someone to restart it.
                db.session.rollback()
                click.echo(f"{_stamp()} database error: {type(error).__name__}", err=True)
                report = None
            if report is not None:
                click.echo(
                    f"{_stamp()} sent {report.sent}, retried {report.retried}, "
                    f"failed {report.failed}"
                )
            if not loop or stop.is_set():
                break
            pause = interval
            # A full batch means more are waiting: go again at once.
            if report is not None and report.handled >= limit:
                pause = 0
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                pause = min(pause, remaining)
            if stop.wait(pause):
                break


@outbox_cli.command("status")
def status_command() -> None:
    """Count emails by status and show how long the oldest pending one has waited."""
    rows = db.session.execute(
        select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
    ).tuples()
    counts = {status: count for status, count in rows}
    for status in EmailStatus:
        click.echo(f"{status.value}: {counts.get(status, 0)}")
    oldest = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.PENDING)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
        .limit(1)
    ).first()
    if oldest is None:
        click.echo("oldest pending: none")
        return
    age = utcnow() - oldest.created_at
    click.echo(f"oldest pending: {_duration(age)} old (attempts {oldest.attempts})")
    if oldest.last_error:
        click.echo(f"its last error: {oldest.last_error}")


@outbox_cli.command("show")
@click.option("--last", "last", default=5, show_default=True, help="How many of the newest emails.")
@click.option("--to", "to_address", default=None, help="Only emails to this address.")
def show_command(last: int, to_address: str | None) -> None:
    """Print the newest emails in the outbox, whole (for the demo, where no mail server
    runs, and for an operator checking what was sent)."""
    query = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    if to_address:
        query = query.where(func.lower(OutboxEmail.to_address) == to_address.strip().lower())
    emails = list(db.session.scalars(query.limit(max(1, min(last, 100)))))
    if not emails:
        click.echo("The outbox is empty.")
        return
    for email in reversed(emails):
        click.echo(f"--- #{email.id} {email.status.value}, {_stamp_of(email.created_at)}")
        click.echo(f"To: {email.to_address}")
        click.echo(f"Subject: {email.subject}")
        click.echo("")
        click.echo(email.body)
    click.echo("---")


def _stamp_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def requeue_failed(session: Session) -> int:
    """Give every failed email a fresh set of attempts (after a long mail outage)."""
    failed = session.scalars(select(OutboxEmail).where(OutboxEmail.status == EmailStatus.FAILED))
    count = 0
    for email in failed:
        email.status = EmailStatus.PENDING
        email.attempts = 0
        email.next_attempt_at = utcnow()
        count += 1
    session.flush()
    return count


@outbox_cli.command("requeue")
def requeue_command() -> None:
    """Send failed emails again, for example once a long mail outage is over."""
    count = requeue_failed(db.session)
    db.session.commit()
    click.echo(f"{count} failed email(s) queued again.")


def _stamp() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(age: timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl+C, so a worker finishes its batch before it exits."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signal handlers can only be installed from the main thread
        return

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()
        if signum == signal.SIGINT:  # a second Ctrl+C interrupts at once
            signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register_outbox_commands(app: Flask) -> None:
    """Add ``flask outbox deliver`` and ``flask outbox status``."""
    app.cli.add_command(outbox_cli)

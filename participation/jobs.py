"""Background jobs: work too long for a request (panel packs as PDF, XLSX, CSV).

A request only writes a ``BackgroundJob`` row; ``flask --app wsgi jobs work --loop`` runs
the jobs and keeps the file they make in the row until it expires. On PostgreSQL
several workers share the queue with SKIP LOCKED; a job whose worker died is picked up
again after ``STALE_AFTER``, up to ``MAX_ATTEMPTS`` times.

Feature packages register a handler per kind with ``register_handler``; a handler gets
the session and the job and returns a ``JobFile``.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import JSON, ForeignKey, LargeBinary, String, delete, func, or_, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from participation.db import Base, db, enum_type, utcnow, write_transaction

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
STALE_AFTER = timedelta(minutes=15)
KEEP_FILES_FOR = timedelta(days=7)
MAX_ERROR_LENGTH = 500
RECORD_ATTEMPTS = 5


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BackgroundJob(Base):
    __tablename__ = "background_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        enum_type(JobStatus), default=JobStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(MAX_ERROR_LENGTH))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    expires_at: Mapped[datetime | None] = mapped_column()

    @property
    def ready(self) -> bool:
        return self.status is JobStatus.DONE


@dataclass(frozen=True)
class JobFile:
    filename: str
    content_type: str
    content: bytes


Handler = Callable[[Session, BackgroundJob], JobFile]


def register_handler(app: Flask, kind: str, handler: Handler) -> None:
    app.extensions.setdefault("job_handlers", {})[kind] = handler


Tick = Callable[[Session, datetime], None]


def register_tick(app: Flask, name: str, tick: Tick, every: timedelta) -> None:
    """Work the worker does on a schedule, between jobs (the panel's releases, say)."""
    app.extensions.setdefault("job_ticks", {})[name] = (tick, every)


def run_ticks(session: Session, ticks: dict[str, Any], last: dict[str, datetime]) -> None:
    """Run each tick whose interval has passed since it last ran in this worker."""
    now = utcnow()
    for name, (tick, every) in ticks.items():
        if name in last and now - last[name] < every:
            continue
        last[name] = now
        try:
            tick(session, now)
            session.commit()
        except SQLAlchemyError:
            session.rollback()
            raise


def enqueue(
    session: Session,
    *,
    council_id: int,
    kind: str,
    params: dict[str, Any],
    requested_by_id: int | None,
) -> BackgroundJob:
    """Queue a job in the caller's transaction (the request commits it)."""
    job = BackgroundJob(
        council_id=council_id, kind=kind, params=params, requested_by_id=requested_by_id
    )
    session.add(job)
    session.flush()
    return job


def _claim_next(session: Session, now: datetime) -> BackgroundJob | None:
    query = (
        select(BackgroundJob)
        .where(
            or_(
                BackgroundJob.status == JobStatus.QUEUED,
                # A worker that died mid-job left it running: try it again.
                (BackgroundJob.status == JobStatus.RUNNING)
                & (BackgroundJob.started_at < now - STALE_AFTER),
            )
        )
        .order_by(BackgroundJob.created_at, BackgroundJob.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.scalar(query)
    if job is None:
        return None
    if job.attempts >= MAX_ATTEMPTS:
        job.status = JobStatus.FAILED
        job.error = job.error or "gave up after repeated attempts"
        job.finished_at = now
        session.commit()
        return _claim_next(session, now)
    job.status = JobStatus.RUNNING
    job.started_at = now
    job.attempts += 1
    session.commit()  # claimed: releases the row lock, other workers now skip it
    return job


def run_next(session: Session, handlers: dict[str, Handler]) -> BackgroundJob | None:
    """Run the oldest waiting job, if any; returns it (done, failed or queued again).

    The claim and the outcome are each written in a transaction that takes SQLite's write
    lock when it begins (``write_transaction``), and the outcome is retried if the database
    is briefly busy: a worker never leaves its job "running" because another process
    wrote at the same moment.
    """
    with write_transaction():
        job = _claim_next(session, utcnow())
    if job is None:
        return None
    job_id = job.id
    handler = handlers.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        made = handler(session, job)
        session.commit()  # the handler's reads end here; the outcome is written apart
    except Exception as error:  # a failed job must not stop the worker
        session.rollback()
        message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
        log.exception("job %s failed", job_id)

        def failed(found: BackgroundJob) -> None:
            found.error = message
            found.status = JobStatus.FAILED if found.attempts >= MAX_ATTEMPTS else JobStatus.QUEUED

        return _record(session, job_id, failed)

    def done(found: BackgroundJob) -> None:
        found.filename, found.content_type = made.filename, made.content_type
        found.content = made.content
        found.status = JobStatus.DONE
        found.error = None
        found.expires_at = utcnow() + KEEP_FILES_FOR

    return _record(session, job_id, done)


def _record(
    session: Session, job_id: int, change: Callable[[BackgroundJob], None]
) -> BackgroundJob:
    """Write a job's outcome, retrying a few times while the database is busy."""
    for attempt in range(RECORD_ATTEMPTS):
        try:
            with write_transaction():
                job = session.get(BackgroundJob, job_id, populate_existing=True)
                assert job is not None
                change(job)
                job.finished_at = utcnow()
                session.commit()
                return job
        except OperationalError:
            session.rollback()
            if attempt + 1 == RECORD_ATTEMPTS:
                raise
            log.warning("jobs: database busy while recording job %s, retrying", job_id)
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def remove_expired(session: Session, now: datetime) -> int:
    with write_transaction():
        result = session.execute(
            delete(BackgroundJob).where(
                BackgroundJob.expires_at.is_not(None), BackgroundJob.expires_at < now
            )
        )
        session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


jobs_cli = AppGroup("jobs", help="Background jobs (panel packs and exports).")


@jobs_cli.command("work")
@click.option("--loop", is_flag=True, help="keep running, checking for jobs every few seconds")
@click.option("--interval", type=float, default=2.0, show_default=True)
@click.option("--max-jobs", type=int, default=0, help="stop after this many jobs (0: no limit)")
def work(loop: bool, interval: float, max_jobs: int) -> None:
    """Run waiting jobs: once through the queue, or for ever with --loop."""
    handlers = current_app.extensions.get("job_handlers", {})
    ticks = current_app.extensions.get("job_ticks", {})
    last_ticks: dict[str, datetime] = {}
    done = 0
    while True:
        try:
            job = run_next(db.session, handlers)
            if job is None:
                remove_expired(db.session, utcnow())
                run_ticks(db.session, ticks, last_ticks)
        except SQLAlchemyError:
            if not loop:
                raise
            # The database is briefly away: the job stays queued (or goes stale and is
            # picked up again); wait and carry on.
            log.exception("jobs: database error, retrying")
            db.session.rollback()
            time.sleep(interval)
            continue
        if job is not None:
            done += 1
            click.echo(f"job {job.id} ({job.kind}): {job.status.value}")
            if max_jobs and done >= max_jobs:
                return
            continue
        if not loop:
            return
        db.session.rollback()
        time.sleep(interval)


@jobs_cli.command("status")
def status() -> None:
    """How many jobs are waiting, running, done and failed."""
    rows = db.session.execute(
        select(BackgroundJob.status, func.count()).group_by(BackgroundJob.status)
    ).all()
    counts = {s: n for s, n in rows}
    click.echo(", ".join(f"{s.value}: {counts.get(s, 0)}" for s in JobStatus))


def register(app: Flask) -> None:
    app.cli.add_command(jobs_cli)

"""The jobs worker never leaves a job "running": a failed job and a busy database while
recording the outcome both end with the job queued again (or failed after its attempts)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from participation import jobs
from participation.jobs import BackgroundJob, JobFile, JobStatus


@pytest.fixture()
def job(db_tx, council):
    found = BackgroundJob(council_id=council.id, kind="pack", params={})
    db_tx.add(found)
    db_tx.flush()
    return found


def _busy_once(db_tx, monkeypatch, on_call: int) -> dict[str, int]:
    """The ``on_call``-th commit meets "database is locked", as another process writes."""
    calls = {"n": 0}
    real = db_tx.commit

    def commit() -> None:
        calls["n"] += 1
        if calls["n"] == on_call:
            raise OperationalError("COMMIT", {}, Exception("database is locked"))
        real()

    monkeypatch.setattr(db_tx, "commit", commit)
    monkeypatch.setattr(jobs.time, "sleep", lambda _s: None)
    return calls


def test_a_failing_job_is_queued_again_even_if_the_database_is_busy(db_tx, job, monkeypatch):
    def boom(_session: Any, _job: BackgroundJob) -> JobFile:
        raise RuntimeError("the pack could not be drawn")

    _busy_once(db_tx, monkeypatch, on_call=2)  # 1: the claim; 2: recording the failure
    done = jobs.run_next(db_tx, {"pack": boom})
    db_tx.expire_all()
    stored = db_tx.get(BackgroundJob, job.id)
    assert done is not None and stored.status is JobStatus.QUEUED
    assert "could not be drawn" in stored.error


def test_a_finished_job_is_recorded_done_even_if_the_database_is_busy(db_tx, job, monkeypatch):
    def pack(_session: Any, _job: BackgroundJob) -> JobFile:
        return JobFile("pack.csv", "text/csv", b"a,b\r\n")

    _busy_once(db_tx, monkeypatch, on_call=3)  # 1: claim; 2: after the handler; 3: outcome
    jobs.run_next(db_tx, {"pack": pack})
    db_tx.expire_all()
    stored = db_tx.get(BackgroundJob, job.id)
    assert stored.status is JobStatus.DONE and stored.filename == "pack.csv"

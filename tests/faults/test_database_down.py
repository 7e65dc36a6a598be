"""PostgreSQL stops while a child is answering: nothing typed is lost, nothing is saved twice.

The real outage runs against a private PostgreSQL instance (its own port and data folder,
127.0.0.1 only) and the app under gunicorn, so the connection pool, pre-ping and error pages
meet a server that really goes away and comes back. It runs whatever TEST_DATABASE_URL is.
"""

from __future__ import annotations

import html
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from participation.db import db
from surveys.models import Answer, Response, ResponseStatus

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
TYPED = "I like my school but my PEP meeting was in maths again & nobody asked me"


def load_driver() -> ModuleType:
    """benchmarks/load.py (the benchmarks folder is not a package)."""
    name = "benchmarks_load"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "load.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster that a test can stop and start again."""

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.data = base / "data"
        self.port = port

    def _run(self, *args: str) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--no-instructions")  # fmt: skip
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.base}'",
            "fsync = off",  # throwaway data; a fast stop still writes everything out
            "max_connections = 20",
        ]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n" + "\n".join(settings) + "\n")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w", "-t", "30",
                  "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture()
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"PostgreSQL 15 binaries are not installed in {PG_BIN}")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser to start PostgreSQL as postgres")
    base = Path(tempfile.mkdtemp(prefix="pg-outage-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    server = PrivatePostgres(base, load_driver().free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def make_survey(url: str) -> tuple[str, int]:
    """Migrate, then a council, a group and an open round of the small test set."""
    from datetime import timedelta

    from participation.councils import services as councils
    from participation.councils.models import AgeBand, GroupKind
    from participation.db import utcnow
    from participation.migrate import upgrade
    from participation.recommendations.catalogue import load_catalogue
    from surveys.question_sets import load_question_set, read_question_set
    from surveys.services import open_round

    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            load_catalogue(session)
            council = councils.create_council(session, "Outage Council", "outage")
            group = councils.create_group(
                session, council, name="Voices", age_band=AgeBand.AGES_8_11,
                kind=GroupKind.CHILDREN_IN_CARE, recorded_size=1000)  # fmt: skip
            data = read_question_set(ROOT / "tests" / "data" / "question_set_test.yaml")
            question_set, _new = load_question_set(session, data)
            survey_round = open_round(
                session, council, name="Annual survey", question_set=question_set,
                groups=[group], opens_at=utcnow() - timedelta(days=1),
                closes_at=utcnow() + timedelta(days=30),
            )  # fmt: skip
            session.commit()
            return group.current_join_code.display, survey_round.id
    finally:
        engine.dispose()


def stored_answers(
    url: str,
) -> tuple[list[tuple[str, Any]], list[tuple[str, str | None, str | None]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            responses = conn.execute(text("SELECT status, submitted_at FROM survey_response")).all()
            answers = conn.execute(
                text("SELECT question_key, choice, text FROM survey_answer ORDER BY question_key")
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in responses], [tuple(a) for a in answers]


def test_postgres_stopping_mid_survey_loses_nothing_and_saves_nothing_twice(
    private_postgres, tmp_path
):
    driver = load_driver()
    admin = create_engine(private_postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE outage"))
    admin.dispose()
    url = private_postgres.url("outage")
    code, round_id = make_survey(url)

    def q(position: int) -> str:
        return f"/survey/{round_id}/q/{position}"

    log = tmp_path / "gunicorn.log"
    with driver.gunicorn("wsgi:app", driver.server_env(url), workers=1, log_path=log) as served:
        phone = driver.Browser(served.port, timeout=10)
        try:
            token = phone.get("/join").csrf_token()
            assert phone.post("/join", {"code": code, "csrf_token": token}, "join").status == 302
            token = phone.get(f"/survey/{round_id}").csrf_token()
            started = phone.post(f"/survey/{round_id}/start", {"csrf_token": token}, "start")
            assert started.location == q(1)
            for position, choice, following in ((1, "sometimes", 2), (2, "no", 4)):
                token = phone.get(q(position)).csrf_token()
                form = {"csrf_token": token, "action": "next", "choice": choice}
                assert phone.post(q(position), form, "answer").location == q(following)
            page = phone.get(q(4))
            assert "anything you want to tell us about school" in page.body

            private_postgres.stop()
            form = {"csrf_token": page.csrf_token(), "action": "next", "text": TYPED}
            refused = phone.post(q(4), form, "answer")

            assert refused.status == 503
            assert "Not saved yet: we could not reach our computer." in refused.body
            assert f">{html.escape(TYPED)}</textarea>" in refused.body  # what the child typed
            assert 'name="action" value="next"' in refused.body
            assert phone.get(q(1)).status == 503  # a page, not a hang or a crash

            private_postgres.start()
            # The pool still holds the connection from before the outage: pre-ping replaces it.
            earlier = phone.get(q(1))
            assert earlier.status == 200
            assert 'value="sometimes" checked' in earlier.body
            form = {"csrf_token": refused.csrf_token(), "action": "next", "text": TYPED}
            saved = phone.post(q(4), form, "answer")  # "Next" on the not-saved page
            assert (saved.status, saved.location) == (302, f"/survey/{round_id}/end")
            assert phone.post(q(4), form, "answer").status == 302  # an impatient second tap
            token = phone.get(saved.location).csrf_token()
            sent = phone.post(f"/survey/{round_id}/submit", {"csrf_token": token}, "submit")
            assert sent.location == f"/survey/{round_id}/thanks"
            again = phone.post(f"/survey/{round_id}/submit", {"csrf_token": token}, "submit")
            assert again.location == f"/survey/{round_id}/thanks"
        finally:
            phone.close()

    responses, answers = stored_answers(url)
    assert [status for status, _at in responses] == ["submitted"]
    assert answers == [
        ("came_alone", "no", None),
        ("feel_safe", "sometimes", None),
        ("school_words", None, TYPED),
    ]
    assert "database unreachable on surveys.answer" in log.read_text()


def test_a_write_that_fails_keeps_the_answer_in_the_form(app, client, post, group, survey_round,
                                                         db_tx):  # fmt: skip
    """The database goes away between loading the page's data and saving the answer."""
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    assert db.engine is not None
    dbapi = db.engine.dialect.loaded_dbapi

    def outage(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SURVEY_ANSWER"):
            lost = dbapi.OperationalError("server closed the connection unexpectedly")
            raise OperationalError(statement, params, lost)

    event.listen(db.engine, "before_cursor_execute", outage)
    try:
        refused = post(f"{base}/q/1", {"action": "next", "choice": "no"}, page=f"{base}/q/1")
    finally:
        event.remove(db.engine, "before_cursor_execute", outage)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 503
    assert "Not saved yet" in body and '<input type="hidden" name="choice" value="no">' in body
    assert db_tx.scalar(select(Answer)) is None

    saved = post(f"{base}/q/1", {"action": "next", "choice": "no"}, page=f"{base}/q/1")
    assert saved.status_code == 302
    db_tx.expire_all()
    assert [(a.question_key, a.choice) for a in db_tx.scalars(select(Answer))] == [
        ("feel_safe", "no")
    ]
    response = db_tx.scalar(select(Response))
    assert response is not None and response.status is ResponseStatus.IN_PROGRESS

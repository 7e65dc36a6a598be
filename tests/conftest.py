"""Fixtures: one migrated database per run, one rolled-back transaction per test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
CSRF protection stays on; tests post the token a page gave them, as a browser does.
"""

from __future__ import annotations

import asyncio
import email
import os
import re
import socket
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from participation import create_app
from participation.accounts.models import Role, StaffRole, StaffUser
from participation.accounts.services import _hasher
from participation.councils import services as council_services
from participation.councils.models import AgeBand, Council, Group, GroupKind
from participation.db import db
from participation.extensions import limiter
from participation.i18n import compile_catalogues

TEST_PASSWORD = "correct horse battery"
# Hashed once: argon2 is slow on purpose, and most tests sign in through the session.
_TEST_PASSWORD_HASH = _hasher.hash(TEST_PASSWORD)
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    compile_catalogues()
    from participation.migrate import upgrade

    upgrade(database_url)
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SESSION_COOKIE_SECURE": False,
            "SERVER_NAME": "localhost",
            # Every link in an email is built from this, never from the request's Host.
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    with application.app_context():
        from participation.recommendations.catalogue import load_catalogue

        load_catalogue(db.session)
        db.session.commit()
    limiter.enabled = False
    yield application
    assert db.engine is not None
    db.engine.dispose()


@pytest.fixture()
def db_tx(app: Flask) -> Iterator[Session]:
    """Everything a test writes happens in one transaction that is rolled back after it."""
    assert db.engine is not None
    connection = db.engine.connect()
    outer = connection.begin()
    # The test's own session, apart from the requests' sessions: no app context stays pushed
    # during the test, so each request gets its own context, `g` and session, as in production.
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    with db.bound_to(connection):
        yield session
        session.close()
    outer.rollback()
    connection.close()


@pytest.fixture()
def client(app: Flask, db_tx: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def rate_limits() -> Iterator[None]:
    """Turn rate limiting on for one test, with empty counters."""
    limiter.enabled = True
    limiter.reset()
    yield
    limiter.reset()
    limiter.enabled = False


@pytest.fixture()
def council(db_tx: Session) -> Council:
    return council_services.create_council(db_tx, "Test Council", "test")


@pytest.fixture()
def other_council(db_tx: Session) -> Council:
    return council_services.create_council(db_tx, "Other Council", "other")


@pytest.fixture()
def group(db_tx: Session, council: Council) -> Group:
    return council_services.create_group(
        db_tx,
        council,
        name="Voices 8 to 11",
        age_band=AgeBand.AGES_8_11,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )


@pytest.fixture()
def make_user(db_tx: Session, council: Council) -> Callable[..., StaffUser]:
    counter = iter(range(1, 10_000))

    def make(*roles: Role, council_id: int | None = None, email: str | None = None) -> StaffUser:
        user = StaffUser(
            council_id=council_id or council.id,
            email=email or f"user{next(counter)}@test.example",
            display_name="Test User",
            password_hash=_TEST_PASSWORD_HASH,
        )
        user.role_rows = [StaffRole(role=r) for r in roles]
        db_tx.add(user)
        db_tx.flush()
        return user

    return make


@pytest.fixture()
def login_as(
    client: FlaskClient, make_user: Callable[..., StaffUser]
) -> Callable[..., StaffUser | None]:
    """Sign in a new user with ``roles`` (as if by password and code); None stays anonymous."""

    def login(*roles: Role | None, council_id: int | None = None) -> StaffUser | None:
        wanted = [r for r in roles if r is not None]
        if not wanted:
            return None
        user = make_user(*wanted, council_id=council_id)
        import time

        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["seen_at"] = time.time()
        return user

    return login


def csrf_token(client: FlaskClient, path: str = "/join") -> str:
    """The token a page gives to its forms, as a browser would read it."""
    response = client.get(path)
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None, **kw: Any
) -> Any:
    """POST a form with the CSRF token from ``page`` (default: the same path)."""
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token}, **kw)


@pytest.fixture()
def seeds_dir() -> Path:
    path = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not path.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    return path


@pytest.fixture()
def csrf(client: FlaskClient) -> Callable[[str], str]:
    """csrf(path): the CSRF token the page at ``path`` gives its forms."""
    return lambda path="/join": csrf_token(client, path)


@pytest.fixture()
def post(client: FlaskClient) -> Callable[..., Any]:
    """post(path, data, page=None): submit a form as a browser would, CSRF token included."""
    return lambda path, data, page=None, **kw: post_form(client, path, data, page, **kw)


@pytest.fixture()
def password() -> str:
    """The password of every user ``make_user`` creates."""
    return TEST_PASSWORD


@pytest.fixture()
def question_set(db_tx: Session) -> Any:
    """The small test question set, loaded as a version."""
    from surveys.question_sets import load_question_set, read_question_set

    data = read_question_set(Path(__file__).parent / "data" / "question_set_test.yaml")
    loaded, _new = load_question_set(db_tx, data)
    return loaded


@pytest.fixture()
def survey_round(db_tx: Session, council: Council, group: Group, question_set: Any) -> Any:
    """A round of the test set, open now for ``group``."""
    from datetime import timedelta

    from participation.db import utcnow
    from surveys.services import open_round

    return open_round(
        db_tx,
        council,
        name="Annual survey",
        question_set=question_set,
        groups=[group],
        opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=30),
    )


@pytest.fixture()
def post_as() -> Callable[..., Any]:
    """post_as(client, path, data, page=None): like ``post``, for a second browser."""
    return lambda other, path, data, page=None, **kw: post_form(other, path, data, page, **kw)


@pytest.fixture()
def staff_client(app: Flask, make_user: Callable[..., StaffUser]) -> Callable[..., Any]:
    """staff_client(*roles): a separate browser signed in as a new user with those roles."""
    import time

    def make(*roles: Role, council_id: int | None = None) -> tuple[FlaskClient, StaffUser]:
        user = make_user(*roles, council_id=council_id)
        browser = app.test_client()
        with browser.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["seen_at"] = time.time()
        return browser, user

    return make


# A real SMTP server (aiosmtpd) for the outbox and fault tests -----------------------------


class Mailbox:
    """An aiosmtpd handler that keeps what it is given and refuses *@refused.example."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.delay = 0.0  # seconds to wait before accepting each message

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


class SmtpServer:
    """A real SMTP server on a fixed local port, which a test can stop and start again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        # A stopped Controller's event loop is closed, so each start needs a new one.
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    """A running mail server."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def smtp_down() -> Iterator[SmtpServer]:
    """A mail server that is down (nothing listens on its port) until the test starts it."""
    server = SmtpServer()
    yield server
    server.stop()

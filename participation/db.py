"""Database: the declarative base, one engine and one scoped session per app.

Services flush; views commit once per request. Tests bind the session to a connection
inside a transaction that is rolled back after each test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from flask import Flask, g
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Primary keys are INTEGER columns: a larger number can name no row (and SQLite's driver
# refuses to even send one), so URLs and forms treat it as "not found".
MAX_ROW_ID = 2**31 - 1


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the pysqlite driver, decide when transactions begin, so that
    # SAVEPOINTs (nested transactions, per-test rollback) behave as on PostgreSQL.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Long enough that a queue of writers under the demo's load waits instead of failing
    # (benchmarks/sqlite_run_bench.py); PostgreSQL is for more.
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # A request that writes (a form sent) takes SQLite's write lock when its transaction
    # begins. Two deferred transactions that both read and then write deadlock, and SQLite
    # answers one of them "database is locked" at once instead of waiting: a double tap on
    # a card, across two app processes, told the child "not sent" although it was saved.
    # Waiting at BEGIN (busy_timeout) turns that into a short queue. Reads stay deferred,
    # so pages and the background workers never wait for each other; a background
    # transaction that writes asks for the lock with ``write_transaction``.
    from flask import has_request_context, request

    writes = (
        has_request_context() and request.method in ("POST", "PUT", "PATCH", "DELETE")
    ) or _WRITE_INTENT.get()
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def secure_sqlite_file(url: str) -> None:
    """Create a SQLite database file owner-only (0600) in an owner-only directory.

    The file holds children's words: it must not be readable by other users of the
    machine. SQLite gives its -wal and -shm files the database file's mode, so they are
    owner-only too. An existing file that others can read is tightened.
    """
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)


_WRITE_INTENT: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)


@contextmanager
def write_transaction() -> Iterator[None]:
    """Transactions begun inside this block take SQLite's write lock at BEGIN (workers)."""
    token = _WRITE_INTENT.set(True)
    try:
        yield
    finally:
        _WRITE_INTENT.reset(token)


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine with the pragmas and pool settings each backend needs."""
    if url.startswith("sqlite"):
        secure_sqlite_file(url)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


class Database:
    """Holds the engine and a session scoped to the Flask app context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory = sessionmaker(expire_on_commit=False)
        self._registry: scoped_session[Session] = scoped_session(
            self._factory, scopefunc=_app_context_id
        )
        # The scoped session proxies every Session method; typed as one for the callers.
        self.session: Session = cast(Session, self._registry)

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"], app.config["DATABASE_ECHO"])
        self._factory.configure(bind=self.engine)
        app.extensions["participation_db"] = self
        app.teardown_appcontext(self._remove)

    def _remove(self, _exc: BaseException | None) -> None:
        self._registry.remove()

    @contextmanager
    def bound_to(self, connection: Connection) -> Iterator[None]:
        """Bind every session to one connection whose outer transaction a test rolls back."""
        self._registry.remove()
        self._factory.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            self._registry.remove()
            self._factory.configure(bind=self.engine, join_transaction_mode="conditional_savepoint")


def _app_context_id() -> int:
    try:
        return id(g._get_current_object())
    except RuntimeError:  # outside an app context: one session per thread is still safe
        import threading

        return threading.get_ident()


db = Database()


def enum_type(enum_cls: type[Any], *, check: bool = True, name: str | None = None) -> Any:
    """Store an ``enum.Enum`` by its value, as a string kept honest by a CHECK constraint.

    Alembic does not notice a changed CHECK: adding a member to a checked enum needs a
    hand-written migration. ``check=False`` suits lists that grow with every feature.
    ``name`` tells two columns of one enum in a table apart (their CHECKs need two names).
    """
    from sqlalchemy import Enum

    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=check,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        name=name or enum_cls.__name__.lower(),
    )

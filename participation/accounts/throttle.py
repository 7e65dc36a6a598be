"""Failed sign-in attempts, counted per normalised identity, that slow guessing down
without letting anyone lock the owner out.

Each identity (``password:<normalised email>``, ``code:<user id>``, and for a browser
the person has signed in from before, ``device:<id>:<user id>``) has a free budget of
failures (the amount in ``PARTICIPATION_SIGN_IN_PER_ACCOUNT_LIMIT``); past it, every
further attempt must wait a delay that doubles from 30 seconds up to the limit's window
(15 minutes by default). An attempt made during the delay is not checked at all, and
does not count, so it cannot lengthen the delay. Failures are forgotten a day after the
last one, when the person signs in, resets their password by email, or when an
administrator clears them.

A stranger's guesses come from a browser the account never signed in from: they use up
the account's budget, while the owner's own browser (a signed device cookie from an
earlier sign-in) has a budget of its own and signs in at once. On a new browser the owner
meets the delay, or takes the step a bot cannot: the emailed reset link.

The row for an identity is locked (SELECT ... FOR UPDATE) from the check to the commit,
so parallel guesses queue up instead of all passing the check together; SQLite
serialises every writing request anyway (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from limits import parse_many
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from participation.accounts.models import SignInThrottle, ThrottleKind
from participation.db import utcnow

FIRST_DELAY = timedelta(seconds=30)
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    free_failures: int
    max_delay: timedelta

    def delay_after(self, failures: int) -> timedelta:
        """How long to wait before the next attempt after ``failures`` in a row."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 20)
        return min(FIRST_DELAY * (2**doublings), self.max_delay)


def policy() -> Policy:
    """From PARTICIPATION_SIGN_IN_PER_ACCOUNT_LIMIT: its first limit's amount and window."""
    first = parse_many(current_app.config["SIGN_IN_PER_ACCOUNT_LIMIT"])[0]
    window = timedelta(seconds=first.get_expiry())
    return Policy(free_failures=max(first.amount, 1), max_delay=max(window, FIRST_DELAY))


def password_key(normalised_email: str) -> str:
    return f"password:{normalised_email}"


def code_key(user_id: int) -> str:
    return f"code:{user_id}"


def device_key(kind: ThrottleKind, device_id: str, user_id: int) -> str:
    return f"device-{kind.value}:{device_id[:64]}:{user_id}"


def _lock_row(
    session: Session, key: str, kind: ThrottleKind, user_id: int | None
) -> SignInThrottle:
    """The throttle row for ``key``, created if need be, locked until the commit."""
    dialect = session.get_bind().dialect.name
    values = {"key": key, "kind": kind.value, "user_id": user_id, "failures": 0}
    # A row another request deleted between our insert and our select (an administrator
    # clearing failures) is simply made again.
    for _attempt in range(5):
        if dialect == "postgresql":
            session.execute(pg_insert(SignInThrottle).values(**values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            session.execute(sqlite_insert(SignInThrottle).values(**values).on_conflict_do_nothing())
        elif session.get(SignInThrottle, key) is None:  # pragma: no cover (other databases)
            session.add(SignInThrottle(**values))
            session.flush()
        row = session.scalars(
            select(SignInThrottle)
            .where(SignInThrottle.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if row is not None:
            return row
    raise RuntimeError(f"sign-in throttle row {key!r} keeps disappearing")


def wait_before_attempt(
    session: Session,
    key: str,
    kind: ThrottleKind,
    user_id: int | None = None,
    now: datetime | None = None,
) -> timedelta | None:
    """None if an attempt for ``key`` may be checked now, else how long to wait.

    Locks the identity's row: call it before checking the password or code, and commit
    (with ``failed`` or ``succeeded``) after.
    """
    now = now or utcnow()
    row = _lock_row(session, key, kind, user_id)
    if row.last_failure_at is not None and now - row.last_failure_at > FORGET_AFTER:
        row.failures = 0
        row.first_failure_at = row.next_attempt_at = None
    if row.next_attempt_at is not None and now < row.next_attempt_at:
        return row.next_attempt_at - now
    return None


def failed(session: Session, key: str, now: datetime | None = None) -> None:
    """Count a failed attempt for ``key`` (whose row ``wait_before_attempt`` locked)."""
    now = now or utcnow()
    row = session.get(SignInThrottle, key)
    if row is None:  # pragma: no cover (always locked first)
        return
    row.failures += 1
    row.first_failure_at = row.first_failure_at or now
    row.last_failure_at = now
    delay = policy().delay_after(row.failures)
    row.next_attempt_at = now + delay if delay else None
    # Identities nobody has tried for a day (mostly made-up addresses) are not kept.
    # SKIP LOCKED: a stale row another attempt holds is left for next time, so two
    # attempts never wait on each other's rows (no deadlock).
    stale = (
        select(SignInThrottle.key)
        .where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
        .limit(100)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(stale)))
    session.flush()


def succeeded(session: Session, key: str) -> None:
    """The right password or code: this identity's failures are forgotten.

    The row is kept (reset, not deleted), so that a request waiting on its lock finds it.
    """
    row = session.get(SignInThrottle, key)
    if row is not None:
        row.failures = 0
        row.first_failure_at = row.last_failure_at = row.next_attempt_at = None
        session.flush()


def clear_for_user(session: Session, user_id: int, normalised_email: str) -> int:
    """Forget every failure counted against this person (an administrator, or a reset)."""
    result = session.execute(
        delete(SignInThrottle).where(
            (SignInThrottle.user_id == user_id)
            | (SignInThrottle.key == password_key(normalised_email))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def for_user(session: Session, user_id: int, normalised_email: str) -> list[SignInThrottle]:
    """What an administrator sees: the failures counted against this person."""
    return list(
        session.scalars(
            select(SignInThrottle)
            .where(
                (
                    (SignInThrottle.user_id == user_id)
                    | (SignInThrottle.key == password_key(normalised_email))
                ),
                SignInThrottle.failures > 0,
            )
            .order_by(SignInThrottle.key)
        )
    )


def delayed_user_ids(session: Session, user_ids: list[int]) -> set[int]:
    """Of ``user_ids``, those with failures counted against them (for the accounts list)."""
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(SignInThrottle.user_id).where(
                SignInThrottle.user_id.in_(user_ids), SignInThrottle.failures > 0
            )
        )
    )

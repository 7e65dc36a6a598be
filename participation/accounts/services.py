"""Staff account changes: passwords, roles, sign-in, second factor. They flush, never commit."""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import Iterable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from participation import audit
from participation.accounts.models import Role, StaffRole, StaffUser, new_session_token
from participation.db import utcnow

# argon2id (the library's default type) with its RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verified when no account matches, so that a missing account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-the-same-work")

MIN_PASSWORD_LENGTH = 12
TOTP_STEP_SECONDS = 30


class AccountError(ValueError):
    """A change to an account that cannot be made; the message is safe to show."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def check_password(session: Session, email: str, password: str) -> StaffUser | None:
    """The active user with this email and password, or None; equal work either way."""
    user = find_user_by_email(session, email)
    if user is None or not user.active:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def create_user(
    session: Session,
    *,
    council_id: int,
    email: str,
    display_name: str,
    password: str,
    roles: Iterable[Role],
    by: StaffUser | None = None,
) -> StaffUser:
    """Create a staff account with its roles."""
    email = normalise_email(email)
    if session.scalar(select(func.count()).where(StaffUser.email == email)):
        raise AccountError("An account with that email address already exists.")
    user = StaffUser(
        council_id=council_id,
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
    )
    user.role_rows = [StaffRole(role=r) for r in sorted(set(roles), key=lambda r: r.value)]
    session.add(user)
    session.flush()
    audit.record(
        session,
        audit.AuditAction.USER_CREATED,
        actor=by,
        council_id=council_id,
        target_type="staff_user",
        target_id=user.id,
        detail={"roles": sorted(r.value for r in user.roles)},
    )
    return user


def set_roles(session: Session, user: StaffUser, roles: Iterable[Role], by: StaffUser) -> bool:
    """Give ``user`` exactly ``roles``; returns whether anything changed."""
    wanted = frozenset(roles)
    before = user.roles
    if wanted == before:
        return False
    if user.id == by.id and Role.ADMIN in before and Role.ADMIN not in wanted:
        raise AccountError("You cannot remove your own administrator role.")
    user.role_rows = [r for r in user.role_rows if r.role in wanted] + [
        StaffRole(role=r) for r in sorted(wanted - before, key=lambda r: r.value)
    ]
    # New powers or fewer: existing sessions must sign in again under the new roles.
    user.session_token = new_session_token()
    session.flush()
    audit.record(
        session,
        audit.AuditAction.ROLES_CHANGED,
        actor=by,
        target_type="staff_user",
        target_id=user.id,
        detail={
            "before": sorted(r.value for r in before),
            "after": sorted(r.value for r in wanted),
        },
    )
    return True


def set_active(session: Session, user: StaffUser, active: bool, by: StaffUser) -> None:
    if user.id == by.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    user.active = active
    user.session_token = new_session_token()
    session.flush()
    action = audit.AuditAction.USER_REACTIVATED if active else audit.AuditAction.USER_DEACTIVATED
    audit.record(session, action, actor=by, target_type="staff_user", target_id=user.id)


def signed_in(session: Session, user: StaffUser) -> None:
    user.last_sign_in_at = utcnow()
    audit.record(session, audit.AuditAction.SIGN_IN, actor=user)


def signed_out(session: Session, user: StaffUser) -> None:
    # Rotating the token ends this user's other sessions too: sign-out means signed out.
    user.session_token = new_session_token()
    audit.record(session, audit.AuditAction.SIGN_OUT, actor=user)


# Second factor -----------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: StaffUser, secret: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def matching_totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time-step (now, or one either side for clock drift) whose code is ``code``."""
    code = "".join(ch for ch in code if ch in "0123456789")  # ASCII only: see SecondFactorForm
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int((time.time() if at is None else at) // TOTP_STEP_SECONDS)
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_second_factor(user: StaffUser, code: str, at: float | None = None) -> bool:
    """Accept a code once: a code for an already-used time-step (a replay) is refused."""
    if not user.totp_secret:
        return False
    step = matching_totp_step(user.totp_secret, code, at)
    if step is None:
        return False
    if user.totp_last_step is not None and step <= user.totp_last_step:
        return False
    user.totp_last_step = step
    return True


def enrol_second_factor(session: Session, user: StaffUser, secret: str, code: str) -> bool:
    """Store ``secret`` once the user proves their app produces its codes."""
    step = matching_totp_step(secret, code)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_last_step = step
    session.flush()
    audit.record(session, audit.AuditAction.SECOND_FACTOR_ENROLLED, actor=user)
    return True


def addresses_for_role(session: Session, council_id: int, role: Role) -> list[str]:
    """The email addresses of a council's active staff who hold ``role``, in order."""
    return list(
        session.scalars(
            select(StaffUser.email)
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(
                StaffUser.council_id == council_id,
                StaffUser.active.is_(True),
                StaffRole.role == role,
            )
            .order_by(StaffUser.email)
        )
    )

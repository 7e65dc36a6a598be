"""Staff account changes: passwords, roles, sign-in, second factor. They flush, never commit."""

from __future__ import annotations

import contextlib
import hmac
import re
import time
import unicodedata
from collections.abc import Iterable

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from participation import audit
from participation.accounts import crypto
from participation.accounts.models import (
    CHILD_WORDS_ROLES,
    AccountLink,
    LinkPurpose,
    Role,
    StaffRole,
    StaffUser,
    new_session_token,
)
from participation.db import utcnow

# argon2id (the library's default type) with its RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verified when no account matches, so that a missing account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-the-same-work")

MIN_PASSWORD_LENGTH = 12
TOTP_STEP_SECONDS = 30
# An invited person has no password until they choose one from their emailed link; no
# argon2 hash starts with "!", so nothing signs in with it.
NO_PASSWORD = "!no-password-yet"  # noqa: S105


class AccountError(ValueError):
    """A change to an account that cannot be made; the message is safe to show."""


class WrongPassword(AccountError):
    """The current password given was not the account's."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    """The one form of an email address that lookups and rate limits both use.

    NFKC (fullwidth and compatibility letters become plain ones), lower case, and no
    spaces, NUL, control or invisible format characters (an email address has none):
    ``Re\\x00sp@South.Example `` and ``resp@south.example`` are one account and one budget.
    """
    text = unicodedata.normalize("NFKC", email or "")
    kept = (ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE)
    return "".join(kept).lower()[:254]


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


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
    password: str | None,
    roles: Iterable[Role],
    by: StaffUser | None = None,
) -> StaffUser:
    """Create a staff account with its roles; without a password, the person is invited."""
    email = normalise_email(email)
    if session.scalar(select(func.count()).where(StaffUser.email == email)):
        raise AccountError("An account with that email address already exists.")
    role_set = frozenset(roles)
    user = StaffUser(
        council_id=council_id,
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password) if password is not None else NO_PASSWORD,
    )
    user.role_rows = [StaffRole(role=r) for r in sorted(role_set, key=lambda r: r.value)]
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
    tell_leads_about_grant(session, user, role_set & CHILD_WORDS_ROLES, by)
    return user


def tell_leads_about_grant(
    session: Session, user: StaffUser, granted: frozenset[Role], by: StaffUser | None
) -> None:
    """Email every safeguarding lead of the council that someone may now read children's words."""
    if not granted:
        return
    from participation import emails
    from participation.links import public_url

    event_key = f"{user.id}:{utcnow().timestamp():.6f}"
    for address in addresses_for_role(session, user.council_id, Role.SAFEGUARDING_LEAD):
        emails.send(
            session,
            "role_granted",
            to=address,
            idempotency_key=f"role-granted:{event_key}:{address}"[:120],
            council_id=user.council_id,
            person=user,
            roles=sorted(r.label for r in granted),
            by=by,
            when=utcnow(),
            link=public_url("accounts.audit_log"),
        )


def set_roles(session: Session, user: StaffUser, roles: Iterable[Role], by: StaffUser) -> bool:
    """Give ``user`` exactly ``roles``; returns whether anything changed."""
    wanted = frozenset(roles)
    before = user.roles
    if wanted == before:
        return False
    if user.id == by.id and Role.ADMIN in before and Role.ADMIN not in wanted:
        raise AccountError("You cannot remove your own administrator role.")
    if user.id == by.id and (wanted - before) & CHILD_WORDS_ROLES:
        raise AccountError(
            "You cannot give yourself a role that reads children's words: "
            "another administrator must give it to you."
        )
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
    tell_leads_about_grant(session, user, (wanted - before) & CHILD_WORDS_ROLES, by)
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


_PLAIN_SECRET = re.compile(r"[A-Z2-7]{16,64}")


def totp_secret_of(user: StaffUser) -> str | None:
    """The user's TOTP secret in the clear (stored encrypted), or None.

    A plain base32 secret is one written before encryption (by a process of the previous
    release during a rolling upgrade, after the migration ran): it is read, and encrypted
    at the next accepted code.
    """
    if not user.totp_secret:
        return None
    plain = crypto.decrypt(user.totp_secret)
    if plain is None and _PLAIN_SECRET.fullmatch(user.totp_secret):
        return user.totp_secret
    return plain


def verify_second_factor(
    session: Session, user: StaffUser, code: str, at: float | None = None
) -> bool:
    """Accept a code once, atomically: a code for an already-used time-step is refused.

    The step is claimed by one conditional UPDATE, so of two requests with the same fresh
    code at the same moment (two sessions, two processes) exactly one is accepted.
    """
    secret = totp_secret_of(user)
    if secret is None:
        return False
    step = matching_totp_step(secret, code, at)
    if step is None:
        return False
    claimed = session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    if user.totp_secret == secret:  # still in the clear: encrypt it now
        user.totp_secret = crypto.encrypt(secret)
        session.flush()
    return True


def enrol_second_factor(session: Session, user: StaffUser, secret: str, code: str) -> bool:
    """Store ``secret`` (encrypted) once the user proves their app produces its codes."""
    step = matching_totp_step(secret, code)
    if step is None:
        return False
    user.totp_secret = crypto.encrypt(secret)
    user.totp_last_step = step
    user.session_token = new_session_token()  # a new factor: other sessions end
    session.flush()
    audit.record(session, audit.AuditAction.SECOND_FACTOR_ENROLLED, actor=user)
    return True


def reset_second_factor(session: Session, user: StaffUser, by: StaffUser | None) -> None:
    """Forget the person's code app and end their sessions; they set up a new one from a link."""
    user.totp_secret = None
    user.totp_last_step = None
    user.session_token = new_session_token()
    session.flush()
    audit.record(
        session,
        audit.AuditAction.SECOND_FACTOR_RESET,
        actor=by,  # none: from the command line
        council_id=user.council_id,
        target_type="staff_user",
        target_id=user.id,
    )


# Passwords -----------------------------------------------------------------------------


def has_password(user: StaffUser) -> bool:
    return not user.password_hash.startswith("!")


def set_password(
    session: Session, user: StaffUser, new_password: str, *, how: str, by: StaffUser | None
) -> None:
    """Give the person a new password and end every session they have (this one is
    signed in again by the caller)."""
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    # A reset or invitation link sent before this change must not outlive it: whoever
    # holds an old email could otherwise set the password back.
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose.in_((LinkPurpose.PASSWORD_RESET, LinkPurpose.INVITE)),
            AccountLink.used_at.is_(None),
            AccountLink.expires_at > utcnow(),
        )
        .values(expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    audit.record(
        session,
        audit.AuditAction.PASSWORD_CHANGED,
        actor=by or user,
        council_id=user.council_id,
        target_type="staff_user",
        target_id=user.id,
        detail={"how": how},
    )


def change_password(session: Session, user: StaffUser, current: str, new_password: str) -> None:
    """Change my password: the current one is required."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        audit.record(session, audit.AuditAction.PASSWORD_CHANGE_FAILED, actor=user)
        raise WrongPassword("Your current password is not right.") from None
    if current == new_password:
        raise AccountError("Choose a new password that is not your current one.")
    set_password(session, user, new_password, how="changed", by=user)


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

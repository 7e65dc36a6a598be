"""Emailed, single-use account links: invitations, password resets, second-factor resets.

Only the SHA-256 of a link's token is stored. A link is used once (a conditional UPDATE
claims it) and expires soon. Setting up the code app is possible only in the browser
that used an invitation or a second-factor reset link: that browser's session holds a
nonce whose SHA-256 is on the link's row, and the new secret waits on the row, encrypted;
the cookie never holds it. Services flush; views commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from participation import audit, emails
from participation.accounts import crypto
from participation.accounts.models import AccountLink, LinkPurpose, StaffUser
from participation.db import utcnow
from participation.links import public_url

LIFETIMES = {
    LinkPurpose.INVITE: timedelta(days=3),
    LinkPurpose.PASSWORD_RESET: timedelta(minutes=30),
    LinkPurpose.SECOND_FACTOR_RESET: timedelta(days=1),
}
# After a link is used, how long its browser has to set up the code app.
ENROLMENT_WINDOW = timedelta(minutes=20)
# At most this many reset emails per account an hour: "forgot my password" is no way to
# flood someone's mailbox.
RESETS_PER_HOUR = 3

_ENDPOINTS = {
    LinkPurpose.INVITE: "accounts.welcome",
    LinkPurpose.PASSWORD_RESET: "accounts.reset_password",
    LinkPurpose.SECOND_FACTOR_RESET: "accounts.new_second_factor",
}
_TEMPLATES = {
    LinkPurpose.INVITE: "account_invite",
    LinkPurpose.PASSWORD_RESET: "password_reset",
    LinkPurpose.SECOND_FACTOR_RESET: "second_factor_reset",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_link(
    session: Session, user: StaffUser, purpose: LinkPurpose, by: StaffUser | None
) -> tuple[AccountLink, str]:
    """A new link for ``user``, emailed through the outbox; earlier unused links of the same
    purpose stop working. Returns the row and the link's address (for the command line)."""
    now = utcnow()
    session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.used_at.is_(None),
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    link = AccountLink(
        user_id=user.id,
        purpose=purpose,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + LIFETIMES[purpose],
        created_by_id=by.id if by else None,
    )
    session.add(link)
    session.flush()
    address = public_url(_ENDPOINTS[purpose], token=token)
    emails.send(
        session,
        _TEMPLATES[purpose],
        to=user.email,
        idempotency_key=f"account-link:{link.id}",
        council_id=user.council_id,
        person=user,
        by=by,
        link=address,
        expires_at=link.expires_at,
        site_name=_site_name(),
    )
    audit.record(
        session,
        audit.AuditAction.ACCOUNT_LINK_SENT,
        actor=by or user,
        council_id=user.council_id,
        target_type="staff_user",
        target_id=user.id,
        detail={"purpose": purpose.value},
    )
    return link, address


def _site_name() -> str:
    from participation.links import site_app

    return str(site_app().config.get("SITE_NAME", "Child Voice"))


def request_password_reset(session: Session, user: StaffUser | None) -> None:
    """'Forgot my password': email a reset link if the account exists and is active.

    The caller answers the same whatever happens here.
    """
    if user is None or not user.active:
        return
    recent = session.scalar(
        select(func.count()).where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == LinkPurpose.PASSWORD_RESET,
            AccountLink.created_at > utcnow() - timedelta(hours=1),
        )
    )
    audit.record(
        session,
        audit.AuditAction.PASSWORD_RESET_REQUESTED,
        actor=user,
        detail={"sent": bool((recent or 0) < RESETS_PER_HOUR)},
    )
    if (recent or 0) >= RESETS_PER_HOUR:
        return
    issue_link(session, user, LinkPurpose.PASSWORD_RESET, by=None)


def live_link(session: Session, token: str, purpose: LinkPurpose) -> AccountLink | None:
    """The unused, unexpired link ``token`` names, for an active account, or None."""
    if not token or len(token) > 200:
        return None
    link = session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == token_hash(token), AccountLink.purpose == purpose
        )
    )
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    if not link.user.active:
        return None
    return link


def use_link(session: Session, link: AccountLink) -> bool:
    """Claim the link: exactly one request can (a conditional UPDATE)."""
    now = utcnow()
    claimed = session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(link)
    audit.record(
        session,
        audit.AuditAction.ACCOUNT_LINK_USED,
        actor=link.user,
        target_type="staff_user",
        target_id=link.user_id,
        detail={"purpose": link.purpose.value},
    )
    return True


def begin_enrolment(session: Session, link: AccountLink) -> str:
    """Bind the code-app set-up to this browser: returns the nonce for its session."""
    nonce = secrets.token_urlsafe(32)
    link.session_hash = token_hash(nonce)
    link.expires_at = utcnow() + ENROLMENT_WINDOW
    session.flush()
    return nonce


def enrolment_for(session: Session, nonce: str | None) -> AccountLink | None:
    """The used link whose set-up this browser may finish, or None."""
    if not nonce or len(nonce) > 200:
        return None
    link = session.scalar(select(AccountLink).where(AccountLink.session_hash == token_hash(nonce)))
    if (
        link is None
        or link.used_at is None
        or link.finished_at is not None
        or link.expires_at <= utcnow()
        or not link.user.active
    ):
        return None
    return link


def enrolment_secret(session: Session, link: AccountLink) -> str:
    """The secret being set up (made once, kept encrypted on the link's row)."""
    if link.enrol_secret:
        plain = crypto.decrypt(link.enrol_secret)
        if plain:
            return plain
    from participation.accounts.services import new_totp_secret

    plain = new_totp_secret()
    link.enrol_secret = crypto.encrypt(plain)
    session.flush()
    return plain


def finish_enrolment(session: Session, link: AccountLink) -> None:
    link.finished_at = utcnow()
    link.session_hash = None
    link.enrol_secret = None
    session.flush()

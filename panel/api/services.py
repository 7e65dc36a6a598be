"""API tokens: created, revoked and looked up. Services flush; views commit."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from panel.api.models import ApiToken
from participation import audit
from participation.accounts.models import StaffUser
from participation.councils.models import Council
from participation.councils.services import hash_token
from participation.db import utcnow

TOKEN_PREFIX = "cvp_"  # noqa: S105 (says what a token is; not a secret)
# What an admin sees of a token to tell it apart: "cvp_" and the next 8 characters.
SHOWN_PREFIX_LENGTH = 12
# A token is used many times a minute by a BI refresh: record the use at most once a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


class TokenError(ValueError):
    """A token change that cannot be made; the message is safe to show."""


def new_token_text() -> str:
    """A random bearer token: 256 bits after a prefix that says what it is."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def create_token(
    session: Session, council: Council, name: str, by: StaffUser
) -> tuple[ApiToken, str]:
    """A new token for ``council``: returns it and its text, never stored nor shown again."""
    # No NUL or control characters (PostgreSQL refuses NUL); runs of spaces become one.
    name = " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())
    if not name:
        raise TokenError("Give the token a name.")
    plaintext = new_token_text()
    token = ApiToken(
        council_id=council.id,
        name=name[:120],
        token_hash=hash_token(plaintext),
        prefix=plaintext[:SHOWN_PREFIX_LENGTH],
        created_by_id=by.id,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        audit.AuditAction.API_TOKEN_CREATED,
        actor=by,
        council_id=council.id,
        target_type="api_token",
        target_id=token.id,
        detail={"name": token.name, "prefix": token.prefix},
    )
    return token, plaintext


def revoke_token(session: Session, token: ApiToken, by: StaffUser) -> bool:
    """Stop a token working at once; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.flush()
    audit.record(
        session,
        audit.AuditAction.API_TOKEN_REVOKED,
        actor=by,
        council_id=token.council_id,
        target_type="api_token",
        target_id=token.id,
        detail={"name": token.name, "prefix": token.prefix},
    )
    return True


def token_for(session: Session, plaintext: str | None) -> ApiToken | None:
    """The active token with this text, or None; notes its use at most once a minute."""
    if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH:
        return None
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plaintext), ApiToken.revoked_at.is_(None)
        )
    )
    if token is not None:
        _note_use(session, token, utcnow())
    return token


def _note_use(session: Session, token: ApiToken, now: datetime) -> None:
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so that parallel requests in the same minute write once between them.
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token.id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Set as already stored: the object must not flush a second, unconditional UPDATE.
    set_committed_value(token, "last_used_at", now)

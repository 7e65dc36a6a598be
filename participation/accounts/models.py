"""Staff accounts and their roles."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.db import Base, enum_type, utcnow


class Role(enum.Enum):
    ADMIN = "admin"
    PARTICIPATION_WORKER = "participation_worker"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    SERVICE_RESPONDER = "service_responder"
    PANEL_MEMBER = "panel_member"

    @property
    def label(self) -> Any:
        """The name people read, translated when shown (a lazy string)."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.PARTICIPATION_WORKER: _l("Participation worker"),
    Role.SAFEGUARDING_LEAD: _l("Designated safeguarding lead"),
    Role.SERVICE_RESPONDER: _l("Service responder"),
    Role.PANEL_MEMBER: _l("Corporate parenting panel member"),
}

# Roles that read what children wrote in their own words, and the administrator, who can
# grant those roles: they must use a second factor.
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.PARTICIPATION_WORKER, Role.SAFEGUARDING_LEAD})
# Roles that read children's own words: nobody may give one to themselves, and every
# safeguarding lead of the council is emailed whenever one is given.
CHILD_WORDS_ROLES = frozenset({Role.PARTICIPATION_WORKER, Role.SAFEGUARDING_LEAD})


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the Flask-Login id: rotating it signs the user out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Encrypted (Fernet, keys outside the database: participation/accounts/crypto.py).
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    # The last TOTP time-step accepted: a code for that step or an earlier one is a replay.
    totp_last_step: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column()

    council = relationship("Council", lazy="joined")
    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def needs_second_factor(self) -> bool:
        return bool(self.roles & SECOND_FACTOR_ROLES)


class StaffRole(Base):
    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[StaffUser] = relationship(back_populates="role_rows")


class LinkPurpose(enum.Enum):
    INVITE = "invite"  # a new person chooses their password (and sets up their code)
    PASSWORD_RESET = "password_reset"  # noqa: S105 ("forgot my password", not a secret)
    SECOND_FACTOR_RESET = "second_factor_reset"  # an administrator reset the code app


class AccountLink(Base):
    """A single-use, short-lived link emailed to one person; only its SHA-256 is stored.

    Once used, the link's page may go on (setting up the code app) only in the browser
    that used it: ``session_hash`` is the SHA-256 of a nonce kept in that browser's
    session, and the enrolment secret waits here, encrypted, never in the cookie.
    """

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[LinkPurpose] = mapped_column(enum_type(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrol_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted
    finished_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[StaffUser] = relationship(foreign_keys=[user_id])


class ThrottleKind(enum.Enum):
    PASSWORD = "password"  # noqa: S105 (a kind of attempt, not a secret)
    CODE = "code"


class SignInThrottle(Base):
    """Failed sign-in attempts for one identity (a normalised email, an account's code
    step, or a device cookie), whether or not the account exists.

    Past the free budget, attempts from a browser the account has not signed in from meet
    a growing delay instead of a flat refusal; a browser the person signed in from before
    has its own budget, so a stranger's guesses cannot lock the owner out.
    """

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[ThrottleKind] = mapped_column(enum_type(ThrottleKind))
    # The account the key belongs to, when it is known (for the administrator's page).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column()
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)
    # No attempt for this key is checked before this time.
    next_attempt_at: Mapped[datetime | None] = mapped_column()

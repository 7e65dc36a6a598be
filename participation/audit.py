"""The audit log: who did what to which record, and every view of children's own words."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from participation.db import Base, enum_type, utcnow

if TYPE_CHECKING:
    from participation.accounts.models import StaffUser


class AuditAction(enum.Enum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    SECOND_FACTOR_FAILED = "second_factor_failed"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"
    SECOND_FACTOR_RESET = "second_factor_reset"  # by an administrator
    SIGN_IN_DELAYED = "sign_in_delayed"  # an attempt refused unchecked: too many failures
    SIGN_IN_LOCK_CLEARED = "sign_in_lock_cleared"  # by an administrator
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an action's name)
    PASSWORD_CHANGE_FAILED = "password_change_failed"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    ACCOUNT_LINK_SENT = "account_link_sent"  # an invitation or a reset link, by email
    ACCOUNT_LINK_USED = "account_link_used"
    SIGN_OUT = "sign_out"
    IDLE_TIMEOUT = "idle_timeout"
    USER_CREATED = "user_created"
    ROLES_CHANGED = "roles_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_REACTIVATED = "user_reactivated"
    GROUP_CREATED = "group_created"
    GROUP_WORKER_SET = "group_worker_set"  # who runs the group (the lead asks them first)
    JOIN_CODE_ROTATED = "join_code_rotated"
    FREE_TEXT_VIEWED = "free_text_viewed"
    TAG_CONFIRMED = "tag_confirmed"
    TAG_REJECTED = "tag_rejected"
    SURVEY_RESPONSE_DELETED = "survey_response_deleted"  # by the child, from their device
    ROUND_PURGED = "round_purged"  # by `flask retention purge`
    API_TOKEN_CREATED = "api_token_created"  # noqa: S105 (an action's name, not a secret)
    API_TOKEN_REVOKED = "api_token_revoked"  # noqa: S105
    CARD_HANDED_BACK = "card_handed_back"  # the safeguarding lead: safe to go on as a card
    SURVEY_ANSWER_AMENDED = "survey_answer_amended"  # by the child, after sending, confirmed
    ROUND_CHANGED = "round_changed"  # dates changed, or closed early
    ROUND_AGE_BAND_OVERRIDDEN = "round_age_band_overridden"  # a set for another band, on purpose
    MEMBERSHIP_CONFIRMED = "membership_confirmed"  # a join beyond the group's size, counted


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int | None] = mapped_column(ForeignKey("council.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    # No CHECK: every feature adds actions, and the application is the only writer.
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, check=False), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column()
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def record(
    session: Session,
    action: AuditAction,
    *,
    actor: StaffUser | None = None,
    council_id: int | None = None,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it)."""
    if ip_address is None:
        ip_address = _request_ip()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        council_id=council_id if council_id is not None else (actor.council_id if actor else None),
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        ip_address=ip_address,
    )
    session.add(event)
    session.flush()
    return event


def free_text_viewed(session: Session, actor: StaffUser, target_type: str, target_id: int) -> None:
    """Log that a member of staff was shown a child's own words."""
    record(
        session,
        AuditAction.FREE_TEXT_VIEWED,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
    )


def _request_ip() -> str | None:
    from flask import has_request_context, request

    return request.remote_addr if has_request_context() else None

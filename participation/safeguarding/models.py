"""Safeguarding alerts raised from what children wrote, and what the lead did about them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.db import Base, enum_type, utcnow
from participation.subjects import SubjectType


class AlertLevel(enum.Enum):
    CONCERN = "concern"
    URGENT = "urgent"

    @property
    def label(self) -> Any:
        return {AlertLevel.CONCERN: _l("Concern"), AlertLevel.URGENT: _l("Urgent")}[self]


class AlertSource(enum.Enum):
    """Where an alert came from, so the lead knows what the child did."""

    FREE_TEXT = "free_text"  # words in a survey answer or a card, read by triage
    RISK_ANSWER = "risk_answer"  # a tapped answer that the question set marks as a risk
    HELP_REQUEST = "help_request"  # the child asked for help on the "Get help now" page

    @property
    def label(self) -> Any:
        return {
            AlertSource.FREE_TEXT: _l("What the child wrote"),
            AlertSource.RISK_ANSWER: _l("An answer the child tapped"),
            AlertSource.HELP_REQUEST: _l("The child asked for help"),
        }[self]


class ActionKind(enum.Enum):
    """What an action on an alert records."""

    NOTE = "note"
    SPOKE_TO_CHILD = "spoke_to_child"
    CARD_HANDED_BACK = "card_handed_back"  # safe to go on as a card: back to moderation


class AlertStatus(enum.Enum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"

    @property
    def label(self) -> Any:
        return {
            AlertStatus.NEW: _l("New"),
            AlertStatus.ACKNOWLEDGED: _l("Acknowledged"),
            AlertStatus.CLOSED: _l("Closed"),
        }[self]


class SafeguardingAlert(Base):
    """Raised in the same transaction as the text that caused it; never deleted by the app.

    It keeps its own copy of the text: the lead must be able to act on it even if the child
    later deletes their answer, and retention exports open alerts before any purge.
    """

    __tablename__ = "safeguarding_alert"
    __table_args__ = (
        CheckConstraint(
            "(status = 'new') OR (acknowledged_at IS NOT NULL)", name="acknowledged_before_on"
        ),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_date"),
        Index("ix_safeguarding_alert_open", "council_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("participation_group.id"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(enum_type(SubjectType))
    subject_id: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    level: Mapped[AlertLevel] = mapped_column(enum_type(AlertLevel))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[AlertStatus] = mapped_column(enum_type(AlertStatus), default=AlertStatus.NEW)
    source: Mapped[AlertSource] = mapped_column(
        enum_type(AlertSource), default=AlertSource.FREE_TEXT, server_default="free_text"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column()
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    first_action_at: Mapped[datetime | None] = mapped_column()
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(Text)
    # What the child chose to leave so that someone can reach them (optional).
    contact_details: Mapped[str | None] = mapped_column(String(500))
    contact_left_at: Mapped[datetime | None] = mapped_column()
    # The lead said a card raised with these words may go on as a card (back to moderation).
    card_cleared_at: Mapped[datetime | None] = mapped_column()
    card_cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Overdue alerts are emailed again until acknowledged: when, and how many times.
    last_reminded_at: Mapped[datetime | None] = mapped_column()
    reminders_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    # Two leads acting at once: the second gets a clear message instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    actions: Mapped[list[AlertAction]] = relationship(
        back_populates="alert", order_by="AlertAction.created_at", cascade="all"
    )
    group = relationship("Group")

    __mapper_args__ = {"version_id_col": version}

    def is_overdue(self, now: datetime) -> bool:
        """Past its deadline with no action recorded and still open."""
        return (
            self.status is not AlertStatus.CLOSED
            and self.first_action_at is None
            and now > self.due_at
        )


class AlertAction(Base):
    """A note of something the lead did (a call, a referral, a strategy discussion)."""

    __tablename__ = "safeguarding_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("safeguarding_alert.id"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[ActionKind] = mapped_column(
        enum_type(ActionKind), default=ActionKind.NOTE, server_default="note"
    )
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alert: Mapped[SafeguardingAlert] = relationship(back_populates="actions")
    by = relationship("StaffUser")


class HelpRequest(Base):
    """A child pressed "Get help now" and asked for someone to talk to them.

    ``submission_key`` comes from the form, so a double tap or a resend stores one request
    (and one alert). Words and a phone number are optional: help never depends on them.
    """

    __tablename__ = "help_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("participation_group.id"))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    words: Mapped[str | None] = mapped_column(Text)
    # at_group, through_worker, phone, or none chosen
    reach_by: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(40))
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

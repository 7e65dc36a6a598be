"""Challenge cards: a child or group asks a council service to change something."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.db import Base, enum_type, utcnow


class Service(Base):
    """A council service that cards can be sent to (a per-council list that admins keep)."""

    __tablename__ = "council_service"
    __table_args__ = (UniqueConstraint("council_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)


class CardStatus(enum.Enum):
    NEW = "new"  # waiting for a participation worker
    RETURNED = "returned"  # back with the group, with a question
    DECLINED = "declined"  # with a reason written for the child
    MERGED = "merged"  # the same as another card, which carries on
    PRIVATE = "private"  # "this is about me": a worker follows it up, never published
    SENT = "sent"  # with a service, which must answer by the due date
    ANSWERED = "answered"  # the service answered; a worker checks it before children see it
    RESPONDED = "responded"  # the answer is published
    CLOSED = "closed"  # what changed is written down (or a private card was followed up)

    @property
    def child_label(self) -> Any:
        """The status in a child's words."""
        return CHILD_STATUS[self]


CHILD_STATUS = {
    CardStatus.NEW: _l("We have got your card"),
    CardStatus.RETURNED: _l("We have a question for you"),
    CardStatus.DECLINED: _l("We cannot take this card further"),
    CardStatus.MERGED: _l("Someone asked the same thing: we joined the cards"),
    CardStatus.PRIVATE: _l("A worker will talk to you about this"),
    CardStatus.SENT: _l("Sent to the people who can change it"),
    CardStatus.ANSWERED: _l("They have answered: we are checking it"),
    CardStatus.RESPONDED: _l("They have answered"),
    CardStatus.CLOSED: _l("Done"),
}


class AnswerKind(enum.Enum):
    WILL_DO = "will_do"  # what we will do
    CANNOT_DO = "cannot_do"  # what we can't do, and why


class ChildFeedback(enum.Enum):
    FIXED = "fixed"
    PARTLY = "partly"
    NOT_FIXED = "not_fixed"


class ChallengeCard(Base):
    __tablename__ = "challenge_card"
    __table_args__ = (
        # A card about one child's own life is never published, by the database's own rule.
        CheckConstraint("NOT (about_me AND public_text IS NOT NULL)", name="private_never_public"),
        CheckConstraint(
            "participant_id IS NOT NULL OR raised_by_id IS NOT NULL", name="raised_by_someone"
        ),
        CheckConstraint(
            "status != 'sent' OR (responder_id IS NOT NULL AND due_at IS NOT NULL)",
            name="sent_has_responder",
        ),
        Index("ix_challenge_card_queue", "council_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"), index=True)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("council_service.id"))
    what_change: Mapped[str] = mapped_column(Text)
    why_matters: Mapped[str] = mapped_column(Text, default="")
    about_me: Mapped[bool] = mapped_column(default=False)
    status: Mapped[CardStatus] = mapped_column(enum_type(CardStatus), default=CardStatus.NEW)
    public_text: Mapped[str | None] = mapped_column(Text)
    return_question: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_card.id"))
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    answer_kind: Mapped[AnswerKind | None] = mapped_column(enum_type(AnswerKind))
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column()
    answer_published_at: Mapped[datetime | None] = mapped_column()
    what_changed: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column()
    child_feedback: Mapped[ChildFeedback | None] = mapped_column(enum_type(ChildFeedback))
    child_feedback_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # From the child's form: a double tap, a resend or two requests at once make one card.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Two people acting on one card at once: the second is told, and nothing is overwritten.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    group = relationship("Group", lazy="joined")
    service: Mapped[Service | None] = relationship(lazy="joined")
    responder = relationship("StaffUser", foreign_keys=[responder_id], lazy="joined")
    events: Mapped[list[CardEvent]] = relationship(
        back_populates="card", order_by="CardEvent.id", lazy="selectin"
    )

    @property
    def is_published(self) -> bool:
        return (
            not self.about_me
            and self.public_text is not None
            and self.status in (CardStatus.RESPONDED, CardStatus.CLOSED)
        )

    def is_overdue(self, now: datetime) -> bool:
        return self.status is CardStatus.SENT and self.due_at is not None and now > self.due_at


class CardEventKind(enum.Enum):
    RAISED = "raised"
    RETURNED = "returned"
    REPLIED = "replied"  # the child or group answered the worker's question
    DECLINED = "declined"
    MERGED = "merged"
    ROUTED_PRIVATELY = "routed_privately"
    FOLLOWED_UP = "followed_up"
    SENT = "sent"
    ANSWERED = "answered"
    ANSWER_APPROVED = "answer_approved"
    ANSWER_SENT_BACK = "answer_sent_back"
    CLOSED = "closed"
    CHILD_FEEDBACK = "child_feedback"
    OVERDUE_REMINDER = "overdue_reminder"


class CardEvent(Base):
    """Every step of a card: what happened, who did it, when."""

    __tablename__ = "challenge_card_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("challenge_card.id"), index=True)
    kind: Mapped[CardEventKind] = mapped_column(enum_type(CardEventKind))
    from_status: Mapped[CardStatus | None] = mapped_column(
        enum_type(CardStatus, name="from_status")
    )
    to_status: Mapped[CardStatus | None] = mapped_column(enum_type(CardStatus, name="to_status"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    by_child: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    card: Mapped[ChallengeCard] = relationship(back_populates="events")
    actor = relationship("StaffUser", lazy="joined")

"""The catalogue of Ofsted recommendations that submissions give evidence on."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.db import Base, enum_type, utcnow
from participation.subjects import SubjectType


class Recommendation(Base):
    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(60))
    child_text: Mapped[str] = mapped_column(Text)
    panel_text: Mapped[str] = mapped_column(Text)
    source_document: Mapped[str] = mapped_column(String(300))
    source_file: Mapped[str] = mapped_column(String(120))
    source_year: Mapped[int] = mapped_column(Integer)
    source_paragraph: Mapped[str] = mapped_column(String(200))
    source_quote: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class TagSource(enum.Enum):
    QUESTION = "question"  # the question answered is linked to the recommendation
    MATCHER = "matcher"  # suggested by the free-text tagger
    WORKER = "worker"  # added by a participation worker


class TagStatus(enum.Enum):
    PENDING = "pending"  # a matcher suggestion awaiting a worker
    CONFIRMED = "confirmed"  # counts on dashboards
    REJECTED = "rejected"  # kept, so the same suggestion is not offered again


class EvidenceTag(Base):
    """A submission counted as evidence on one recommendation.

    The subject is named by type and id (not a foreign key) because answers and cards live
    in their own packages; the pair is unique per recommendation, so re-running the matcher
    never duplicates a tag. Who decided, and when, is kept on the row and in the audit log.
    """

    __tablename__ = "evidence_tag"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "recommendation_id"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
        Index("ix_evidence_tag_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    subject_type: Mapped[SubjectType] = mapped_column(enum_type(SubjectType))
    subject_id: Mapped[int] = mapped_column()
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendation.id"), index=True)
    source: Mapped[TagSource] = mapped_column(enum_type(TagSource))
    status: Mapped[TagStatus] = mapped_column(enum_type(TagStatus), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column()

    recommendation: Mapped[Recommendation] = relationship(lazy="joined")

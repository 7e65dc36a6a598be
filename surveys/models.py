"""Question sets (versioned), survey rounds, and children's responses and answers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.councils.models import AgeBand
from participation.db import Base, enum_type, utcnow
from participation.recommendations.models import Recommendation


class QuestionKind(enum.Enum):
    CHOICE = "choice"
    TEXT = "text"


class AnswerStatus(enum.Enum):
    ANSWERED = "answered"
    SKIPPED = "skipped"
    PREFER_NOT = "prefer_not"  # "I don't want to say": counted apart from skips


class ResponseStatus(enum.Enum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


question_recommendation = Table(
    "survey_question_recommendation",
    Base.metadata,
    Column("question_id", ForeignKey("survey_question.id", ondelete="CASCADE"), primary_key=True),
    Column("recommendation_id", ForeignKey("recommendation.id"), primary_key=True, index=True),
)


class QuestionSet(Base):
    """One version of a question set. A change to its file makes a new version."""

    __tablename__ = "question_set"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column()
    age_band: Mapped[AgeBand] = mapped_column(enum_type(AgeBand))
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    welcome: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    translation_status: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[Question]] = relationship(
        back_populates="question_set", order_by="Question.position", lazy="selectin"
    )

    def local(self, field: dict[str, Any], lang: str) -> Any:
        """A field in ``lang`` if this set has it, else English."""
        return field.get(lang) if lang in self.languages and field.get(lang) else field["en"]


class Question(Base):
    __tablename__ = "survey_question"
    __table_args__ = (
        UniqueConstraint("question_set_id", "key"),
        UniqueConstraint("question_set_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_set.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column()
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind))
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    hint: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # [{"value": ..., "label": {lang: ...}, "emoji": ...}]
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    favourable: Mapped[list[str]] = mapped_column(JSON, default=list)
    show_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    question_set: Mapped[QuestionSet] = relationship(back_populates="questions")
    recommendations: Mapped[list[Recommendation]] = relationship(
        secondary=question_recommendation, lazy="selectin"
    )

    @property
    def choice_values(self) -> list[str]:
        return [c["value"] for c in self.choices]


class SurveyRound(Base):
    """A question set opened for some groups for a period."""

    __tablename__ = "survey_round"
    __table_args__ = (CheckConstraint("closes_at > opens_at", name="closes_after_opening"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_set.id"))
    name: Mapped[str] = mapped_column(String(120))
    opens_at: Mapped[datetime] = mapped_column()
    closes_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    question_set: Mapped[QuestionSet] = relationship(lazy="joined")
    round_groups: Mapped[list[RoundGroup]] = relationship(
        back_populates="survey_round", lazy="selectin"
    )

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at


class RoundGroup(Base):
    """A group taking part in a round, with the group size a worker records (response rates)."""

    __tablename__ = "survey_round_group"
    __table_args__ = (
        UniqueConstraint("round_id", "group_id"),
        CheckConstraint("expected_size IS NULL OR expected_size >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    expected_size: Mapped[int | None] = mapped_column(Integer)
    # The question set's age band differs from the group's, and a worker chose so (audited).
    age_band_override: Mapped[bool] = mapped_column(default=False, server_default=false())

    survey_round: Mapped[SurveyRound] = relationship(back_populates="round_groups")
    group = relationship("Group", lazy="joined")


class Response(Base):
    """One child's answers in one round: one row per child per round, whatever they resend."""

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id"),
        # Response rates count sent responses per round and group from this index alone.
        Index("ix_survey_response_round_group_sent", "round_id", "group_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    # The version answered: a later change to the set never rewrites what a child saw.
    question_set_id: Mapped[int] = mapped_column(ForeignKey("question_set.id"))
    language: Mapped[str] = mapped_column(String(8), default="en")
    current_position: Mapped[int] = mapped_column(default=1)
    status: Mapped[ResponseStatus] = mapped_column(
        enum_type(ResponseStatus), default=ResponseStatus.IN_PROGRESS
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()

    answers: Mapped[list[Answer]] = relationship(back_populates="response", lazy="selectin")


class Answer(Base):
    __tablename__ = "survey_answer"
    __table_args__ = (
        UniqueConstraint("response_id", "question_key"),
        CheckConstraint(
            "(status = 'answered') = (choice IS NOT NULL OR text IS NOT NULL)",
            name="answered_has_value",
        ),
        Index("ix_survey_answer_question", "question_id", "status", "choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[AnswerStatus] = mapped_column(enum_type(AnswerStatus))
    choice: Mapped[str | None] = mapped_column(String(64))
    # Whether the choice counts as favourable, fixed when the answer is saved, so that
    # dashboards count in SQL without reading question definitions.
    favourable: Mapped[bool | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(Text)
    # False while the question's show_if gate does not hold (an earlier answer changed):
    # the answer is kept, in case the child changes back, but not counted.
    applies: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[Response] = relationship(back_populates="answers")


class AnswerTally(Base):
    """Counts of chosen answers per round, group and question, kept current as children answer.

    The dashboards read these few rows instead of grouping every answer: a change to an
    answer adds its difference here in the same transaction (``surveys.tallies``).
    """

    __tablename__ = "survey_answer_tally"
    __table_args__ = (
        UniqueConstraint("round_id", "group_id", "question_id"),
        CheckConstraint("favourable >= 0 AND answered >= favourable", name="counts_consistent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("participation_group.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id"))
    question_key: Mapped[str] = mapped_column(String(64))
    # Answers with a favourable/unfavourable reading (chosen, on a question that has one).
    answered: Mapped[int] = mapped_column(Integer, default=0)
    favourable: Mapped[int] = mapped_column(Integer, default=0)

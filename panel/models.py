"""The reporting layer's tables: API tokens, and releases of the published figures.

A release is a recount of sent responses, made when a round closes or on a schedule,
never as each child answers. Pages, packs and the API read only the latest release, so
two reads around one child's answer show the same figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from panel.api.models import ApiToken
from participation.db import Base, utcnow

__all__ = [
    "ApiToken",
    "FigureRelease",
    "PublishedFigure",
    "ReleasedCount",
    "ReleasedGroup",
    "ReleasedRound",
]


class FigureRelease(Base):
    """One release of a council's figures. ``fixed`` holds the figures no filter changes
    (the card funnel, tags and cards per recommendation), already decided."""

    __tablename__ = "panel_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(40))
    threshold: Mapped[int] = mapped_column(Integer)
    fixed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReleasedRound(Base):
    """A round in a release: how many sent responses its counts hold, and when they were
    counted (a round is recounted only when it closes or enough new responses arrive)."""

    __tablename__ = "panel_release_round"
    __table_args__ = (UniqueConstraint("release_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("panel_release.id", ondelete="CASCADE"), index=True
    )
    # Codes, not foreign keys: a release is a record of what was published.
    round_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    year: Mapped[int] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(String(16))
    question_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    counted_responses: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime] = mapped_column()
    closed: Mapped[bool] = mapped_column(default=False)


class ReleasedCount(Base):
    """Counted answers of sent responses to one question, in one round and group."""

    __tablename__ = "panel_release_count"
    __table_args__ = (Index("ix_panel_release_count_release_round", "release_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("panel_release.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(Integer)
    question_key: Mapped[str] = mapped_column(String(64))
    answered: Mapped[int] = mapped_column(Integer)
    favourable: Mapped[int] = mapped_column(Integer)


class ReleasedGroup(Base):
    """A group in a round of a release: sent responses and the recorded group size."""

    __tablename__ = "panel_release_group"
    __table_args__ = (Index("ix_panel_release_group_release", "release_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("panel_release.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(Integer)
    expected: Mapped[int | None] = mapped_column(Integer)


class PublishedFigure(Base):
    """One indicator figure (a question or a recommendation's evidence row) for one filter
    combination of a release, with what the disclosure check allows to be shown."""

    __tablename__ = "panel_figure"
    __table_args__ = (Index("ix_panel_figure_release_filters", "release_id", "filter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("panel_release.id", ondelete="CASCADE"))
    filter_key: Mapped[str] = mapped_column(String(80))
    item_kind: Mapped[str] = mapped_column(String(16))  # "question" or "recommendation"
    item: Mapped[str] = mapped_column(String(64))  # a question key or a recommendation code
    answered: Mapped[int] = mapped_column(Integer)
    favourable: Mapped[int] = mapped_column(Integer)
    base_shown: Mapped[bool] = mapped_column()
    share_shown: Mapped[bool] = mapped_column()

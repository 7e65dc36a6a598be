"""Tokens for councils' BI tools to read the aggregate API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from participation.db import Base, utcnow


class ApiToken(Base):
    """A bearer token for one council's aggregates. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("council.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so an admin can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    @property
    def active(self) -> bool:
        return self.revoked_at is None

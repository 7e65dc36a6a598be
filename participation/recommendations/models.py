"""The catalogue of Ofsted recommendations that submissions give evidence on."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from participation.db import Base


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

"""Load the recommendation catalogue from its data file into the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from participation.recommendations.models import Recommendation

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
REQUIRED_FIELDS = (
    "code",
    "theme",
    "title",
    "child_text",
    "panel_text",
    "source",
    "paragraph",
    "quote",
)


class CatalogueError(ValueError):
    """The catalogue file is not well formed."""


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    theme: str
    title: str
    child_text: str
    panel_text: str
    source_document: str
    source_file: str
    source_year: int
    source_paragraph: str
    source_quote: str
    sort_order: int


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[CatalogueEntry]:
    """Parse and check the catalogue file."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = data.get("sources") or {}
    entries: list[CatalogueEntry] = []
    seen: set[str] = set()
    for order, item in enumerate(data.get("recommendations") or []):
        missing = [f for f in REQUIRED_FIELDS if not str(item.get(f, "")).strip()]
        if missing:
            raise CatalogueError(f"entry {order + 1} lacks {', '.join(missing)}")
        code = item["code"]
        if code in seen:
            raise CatalogueError(f"{code} appears twice")
        seen.add(code)
        source = sources.get(item["source"])
        if source is None:
            raise CatalogueError(f"{code} names unknown source {item['source']!r}")
        entries.append(
            CatalogueEntry(
                code=code,
                theme=item["theme"],
                title=item["title"],
                child_text=item["child_text"],
                panel_text=item["panel_text"],
                source_document=source["document"],
                source_file=source["file"],
                source_year=int(source["year"]),
                source_paragraph=str(item["paragraph"]),
                source_quote=item["quote"],
                sort_order=order,
            )
        )
    return entries


def load_catalogue(session: Session, path: Path = CATALOGUE_FILE) -> tuple[int, int]:
    """Insert new codes and update changed ones; codes gone from the file are deactivated.

    Returns (added, updated). Codes are never deleted: past tags still refer to them.
    """
    entries = read_catalogue(path)
    existing = {r.code: r for r in session.scalars(select(Recommendation))}
    added = updated = 0
    for entry in entries:
        values = entry.__dict__
        row = existing.pop(entry.code, None)
        if row is None:
            session.add(Recommendation(**values, active=True))
            added += 1
            continue
        changed = False
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
        if not row.active:
            row.active = changed = True
        updated += changed
    for row in existing.values():
        row.active = False
    session.flush()
    return added, updated

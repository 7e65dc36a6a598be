"""The dashboard filters as API query parameters, checked strictly.

The dashboards quietly ignore a filter they cannot read; a BI tool must be told instead,
or a mistyped ``age_band`` would return the whole council's figures as if filtered.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panel.dashboards.queries import Filters
from participation.councils.models import AgeBand, Group
from participation.db import MAX_ROW_ID

PARAMETERS = ("year", "round", "age_band", "group")
_YEAR = re.compile(r"[1-9][0-9]{3}", re.ASCII)
_ID = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)
AGE_BANDS = tuple(band.value for band in AgeBand)


class FilterError(ValueError):
    """A query parameter the API cannot use; ``status`` is 400 (malformed) or 404 (not found)."""

    def __init__(self, parameter: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.status = status


def _one(args: Any, name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise FilterError(name, f"Give {name} once.")
    value = values[0].strip() if values else ""
    return value or None  # "year=" means no filter, as in the dashboards' own form


def _id(args: Any, name: str) -> int | None:
    raw = _one(args, name)
    if raw is None:
        return None
    if not _ID.fullmatch(raw) or int(raw) > MAX_ROW_ID:
        raise FilterError(name, f"{name} must be a whole number (an id), not {raw[:40]!r}.")
    return int(raw)


def parse_filters(session: Session, council_id: int, args: Any) -> Filters:
    """The filters in ``args``, or FilterError; a round or group of another council is 404."""
    unknown = sorted(set(args) - set(PARAMETERS))
    if unknown:
        raise FilterError(
            unknown[0][:40],
            f"Unknown parameter {unknown[0][:40]!r}; use {', '.join(PARAMETERS)}.",
        )
    year = _one(args, "year")
    if year is not None and not _YEAR.fullmatch(year):
        raise FilterError("year", f"year must be four digits, such as 2026, not {year[:40]!r}.")
    band = _one(args, "age_band")
    if band is not None and band not in AGE_BANDS:
        raise FilterError("age_band", f"age_band must be one of {', '.join(AGE_BANDS)}.")
    round_id, group_id = _id(args, "round"), _id(args, "group")
    if round_id is not None and not _round_of(session, council_id, round_id):
        raise FilterError("round", "No such round.", status=404)
    if group_id is not None and not _group_of(session, council_id, group_id):
        raise FilterError("group", "No such group.", status=404)
    return Filters(
        year=int(year) if year else None,
        round_id=round_id,
        age_band=AgeBand(band) if band else None,
        group_id=group_id,
    )


def _round_of(session: Session, council_id: int, round_id: int) -> bool:
    from surveys.reads import round_of_council

    return round_of_council(session, council_id, round_id)


def _group_of(session: Session, council_id: int, group_id: int) -> bool:
    return (
        session.scalar(select(Group.id).where(Group.id == group_id, Group.council_id == council_id))
        is not None
    )

"""The dashboard filters, as they appear in a page address.

The figures themselves are read from the latest release by ``panel.published``; this
module only says which part of them a page asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from participation.councils.models import AgeBand


@dataclass(frozen=True)
class Filters:
    """The dashboard filters, as they appear in the page address."""

    year: int | None = None
    round_id: int | None = None
    age_band: AgeBand | None = None
    group_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        from participation.forms import parse_row_id

        def text(name: str) -> str:
            value = args.get(name, "")
            # A stored filter may be a number (a queued pack's): read it as the address would.
            return "" if value is None else str(value)

        band = text("age_band")
        year = parse_row_id(text("year"))
        # A value that is not a plain id or a sensible year is no filter, never an error.
        return cls(
            year=year if year is not None and 2000 <= year <= 2100 else None,
            round_id=parse_row_id(text("round")),
            age_band=AgeBand(band) if band in {b.value for b in AgeBand} else None,
            group_id=parse_row_id(text("group")),
        )

    def as_args(self) -> dict[str, Any]:
        values = {
            "year": self.year,
            "round": self.round_id,
            "age_band": self.age_band.value if self.age_band else None,
            "group": self.group_id,
        }
        return {k: v for k, v in values.items() if v is not None}

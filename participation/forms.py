"""Form helpers shared by every package."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, SelectChoice, SelectMultipleField, widgets
from wtforms.validators import ValidationError

from participation.db import MAX_ROW_ID

_ROW_ID = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)
# Dates people may type into a form: far enough either way for any round or reply date,
# and near enough that adding a day or a month to one can never overflow a datetime.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes (accessible, works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def enum_choices(enum_cls: Any) -> list[SelectChoice]:
    """Choices for an enum whose members have a ``label`` (translated when rendered)."""
    return [SelectChoice(member.value, member.label) for member in enum_cls]


def choices(pairs: list[tuple[str, Any]]) -> list[SelectChoice]:
    """Choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def drop_nul(value: str) -> str:
    """Text without NUL characters: PostgreSQL cannot store them and no keyboard types them.

    The one rule for NUL everywhere (forms and services): drop it, keep the rest, so that
    SQLite and PostgreSQL hold the same words.
    """
    return value.replace("\x00", "")


def strip_filter(value: Any) -> Any:
    """Trim spaces and drop NUL characters (see ``drop_nul``)."""
    return drop_nul(value).strip() if isinstance(value, str) else value


def one_line_filter(value: Any) -> Any:
    """A name on one line: control characters and line breaks become spaces.

    Names go into email subjects and spreadsheet cells, where a line break or a control
    character breaks the header or the file; a browser's one-line box never sends them.
    """
    if not isinstance(value, str):
        return value
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in drop_nul(value)
    )
    return cleaned.strip()


def parse_row_id(raw: Any) -> int | None:
    """A database id written in plain digits, or None: never "²", "١٢", "-1" or 10**30."""
    if not isinstance(raw, str) or not _ROW_ID.fullmatch(raw.strip()):
        return None
    value = int(raw.strip())
    return value if value <= MAX_ROW_ID else None


def sensible_date(_form: Form, field: Field) -> None:
    """A validator: the date must lie between 2000 and 2100 (a typo such as 9999 is refused)."""
    day = field.data
    if isinstance(day, date) and not (EARLIEST_DATE <= day <= LATEST_DATE):
        raise ValidationError(
            _l(
                "Enter a date between %(first)s and %(last)s",
                first=EARLIEST_DATE.year,
                last=LATEST_DATE.year,
            )
        )

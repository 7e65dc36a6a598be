"""Form helpers shared by every package."""

from __future__ import annotations

from typing import Any

from wtforms import SelectChoice, SelectMultipleField, widgets


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


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value

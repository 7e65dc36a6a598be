"""Tapped answers that a question set marks as a risk signal, and the help step after them.

A question set marks answers like "No" to "Do you feel safe where you live?" with a
strength: ``offer_help`` takes the child straight to a help step ("Would you like someone to
talk to you?"), where a yes raises an alert; ``alert`` is a concern on its own, so the alert
is raised with the answer and the help step still shows. The mark and the set's help-step
words are stored with the choice they belong to (``choice["risk"]``), so a version of a set
never changes what it asked or promised.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from participation.safeguarding.models import AlertLevel

# Added to an alert's reasons when the child said yes to "Would you like someone to talk
# to you?", so the lead knows the child asked, and the child's page knows they did.
WANTS_TO_TALK = "wants_to_talk"


class RiskStrength(enum.Enum):
    OFFER_HELP = "offer_help"  # ask whether the child wants someone to talk to them
    ALERT = "alert"  # a concern on its own: an alert is stored with the answer


@dataclass(frozen=True)
class Risk:
    """What a risk answer means: its strength, the alert's reason and level."""

    strength: RiskStrength
    reason: str
    level: AlertLevel
    help_step: Mapping[str, Any]


def choice_of(question: Any, value: str | None) -> Mapping[str, Any] | None:
    """The choice with this value, or None."""
    if value is None:
        return None
    return next((c for c in question.choices if c["value"] == value), None)


def risk_of(question: Any, value: str | None) -> Risk | None:
    """The risk mark of this answer to a question (a stored or cached one), or None."""
    choice = choice_of(question, value)
    mark = choice.get("risk") if choice is not None else None
    if not mark:
        return None
    return Risk(
        strength=RiskStrength(mark["strength"]),
        reason=mark["reason"],
        level=AlertLevel(mark.get("level", AlertLevel.CONCERN.value)),
        help_step=mark["help_step"],
    )


def local(field: Mapping[str, str], lang: str) -> str:
    """A text in ``lang``, or in English where there is none."""
    return field.get(lang) or field["en"]

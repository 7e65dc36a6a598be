"""What children submit, named the same way everywhere (tags, alerts, audit)."""

from __future__ import annotations

import enum


class SubjectType(enum.Enum):
    """A kind of submission that tags and safeguarding alerts can point at."""

    SURVEY_ANSWER = "survey_answer"
    CHALLENGE_CARD = "challenge_card"
    # A child asked for someone to talk to them from the "Get help now" page.
    HELP_REQUEST = "help_request"

"""Challenge cards: children raise and follow them; workers moderate; services answer.

One blueprint, its routes in a module per audience; importing them registers them.
"""

from __future__ import annotations

from typing import Any

from challenge_cards.views import admin, children, leads, responders, workers
from challenge_cards.views._common import bp
from challenge_cards.views.children import child_home_section


def register(app: Any) -> None:
    from challenge_cards.cli import cards_cli

    app.register_blueprint(bp)
    app.extensions.setdefault("child_home_sections", []).append(child_home_section)
    from challenge_cards.alert_subjects import describe_cards
    from participation.safeguarding.child_contact import register_subject
    from participation.subjects import SubjectType

    register_subject(app, SubjectType.CHALLENGE_CARD, describe_cards)  # the lead's queue
    app.cli.add_command(cards_cli)


__all__ = ["admin", "bp", "children", "leads", "register", "responders", "workers"]

"""`flask --app wsgi cards remind-overdue`: run daily (cron or a systemd timer)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from challenge_cards import services
from participation.db import db

cards_cli = AppGroup("cards", help="Challenge cards.")


@cards_cli.command("remind-overdue")
def remind_overdue() -> None:
    """Email responders and workers about cards past their reply date (once a day each)."""
    count = services.remind_overdue(db.session)
    db.session.commit()
    click.echo(f"{count} overdue card(s) reminded.")

"""Who is emailed about a safeguarding alert, and which councils would email nobody.

A new alert goes to every active safeguarding lead of the council, or, when the council
has none, to PARTICIPATION_SAFEGUARDING_FALLBACK_EMAIL. A reminder about an overdue,
unacknowledged alert goes to every lead and the fallback address as well: nobody has
picked it up, so someone else should know.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from sqlalchemy import exists, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from participation.accounts.models import Role, StaffRole, StaffUser
from participation.accounts.services import addresses_for_role
from participation.councils.models import Council
from participation.links import site_app

log = logging.getLogger(__name__)


def lead_addresses(session: Session, council_id: int) -> list[str]:
    """The email addresses of the council's active safeguarding leads, in order."""
    return addresses_for_role(session, council_id, Role.SAFEGUARDING_LEAD)


def fallback_address() -> str | None:
    address = site_app().config.get("SAFEGUARDING_FALLBACK_EMAIL")
    return str(address).strip() if address else None


def alert_recipients(session: Session, council_id: int, *, overdue: bool = False) -> list[str]:
    """Who to email about an alert: the leads, or the fallback when there are none.

    ``overdue``: the leads and the fallback address, each once.
    """
    recipients = lead_addresses(session, council_id)
    fallback = fallback_address()
    if fallback and (overdue or not recipients):
        lowered = {r.lower() for r in recipients}
        if fallback.lower() not in lowered:
            recipients.append(fallback)
    return recipients


def _has_active_lead(council_id_column: object) -> object:
    return exists(
        select(StaffUser.id)
        .join(StaffRole, StaffRole.user_id == StaffUser.id)
        .where(
            StaffUser.council_id == council_id_column,
            StaffUser.active.is_(True),
            StaffRole.role == Role.SAFEGUARDING_LEAD,
        )
    )


def alerts_reach_nobody(session: Session, council_id: int) -> bool:
    """No active lead account and no fallback address: an alert would email nobody."""
    return not fallback_address() and not lead_addresses(session, council_id)


def councils_without_anyone(session: Session) -> list[Council]:
    """Councils whose alerts would email nobody (empty when a fallback address is set)."""
    if fallback_address():
        return []
    return list(
        session.scalars(
            select(Council).where(~_has_active_lead(Council.id)).order_by(Council.name)  # type: ignore[operator]
        )
    )


def log_councils_without_a_lead(app: Flask) -> None:
    """At start-up: warn, by name, about each council whose alerts would email nobody.

    The database may not exist yet (before `db upgrade`, or a SQLite file not made yet),
    or may be unreachable; then there is nothing to say, and start-up goes on.
    """
    if app.config.get("SAFEGUARDING_FALLBACK_EMAIL"):
        return
    url = make_url(str(app.config["DATABASE_URL"]))
    # Connecting to a SQLite file that is not there yet would create an empty one.
    if url.get_backend_name() == "sqlite" and (
        not url.database or url.database == ":memory:" or not Path(url.database).exists()
    ):
        return
    from participation.db import db

    with app.app_context():
        try:
            if not inspect(db.session.connection()).has_table(Council.__tablename__):
                return
            councils = councils_without_anyone(db.session)
        except SQLAlchemyError as error:
            log.info("could not check councils for safeguarding leads: %s", type(error).__name__)
            return
        finally:
            db.session.rollback()
        for council in councils:
            log.warning(
                "Council %r (%s) has no active safeguarding lead account and "
                "PARTICIPATION_SAFEGUARDING_FALLBACK_EMAIL is not set: its safeguarding "
                "alerts would email nobody.",
                council.name,
                council.slug,
            )

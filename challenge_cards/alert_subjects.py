"""What the safeguarding lead sees of a card that raised an alert: its status, and where it
was sent (service and responder). Registered with the core in ``register``."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from challenge_cards.models import CardStatus, ChallengeCard
from participation.accounts.models import StaffUser
from participation.safeguarding.child_contact import AlertSubject


def _status(card: ChallengeCard) -> str:
    return {
        CardStatus.NEW: _("New: waiting for moderation"),
        CardStatus.RETURNED: _("Returned to the child with a question"),
        CardStatus.DECLINED: _("Declined"),
        CardStatus.MERGED: _("Merged into another card"),
        CardStatus.PRIVATE: _("Private: a worker follows it up"),
        CardStatus.SENT: _("Sent to a service"),
        CardStatus.ANSWERED: _("Answered by the service, not yet published"),
        CardStatus.RESPONDED: _("Answer published"),
        CardStatus.CLOSED: _("Closed"),
    }[card.status]


def describe_cards(session: Session, card_ids: list[int]) -> dict[int, AlertSubject]:
    """Each card: its status, whether it has public text, its service and responder."""
    cards = session.scalars(select(ChallengeCard).where(ChallengeCard.id.in_(card_ids))).all()
    responder_ids = {c.responder_id for c in cards if c.responder_id}
    responders = (
        {u.id: u for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(responder_ids)))}
        if responder_ids
        else {}
    )
    found: dict[int, AlertSubject] = {}
    for card in cards:
        responder = responders.get(card.responder_id) if card.responder_id else None
        facts = [
            (_("Status"), _status(card)),
            (_("Service"), card.service.name if card.service else _("None chosen")),
            (
                _("Responder"),
                f"{responder.display_name} ({responder.email})" if responder else _("Not sent"),
            ),
            (
                _("Public text"),
                _("Written by a worker") if card.public_text else _("None (not published)"),
            ),
        ]
        found[card.id] = AlertSubject(
            title=_("Card #%(id)s", id=card.id), facts=facts, kind="challenge_card"
        )
    return found

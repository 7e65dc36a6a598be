"""The emails about challenge cards, each from its template in ``templates/email/``.

Each reader gets a link to the page they can open: a responder the responder's page for
the card (``/staff/responses/<id>``), a participation worker the worker's (``/staff/cards/<id>``).
Links come from PARTICIPATION_PUBLIC_BASE_URL, never from the request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from challenge_cards.models import ChallengeCard
from participation import emails
from participation.links import public_url

RESPONDER_PAGE = "challenge_cards.respond"
WORKER_PAGE = "challenge_cards.card"


def _service_name(card: ChallengeCard) -> str:
    return card.service.name if card.service is not None else "the service"


def card_sent(
    session: Session, card: ChallengeCard, *, to: str, service_name: str, due: datetime
) -> None:
    """To the responder: a card for their service, with its public text and reply date."""
    emails.send(
        session,
        "card_sent",
        to=to,
        council_id=card.council_id,
        idempotency_key=f"card-{card.id}-sent-{card.version}",
        card=card,
        service_name=service_name,
        public_text=card.public_text,
        due=due,
        link=public_url(RESPONDER_PAGE, card_id=card.id),
    )


def answer_to_check(session: Session, card: ChallengeCard, *, to: str) -> None:
    """To a worker: the service answered; check it before children see it."""
    emails.send(
        session,
        "card_answered",
        to=to,
        council_id=card.council_id,
        idempotency_key=f"card-{card.id}-answered-{card.version}-{to}",
        card=card,
        service_name=_service_name(card),
        link=public_url(WORKER_PAGE, card_id=card.id),
    )


def card_overdue(
    session: Session, card: ChallengeCard, *, to: str, for_responder: bool, day: str
) -> None:
    """Past its reply date (once a ``day``): the responder and each worker, each to their page."""
    emails.send(
        session,
        "card_overdue",
        to=to,
        council_id=card.council_id,
        idempotency_key=f"card-{card.id}-overdue-{day}-{to}",
        card=card,
        service_name=_service_name(card),
        for_responder=for_responder,
        link=public_url(RESPONDER_PAGE if for_responder else WORKER_PAGE, card_id=card.id),
    )

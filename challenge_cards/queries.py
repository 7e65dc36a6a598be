"""Reads of challenge cards, each scoped to a council and to what the reader may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from challenge_cards.models import CardStatus, ChallengeCard, Service
from participation.accounts.models import StaffUser
from participation.councils.models import Participant
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType

PAGE_SIZE = 25


@dataclass(frozen=True)
class Page:
    cards: list[ChallengeCard]
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def held_for_safeguarding() -> ColumnElement[bool]:
    """True for a card the safeguarding lead holds: an alert on it the lead has not handed back.

    Such a card is never sent to a service, published, or shown outside the moderation
    pages until the lead hands it back or a worker makes it private. Closing the alert does
    not release the card: the lead may close it after a referral without judging the card
    safe to publish; only "hand back to moderation" does. Every read that shows a card's
    public words to anyone but its worker filters on ``~held_for_safeguarding()``.
    """
    return exists().where(
        SafeguardingAlert.subject_type == SubjectType.CHALLENGE_CARD,
        SafeguardingAlert.subject_id == ChallengeCard.id,
        SafeguardingAlert.council_id == ChallengeCard.council_id,
        SafeguardingAlert.card_cleared_at.is_(None),
    )


def is_held(session: Session, card: ChallengeCard) -> bool:
    """Whether the safeguarding lead holds this card (read from the database, not cached)."""
    return bool(session.scalar(select(held_for_safeguarding()).where(ChallengeCard.id == card.id)))


def held_ids(session: Session, card_ids: Iterable[int]) -> set[int]:
    """Which of these cards the safeguarding lead holds (for the moderation queue's marks)."""
    wanted = list(card_ids)
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(ChallengeCard.id).where(ChallengeCard.id.in_(wanted), held_for_safeguarding())
        )
    )


def card_for_submission(session: Session, submission_key: str) -> ChallengeCard | None:
    """The card a form with this key already raised, if any."""
    return session.scalar(
        select(ChallengeCard).where(ChallengeCard.submission_key == submission_key)
    )


def moderation_queue(
    session: Session,
    user: StaffUser,
    *,
    status: CardStatus | None = None,
    group_id: int | None = None,
    service_id: int | None = None,
    page: int = 1,
) -> Page:
    """Cards of the worker's council, oldest waiting first, 25 a page."""
    query: Select[tuple[ChallengeCard]] = select(ChallengeCard).where(
        ChallengeCard.council_id == user.council_id
    )
    if status is not None:
        query = query.where(ChallengeCard.status == status)
    else:
        query = query.where(
            ChallengeCard.status.in_(
                [CardStatus.NEW, CardStatus.PRIVATE, CardStatus.ANSWERED, CardStatus.RETURNED]
            )
        )
    if group_id:
        query = query.where(ChallengeCard.group_id == group_id)
    if service_id:
        query = query.where(ChallengeCard.service_id == service_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    cards = session.scalars(
        query.order_by(ChallengeCard.created_at, ChallengeCard.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return Page(list(cards), page, total)


def card_for_staff(session: Session, card_id: int, user: StaffUser) -> ChallengeCard | None:
    return session.scalar(
        select(ChallengeCard).where(
            ChallengeCard.id == card_id, ChallengeCard.council_id == user.council_id
        )
    )


def cards_for_responder(session: Session, user: StaffUser) -> list[ChallengeCard]:
    """Cards sent to this responder, soonest due first (never one the safeguarding lead holds)."""
    return list(
        session.scalars(
            select(ChallengeCard)
            .where(
                ChallengeCard.council_id == user.council_id,
                ChallengeCard.responder_id == user.id,
                ChallengeCard.about_me.is_(False),
                ~held_for_safeguarding(),
            )
            .order_by(ChallengeCard.status, ChallengeCard.due_at)
        )
    )


def card_for_responder(session: Session, card_id: int, user: StaffUser) -> ChallengeCard | None:
    return session.scalar(
        select(ChallengeCard).where(
            ChallengeCard.id == card_id,
            ChallengeCard.council_id == user.council_id,
            ChallengeCard.responder_id == user.id,
            ChallengeCard.about_me.is_(False),
            ~held_for_safeguarding(),
        )
    )


def cards_for_child(session: Session, participant: Participant) -> list[ChallengeCard]:
    return list(
        session.scalars(
            select(ChallengeCard)
            .where(ChallengeCard.participant_id == participant.id)
            .order_by(ChallengeCard.created_at.desc())
        )
    )


def card_for_child(
    session: Session, card_id: int, participant: Participant
) -> ChallengeCard | None:
    return session.scalar(
        select(ChallengeCard).where(
            ChallengeCard.id == card_id, ChallengeCard.participant_id == participant.id
        )
    )


def carried_on_by(session: Session, card: ChallengeCard) -> ChallengeCard | None:
    """The card a merged card was joined with (following further joins), which carries the
    request on to its answer; None if it is not merged, or the safeguarding lead holds it."""
    seen = {card.id}
    found = card
    while found.status is CardStatus.MERGED and found.merged_into_id is not None:
        following = session.scalar(
            select(ChallengeCard).where(
                ChallengeCard.id == found.merged_into_id,
                ChallengeCard.council_id == card.council_id,
            )
        )
        if following is None or following.id in seen:
            return None
        seen.add(following.id)
        found = following
    if found is card or found.about_me or is_held(session, found):
        return None
    return found


def board(session: Session, council_id: int) -> list[ChallengeCard]:
    """You said, we did: the council's published cards, newest answer first.

    The panel's overview, pack and exports read their highlights from here too, so a card
    the safeguarding lead holds is missing from all of them at once.
    """
    return list(
        session.scalars(
            select(ChallengeCard)
            .where(
                ChallengeCard.council_id == council_id,
                ChallengeCard.about_me.is_(False),
                ChallengeCard.public_text.is_not(None),
                ChallengeCard.status.in_([CardStatus.RESPONDED, CardStatus.CLOSED]),
                ~held_for_safeguarding(),
            )
            .order_by(ChallengeCard.answer_published_at.desc())
            .limit(200)
        )
    )


def active_services(session: Session, council_id: int) -> list[Service]:
    return list(
        session.scalars(
            select(Service)
            .where(Service.council_id == council_id, Service.active.is_(True))
            .order_by(Service.name)
        )
    )


def responders(session: Session, council_id: int) -> list[StaffUser]:
    from participation.accounts.models import Role, StaffRole

    return list(
        session.scalars(
            select(StaffUser)
            .join(StaffRole, StaffRole.user_id == StaffUser.id)
            .where(
                StaffUser.council_id == council_id,
                StaffUser.active.is_(True),
                StaffRole.role == Role.SERVICE_RESPONDER,
            )
            .order_by(StaffUser.display_name)
        )
    )

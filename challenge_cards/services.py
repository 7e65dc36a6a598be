"""Raising cards and moving them through their steps. Services flush; views commit.

Each step is allowed only from the right states and for the right people, and leaves a
CardEvent saying who did what and when.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenge_cards import emails
from challenge_cards.models import (
    AnswerKind,
    CardEvent,
    CardEventKind,
    CardStatus,
    ChallengeCard,
    ChildFeedback,
    Service,
)
from challenge_cards.queries import card_for_submission, carried_on_by, is_held
from challenge_cards.redaction import DetailKind, remaining_hard_details
from participation import audit
from participation.accounts.models import Role, StaffUser
from participation.accounts.services import addresses_for_role
from participation.councils.models import Council, Group, Participant
from participation.db import utcnow
from participation.recommendations import services as tagging
from participation.recommendations.tagging import TagSuggestion
from participation.safeguarding import services as safeguarding
from participation.safeguarding.models import (
    ActionKind,
    AlertStatus,
    SafeguardingAlert,
)
from participation.safeguarding.triage import Level, TriageResult, triage
from participation.subjects import SubjectType
from participation.workdays import add_working_days

REPLY_WORKING_DAYS = 20
MAX_TEXT = 2000
WORKER = Role.PARTICIPATION_WORKER


HELD = (
    "Held: the safeguarding lead is looking at this card. It cannot be sent or published "
    "until the lead hands it back to moderation, or you make it private."
)


class CardError(ValueError):
    """A step that cannot be taken now; the message is safe to show."""


class SubmissionKeyUsed(CardError):
    """A form's key that already raised someone else's card: the form must be sent afresh."""


def _refuse_if_held(session: Session, card: ChallengeCard) -> None:
    """Nothing of a card the safeguarding lead holds goes further than its worker."""
    if is_held(session, card):
        raise CardError(HELD)


@dataclass(frozen=True)
class PreparedCard:
    """A card's words, checked, triaged and tagged before any database write begins."""

    what_change: str
    why_matters: str
    triage: TriageResult
    suggestions: list[TagSuggestion]


def _clean(text: str | None) -> str:
    return (text or "").replace("\x00", "").strip()


def prepare(what_change: str | None, why_matters: str | None) -> PreparedCard:
    what, why = _clean(what_change), _clean(why_matters)
    if not what:
        raise CardError("Write what you want to change.")
    if len(what) > MAX_TEXT or len(why) > MAX_TEXT:
        raise CardError("That is a bit long. Please make it shorter.")
    words = f"{what}\n{why}"
    return PreparedCard(what, why, triage(words), tagging.default_tagger().suggest(words))


def _event(
    session: Session,
    card: ChallengeCard,
    kind: CardEventKind,
    *,
    by: StaffUser | None = None,
    by_child: bool = False,
    from_status: CardStatus | None = None,
    note: str | None = None,
) -> None:
    # Appended to the card (not only added to the session) so its history is current at once.
    card.events.append(
        CardEvent(
            council_id=card.council_id,
            card_id=card.id,
            kind=kind,
            from_status=from_status,
            to_status=card.status,
            actor_id=by.id if by else None,
            by_child=by_child,
            note=note,
        )
    )


def _move(
    session: Session,
    card: ChallengeCard,
    kind: CardEventKind,
    allowed_from: set[CardStatus],
    to: CardStatus,
    *,
    by: StaffUser | None = None,
    by_child: bool = False,
    note: str | None = None,
) -> None:
    if card.status not in allowed_from:
        raise CardError(
            f"This card is {card.status.value.replace('_', ' ')}: that step is not possible now."
        )
    before = card.status
    card.status = to
    card.updated_at = utcnow()
    session.flush()
    _event(session, card, kind, by=by, by_child=by_child, from_status=before, note=note)


def _require(user: StaffUser, card: ChallengeCard, *roles: Role) -> None:
    if user.council_id != card.council_id or not user.has_role(*roles):
        raise CardError("You cannot take this step on this card.")


def _classify(
    session: Session,
    card: ChallengeCard,
    prepared: PreparedCard,
    participant: Participant | None,
) -> SafeguardingAlert | None:
    alert = safeguarding.raise_alert_if_needed(
        session,
        council_id=card.council_id,
        group_id=card.group_id,
        participant_id=participant.id if participant else None,
        subject_type=SubjectType.CHALLENGE_CARD,
        subject_id=card.id,
        text=f"{prepared.what_change}\n{prepared.why_matters}".strip(),
        result=prepared.triage,
    )
    tagging.retag(
        session,
        council_id=card.council_id,
        subject_type=SubjectType.CHALLENGE_CARD,
        subject_id=card.id,
        text=prepared.what_change,
        suggestions=prepared.suggestions,
    )
    return alert


def raise_card(
    session: Session,
    prepared: PreparedCard,
    *,
    group: Group,
    service: Service | None,
    about_me: bool,
    participant: Participant | None = None,
    by: StaffUser | None = None,
    submission_key: str | None = None,
) -> tuple[ChallengeCard, SafeguardingAlert | None]:
    """A child (or a worker for a group meeting) raises a card.

    ``submission_key`` comes from the form: a double tap, a resend or two requests at once
    with one key make one card (and so one alert and one email); the later requests get the
    card the first one made. A key used by someone else is refused.
    """
    if service is not None and service.council_id != group.council_id:
        raise CardError("That service belongs to another council.")
    if submission_key:
        existing = card_for_submission(session, submission_key)
        if existing is not None:
            return _resent(session, existing, about_me, participant, by)
    # Back to the form and "send" again: the browser keeps the words but not the form's
    # key, so the same words from the same sender within the hour are the same card.
    resent = _same_words_lately(session, prepared, group=group, participant=participant, by=by)
    if resent is not None:
        return _resent(session, resent, about_me, participant, by)
    card = ChallengeCard(
        council_id=group.council_id,
        group_id=group.id,
        participant_id=participant.id if participant else None,
        raised_by_id=by.id if by else None,
        service_id=service.id if service else None,
        what_change=prepared.what_change,
        why_matters=prepared.why_matters,
        about_me=about_me,
        status=CardStatus.PRIVATE if about_me else CardStatus.NEW,
        submission_key=submission_key or None,
    )
    try:
        # A savepoint: if another request with this key got there first, only this insert
        # is undone and the request carries on with the card that one made.
        with session.begin_nested():
            session.add(card)
            session.flush()
    except IntegrityError:
        existing = card_for_submission(session, submission_key) if submission_key else None
        if existing is None:
            raise
        return _resent(session, existing, about_me, participant, by)
    _event(session, card, CardEventKind.RAISED, by=by, by_child=participant is not None)
    if about_me:
        _event(
            session,
            card,
            CardEventKind.ROUTED_PRIVATELY,
            note="About the child: a worker follows it up.",
        )
    alert = _classify(session, card, prepared, participant)
    return card, alert


RESEND_WINDOW = timedelta(hours=1)


def _same_words_lately(
    session: Session,
    prepared: PreparedCard,
    *,
    group: Group,
    participant: Participant | None,
    by: StaffUser | None,
) -> ChallengeCard | None:
    """A card this sender raised with exactly these words within the last hour, if any."""
    if participant is not None:
        sender = ChallengeCard.participant_id == participant.id
    elif by is not None:
        sender = (ChallengeCard.raised_by_id == by.id) & (ChallengeCard.group_id == group.id)
    else:
        return None
    return session.scalar(
        select(ChallengeCard)
        .where(
            sender,
            ChallengeCard.what_change == prepared.what_change,
            ChallengeCard.why_matters == prepared.why_matters,
            ChallengeCard.created_at >= utcnow() - RESEND_WINDOW,
        )
        .order_by(ChallengeCard.id.desc())
        .limit(1)
    )


def _resent(
    session: Session,
    card: ChallengeCard,
    about_me: bool,
    participant: Participant | None,
    by: StaffUser | None,
) -> tuple[ChallengeCard, SafeguardingAlert | None]:
    """The same card sent again; if the child now ticks "this is about me", honour it while
    nobody has acted on the card yet (never the other way: a private card stays private)."""
    found = _same_sender(session, card, participant, by)
    if about_me and not card.about_me and card.status in (CardStatus.NEW, CardStatus.RETURNED):
        card.about_me = True
        card.public_text = None
        _move(
            session,
            card,
            CardEventKind.ROUTED_PRIVATELY,
            {CardStatus.NEW, CardStatus.RETURNED},
            CardStatus.PRIVATE,
            by_child=participant is not None,
            note="About the child: a worker follows it up.",
        )
    return found


def _same_sender(
    session: Session,
    card: ChallengeCard,
    participant: Participant | None,
    by: StaffUser | None,
) -> tuple[ChallengeCard, SafeguardingAlert | None]:
    """The card an earlier request with the same key made, if this is the same sender."""
    same = (participant is not None and card.participant_id == participant.id and by is None) or (
        by is not None and card.raised_by_id == by.id and participant is None
    )
    if not same:
        raise SubmissionKeyUsed("That form was already used. Please send your card again.")
    alert = session.scalar(
        select(SafeguardingAlert)
        .where(
            SafeguardingAlert.subject_type == SubjectType.CHALLENGE_CARD,
            SafeguardingAlert.subject_id == card.id,
            SafeguardingAlert.council_id == card.council_id,
        )
        .order_by(SafeguardingAlert.id.desc())
        .limit(1)
    )
    return card, alert


def return_to_group(session: Session, card: ChallengeCard, question: str, by: StaffUser) -> None:
    """Ask the child or group a question before going further."""
    _require(by, card, WORKER)
    question = _clean(question)
    if not question:
        raise CardError("Write your question for the group.")
    card.return_question = question
    _move(
        session,
        card,
        CardEventKind.RETURNED,
        {CardStatus.NEW},
        CardStatus.RETURNED,
        by=by,
        note=question,
    )


def reply(
    session: Session,
    card: ChallengeCard,
    prepared: PreparedCard,
    *,
    participant: Participant | None = None,
    by: StaffUser | None = None,
) -> SafeguardingAlert | None:
    """The child (or a worker for the group) answers the question and the card goes back in."""
    if participant is not None and card.participant_id != participant.id:
        raise CardError("This is not your card.")
    if by is not None:
        _require(by, card, WORKER)
    card.what_change = prepared.what_change
    card.why_matters = prepared.why_matters
    _move(
        session,
        card,
        CardEventKind.REPLIED,
        {CardStatus.RETURNED},
        CardStatus.NEW,
        by=by,
        by_child=participant is not None,
    )
    return _classify(session, card, prepared, participant)


def decline(session: Session, card: ChallengeCard, reason: str, by: StaffUser) -> None:
    """Stop here, with a reason written for the child."""
    _require(by, card, WORKER)
    reason = _clean(reason)
    if not reason:
        raise CardError("Write the reason, in words the child will understand.")
    card.decline_reason = reason
    _move(
        session,
        card,
        CardEventKind.DECLINED,
        {CardStatus.NEW, CardStatus.RETURNED},
        CardStatus.DECLINED,
        by=by,
        note=reason,
    )


def merge(session: Session, card: ChallengeCard, into: ChallengeCard, by: StaffUser) -> None:
    """The same request as another card: that card carries on for both."""
    _require(by, card, WORKER)
    if into.id == card.id or into.council_id != card.council_id:
        raise CardError("Choose another card of this council.")
    if into.about_me or into.status in (CardStatus.MERGED, CardStatus.DECLINED, CardStatus.PRIVATE):
        raise CardError("That card cannot take others: choose an open card.")
    # Joining would carry a held card's request on through the other card.
    _refuse_if_held(session, card)
    _refuse_if_held(session, into)
    card.merged_into_id = into.id
    _move(
        session,
        card,
        CardEventKind.MERGED,
        {CardStatus.NEW, CardStatus.RETURNED},
        CardStatus.MERGED,
        by=by,
        note=f"Joined with card #{into.id}",
    )
    _event(session, into, CardEventKind.MERGED, by=by, note=f"Card #{card.id} joined this card")


def send_to_service(
    session: Session,
    card: ChallengeCard,
    *,
    public_text: str,
    service: Service,
    responder: StaffUser,
    due_at: datetime | None,
    by: StaffUser,
) -> None:
    """Publishable words, a service, a responder and a reply date; the responder is emailed."""
    _require(by, card, WORKER)
    if card.about_me:
        raise CardError("A card about one child is never sent on or published.")
    _refuse_if_held(session, card)
    public_text = _clean(public_text)
    if not public_text:
        raise CardError("Write the public text of the card.")
    _check_publishable(session, card, public_text, "The public text")
    if service.council_id != card.council_id or responder.council_id != card.council_id:
        raise CardError("Choose a service and responder of this council.")
    if not responder.active or not responder.has_role(Role.SERVICE_RESPONDER):
        raise CardError("That person is not a service responder.")
    now = utcnow()
    due = due_at or add_working_days(now, REPLY_WORKING_DAYS)
    if due <= now:
        raise CardError("The reply date must be in the future.")
    card.public_text = public_text
    card.service_id = service.id
    card.responder_id = responder.id
    card.sent_at = now
    card.due_at = due
    _move(
        session,
        card,
        CardEventKind.SENT,
        {CardStatus.NEW, CardStatus.RETURNED},
        CardStatus.SENT,
        by=by,
        note=f"To {service.name}, reply by {due:%d %B %Y}",
    )
    emails.card_sent(session, card, to=responder.email, service_name=service.name, due=due)


def _check_publishable(session: Session, card: ChallengeCard, text: str, what: str) -> None:
    """Refuse words that children, services and councillors will read if they hold a
    person's hard details or may be a disclosure (triage raises anything at all)."""
    left = remaining_hard_details(text, allowed=_council_names(session, card.council_id))
    if left:
        found = "; ".join(
            f"“{found}” ({kind})"
            for found, kind in sorted({(d.text, _KIND_WORDS[d.kind]) for d in left})
        )
        raise CardError(
            f"{what} still has personal details: {found}. "
            "Take them out (or write [name]) before it is published."
        )
    judged = triage(text)
    reasons = set(judged.reasons)
    harm = bool(reasons & _HARM_DONE_TO_SOMEONE) or (
        judged.level is Level.URGENT and not reasons <= _A_GROUPS_WORRY
    )
    if harm or _repeats_a_disclosure(session, card, text):
        raise CardError(
            f"{what} may hold something a child disclosed, so it cannot be published. "
            "Write it without those words, or ask the safeguarding lead."
        )


# Reasons that describe harm done to a child (told in the third person too: "a young person
# is being hit by their carer"), unlike a group's fair worries ("buses feel unsafe at night").
_HARM_DONE_TO_SOMEONE = frozenset(
    {
        "physical_abuse",
        "sexual_abuse",
        "emotional_abuse",
        "neglect",
        "domestic_abuse",
        "sexual_exploitation",
        "criminal_exploitation",
        "online_grooming",
        "trafficking",
        "harmful_practices",
        "self_harm",
        "suicide",
    }
)


_A_GROUPS_WORRY = frozenset({"unsafe_at_home", "bullying"})


def _repeats_a_disclosure(session: Session, card: ChallengeCard, text: str) -> bool:
    """Whether ``text`` repeats the words that raised an alert on this card (even one the
    lead handed back: the card may go on, those words may not): a quoted phrase of two or
    more words, or a whole sentence the child wrote."""
    lowered = _squash(text)
    for quotes, words in session.execute(
        select(SafeguardingAlert.evidence, SafeguardingAlert.text).where(
            SafeguardingAlert.subject_type == SubjectType.CHALLENGE_CARD,
            SafeguardingAlert.subject_id == card.id,
            SafeguardingAlert.council_id == card.council_id,
        )
    ):
        phrases = [q for q in quotes or () if len(q.split()) >= 2]
        phrases += [p for p in re.split(r"[.!?\n]+", words or "") if len(p.strip()) >= 15]
        if any(_squash(p) in lowered for p in phrases if _squash(p)):
            return True
    return False


def _squash(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


_KIND_WORDS = {
    DetailKind.NAME: "a person's name",
    DetailKind.PHONE: "a phone number",
    DetailKind.EMAIL: "an email address",
    DetailKind.POSTCODE: "a postcode",
    DetailKind.ADDRESS: "an address",
    DetailKind.SCHOOL: "a school",
    DetailKind.SOCIAL: "a social media name",
}


def _council_names(session: Session, council_id: int) -> list[str]:
    """The council's own names, which a public text may use: its name and its services'."""
    services = session.scalars(select(Service.name).where(Service.council_id == council_id))
    council = session.get(Council, council_id)
    return [*services, *([council.name] if council else [])]


def answer(
    session: Session, card: ChallengeCard, kind: AnswerKind, text: str, by: StaffUser
) -> None:
    """The service says what it will do, or what it can't do and why."""
    if card.responder_id != by.id:
        raise CardError("This card was sent to someone else.")
    text = _clean(text)
    if not text:
        raise CardError("Write your answer.")
    card.answer_kind = kind
    card.answer_text = text
    card.answered_at = utcnow()
    _move(session, card, CardEventKind.ANSWERED, {CardStatus.SENT}, CardStatus.ANSWERED, by=by)
    for worker in _workers(session, card.council_id):
        emails.answer_to_check(session, card, to=worker)


def approve_answer(session: Session, card: ChallengeCard, by: StaffUser) -> None:
    """Children can now see the answer."""
    _require(by, card, WORKER)
    _refuse_if_held(session, card)
    _check_publishable(session, card, card.answer_text or "", "The service's answer")
    card.answer_published_at = utcnow()
    _move(
        session,
        card,
        CardEventKind.ANSWER_APPROVED,
        {CardStatus.ANSWERED},
        CardStatus.RESPONDED,
        by=by,
    )


def send_answer_back(session: Session, card: ChallengeCard, note: str, by: StaffUser) -> None:
    """The answer needs work before children see it."""
    _require(by, card, WORKER)
    note = _clean(note)
    if not note:
        raise CardError("Say what the answer needs.")
    _move(
        session,
        card,
        CardEventKind.ANSWER_SENT_BACK,
        {CardStatus.ANSWERED},
        CardStatus.SENT,
        by=by,
        note=note,
    )


def close(session: Session, card: ChallengeCard, what_changed: str, by: StaffUser) -> None:
    """Write down what changed; the card is done."""
    if not (
        by.council_id == card.council_id and (by.has_role(WORKER) or card.responder_id == by.id)
    ):
        raise CardError("You cannot take this step on this card.")
    _refuse_if_held(session, card)
    what_changed = _clean(what_changed)
    if not what_changed:
        raise CardError("Write what changed.")
    _check_publishable(session, card, what_changed, "What changed")
    card.what_changed = what_changed
    card.closed_at = utcnow()
    _move(session, card, CardEventKind.CLOSED, {CardStatus.RESPONDED}, CardStatus.CLOSED, by=by)


def make_private(session: Session, card: ChallengeCard, by: StaffUser) -> None:
    """The card is about the child's own life: a worker follows it up and it is never published.

    This is also how a worker takes a card the safeguarding lead holds out of moderation
    without waiting for the lead: a private card can never be sent on or published.
    """
    _require(by, card, WORKER)
    card.about_me = True
    card.public_text = None
    _move(
        session,
        card,
        CardEventKind.ROUTED_PRIVATELY,
        {CardStatus.NEW, CardStatus.RETURNED},
        CardStatus.PRIVATE,
        by=by,
        note="Made private by a worker: about the child, never published.",
    )


HANDED_BACK_NOTE = "Safe to go on as a card: handed back to moderation."


def hand_back_to_moderation(session: Session, alert: SafeguardingAlert, by: StaffUser) -> None:
    """The safeguarding lead says the card these words came from may go on as a card.

    The alert stays open for the lead's own work; only the hold on the card is lifted. The
    worker still writes the public text, and a reply that raises a new alert holds it again.
    """
    if by.council_id != alert.council_id or not by.has_role(Role.SAFEGUARDING_LEAD):
        raise CardError("Only the safeguarding lead can hand a card back.")
    if alert.subject_type is not SubjectType.CHALLENGE_CARD:
        raise CardError("This alert did not come from a challenge card.")
    if alert.card_cleared_at is not None:
        raise CardError("The card was already handed back to moderation.")
    if alert.status is AlertStatus.CLOSED:
        # A closed alert still holds its card until the lead says the card may go on.
        alert.card_cleared_at = utcnow()
    else:
        safeguarding.record_action(
            session, alert, HANDED_BACK_NOTE, by, kind=ActionKind.CARD_HANDED_BACK
        )
        alert.card_cleared_at = alert.actions[-1].created_at
    alert.card_cleared_by_id = by.id
    session.flush()
    audit.record(
        session,
        audit.AuditAction.CARD_HANDED_BACK,
        actor=by,
        target_type="safeguarding_alert",
        target_id=alert.id,
        detail={"card_id": alert.subject_id},
    )


def follow_up_privately(session: Session, card: ChallengeCard, note: str, by: StaffUser) -> None:
    """A card about the child's own life: record how it was followed up."""
    _require(by, card, WORKER)
    note = _clean(note)
    if not note:
        raise CardError("Write how it was followed up.")
    _move(
        session,
        card,
        CardEventKind.FOLLOWED_UP,
        {CardStatus.PRIVATE},
        CardStatus.CLOSED,
        by=by,
        note=note,
    )


def give_feedback(
    session: Session, card: ChallengeCard, participant: Participant, feedback: ChildFeedback
) -> None:
    """The child who raised the card says whether the answer fixed it."""
    if card.participant_id != participant.id:
        raise CardError("This is not your card.")
    # A card joined with another is answered through it: its child says too.
    answered = card
    if card.status is CardStatus.MERGED:
        answered = carried_on_by(session, card) or card
    if answered.status not in (CardStatus.RESPONDED, CardStatus.CLOSED):
        raise CardError("You can tell us once they have answered.")
    card.child_feedback = feedback
    card.child_feedback_at = utcnow()
    session.flush()
    _event(session, card, CardEventKind.CHILD_FEEDBACK, by_child=True, note=feedback.value)


def remind_overdue(session: Session, now: datetime | None = None) -> int:
    """Email the responder and the workers about each card past its reply date, once a day."""
    now = now or utcnow()
    overdue = session.scalars(
        select(ChallengeCard).where(
            ChallengeCard.status == CardStatus.SENT, ChallengeCard.due_at < now
        )
    ).all()
    today = f"{now:%Y-%m-%d}"
    reminded = 0
    for card in overdue:
        if any(e.kind is CardEventKind.OVERDUE_REMINDER and e.note == today for e in card.events):
            continue
        reminded += 1
        recipients = {card.responder.email} if card.responder else set()
        recipients |= set(_workers(session, card.council_id))
        for address in sorted(recipients):
            # The responder's own page for the card; a worker's page for each worker.
            for_responder = card.responder is not None and address == card.responder.email
            emails.card_overdue(session, card, to=address, for_responder=for_responder, day=today)
        _event(session, card, CardEventKind.OVERDUE_REMINDER, note=today)
    session.flush()
    return reminded


def _workers(session: Session, council_id: int) -> list[str]:
    return addresses_for_role(session, council_id, WORKER)

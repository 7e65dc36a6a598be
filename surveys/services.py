"""Opening rounds and saving children's answers. Services flush; views commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from participation import audit
from participation.accounts.models import StaffUser
from participation.councils.models import Council, Group, Membership, Participant
from participation.db import utcnow
from participation.recommendations import services as tagging
from participation.recommendations.models import EvidenceTag
from participation.recommendations.tagging import TagSuggestion
from participation.safeguarding import services as safeguarding
from participation.safeguarding.models import (
    AlertLevel,
    AlertSource,
    AlertStatus,
    SafeguardingAlert,
)
from participation.safeguarding.triage import TriageResult, triage
from participation.subjects import SubjectType
from surveys import question_cache, tallies
from surveys.models import (
    Answer,
    AnswerStatus,
    Question,
    QuestionKind,
    QuestionSet,
    Response,
    ResponseStatus,
    RoundGroup,
    SurveyRound,
)
from surveys.question_cache import CachedQuestion, CachedQuestionSet
from surveys.risk import WANTS_TO_TALK, Risk, RiskStrength, choice_of, local, risk_of

MAX_TEXT = 4000
# Survey pages work on the cached read-only copies; staff code on the stored rows.
AnyQuestion = Question | CachedQuestion
AnyQuestionSet = QuestionSet | CachedQuestionSet


class SurveyError(ValueError):
    """Something about a round or an answer that cannot be done; the message is safe to show."""


def open_round(
    session: Session,
    council: Council,
    *,
    name: str,
    question_set: QuestionSet,
    groups: Iterable[Group],
    opens_at: datetime,
    closes_at: datetime,
    by: StaffUser | None = None,
    override_age_band: bool = False,
) -> SurveyRound:
    """Open a question set for some of the council's groups for a period.

    The set's age band must be each group's: answers are counted by the set's band, so a
    4-7 group answering the 11-17 set would be counted as 11-17. A worker may still choose
    so on purpose (``override_age_band``): the round's group is marked and it is audited.
    """
    groups = list(groups)
    if not groups:
        raise SurveyError("Choose at least one group.")
    if any(g.council_id != council.id for g in groups):
        raise SurveyError("A group belongs to another council.")
    if closes_at <= opens_at:
        raise SurveyError("The closing date must be after the opening date.")
    others = [g for g in groups if g.age_band is not question_set.age_band]
    if others and not override_age_band:
        raise SurveyError(
            f"This question set is for {question_set.age_band.label}, but "
            + ", ".join(f"{g.name} is {g.age_band.label}" for g in others)
            + ". Choose the set for their age band, or say that you mean to use this one."
        )
    survey_round = SurveyRound(
        council_id=council.id,
        question_set_id=question_set.id,
        name=name.strip(),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by_id=by.id if by else None,
    )
    survey_round.round_groups = [
        RoundGroup(council_id=council.id, group_id=g.id, age_band_override=g in others)
        for g in groups
    ]
    session.add(survey_round)
    session.flush()
    if others:
        audit.record(
            session,
            audit.AuditAction.ROUND_AGE_BAND_OVERRIDDEN,
            actor=by,
            council_id=council.id,
            target_type="survey_round",
            target_id=survey_round.id,
            detail={
                "question_set_band": question_set.age_band.value,
                "groups": {str(g.id): g.age_band.value for g in others},
            },
        )
    return survey_round


def change_round_dates(
    session: Session,
    survey_round: SurveyRound,
    *,
    opens_at: datetime,
    closes_at: datetime,
    by: StaffUser,
) -> None:
    """New dates for a round (to extend it, or correct them); audited."""
    if closes_at <= opens_at:
        raise SurveyError("The closing date must be after the opening date.")
    before = (survey_round.opens_at.isoformat(), survey_round.closes_at.isoformat())
    survey_round.opens_at, survey_round.closes_at = opens_at, closes_at
    session.flush()
    _round_changed(session, survey_round, by, before, "dates")


def close_round_now(session: Session, survey_round: SurveyRound, by: StaffUser) -> None:
    """Close a round early: children can no longer answer; what they gave is kept."""
    now = utcnow()
    if survey_round.closes_at <= now:
        raise SurveyError("This round is already closed.")
    before = (survey_round.opens_at.isoformat(), survey_round.closes_at.isoformat())
    if survey_round.opens_at >= now:  # not open yet: it never opens
        survey_round.opens_at = now - timedelta(seconds=1)
    survey_round.closes_at = now
    session.flush()
    _round_changed(session, survey_round, by, before, "closed_early")


def _round_changed(
    session: Session,
    survey_round: SurveyRound,
    by: StaffUser,
    before: tuple[str, str],
    what: str,
) -> None:
    audit.record(
        session,
        audit.AuditAction.ROUND_CHANGED,
        actor=by,
        council_id=survey_round.council_id,
        target_type="survey_round",
        target_id=survey_round.id,
        detail={
            "change": what,
            "before": list(before),
            "after": [survey_round.opens_at.isoformat(), survey_round.closes_at.isoformat()],
        },
    )


def sent_per_group(session: Session, survey_round: SurveyRound) -> dict[int, int]:
    """How many responses each of the round's groups has sent."""
    rows = session.execute(
        select(Response.group_id, func.count(Response.id))
        .where(Response.round_id == survey_round.id, Response.status == ResponseStatus.SUBMITTED)
        .group_by(Response.group_id)
    ).all()
    return {group_id: count for group_id, count in rows}


def _in_childs_groups(participant: Participant) -> Any:
    """SQL: the round group is one of the groups the child on this phone is in."""
    return or_(
        RoundGroup.group_id == participant.group_id,
        RoundGroup.group_id.in_(
            select(Membership.group_id).where(Membership.participant_id == participant.id)
        ),
    )


def open_rounds_for(session: Session, participant: Participant, now: datetime) -> list[SurveyRound]:
    """Rounds open now for any of the child's groups (a round open to two of them, once)."""
    return list(
        session.scalars(
            select(SurveyRound)
            .where(
                SurveyRound.id.in_(
                    select(RoundGroup.round_id).where(_in_childs_groups(participant))
                ),
                SurveyRound.opens_at <= now,
                SurveyRound.closes_at > now,
            )
            .order_by(SurveyRound.opens_at, SurveyRound.id)
        )
    )


def group_for_response(
    session: Session, survey_round: SurveyRound, participant: Participant
) -> int:
    """The group a child's response counts under: of the child's groups taking part in the
    round, the one they joined first (one response per child per round, counted once)."""
    found = session.scalar(
        select(Membership.group_id)
        .join(RoundGroup, RoundGroup.group_id == Membership.group_id)
        .where(Membership.participant_id == participant.id, RoundGroup.round_id == survey_round.id)
        .order_by(Membership.joined_at, Membership.id)
        .limit(1)
    )
    return found if found is not None else participant.group_id


def round_for_child(
    session: Session, round_id: int, participant: Participant
) -> SurveyRound | None:
    """The round if the child's group takes part (open or not); otherwise None."""
    return session.scalar(
        select(SurveyRound)
        .join(RoundGroup, RoundGroup.round_id == SurveyRound.id)
        .where(SurveyRound.id == round_id, _in_childs_groups(participant))
        # Every survey page loads this: it needs the set's row (its questions come from
        # surveys.question_cache), not the round's groups (loaded if ever used).
        .options(
            lazyload(SurveyRound.round_groups),
            joinedload(SurveyRound.question_set).lazyload(QuestionSet.questions),
        )
        .limit(1)
    )


def find_response(
    session: Session, survey_round: SurveyRound, participant: Participant
) -> Response | None:
    # The answers come in the same query (every survey page needs them): one round trip.
    return (
        session.execute(
            select(Response)
            .where(Response.round_id == survey_round.id, Response.participant_id == participant.id)
            .options(joinedload(Response.answers))
        )
        .unique()
        .scalar_one_or_none()
    )


def start_response(
    session: Session, survey_round: SurveyRound, participant: Participant, language: str
) -> Response:
    """The child's response in this round, created once however often they tap Start."""
    existing = find_response(session, survey_round, participant)
    if existing is not None:
        return existing
    response = Response(
        council_id=participant.council_id,
        round_id=survey_round.id,
        group_id=group_for_response(session, survey_round, participant),
        participant_id=participant.id,
        question_set_id=survey_round.question_set_id,
        language=language,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:  # a second tap raced the first: use the row it made
        found = find_response(session, survey_round, participant)
        assert found is not None
        return found
    return response


def applicable_questions(question_set: AnyQuestionSet, answers: dict[str, Answer]) -> list[Any]:
    """The questions this child is asked, given what they answered so far (show_if).

    A gate holds only while the question it depends on is itself asked: an answer to a
    question that no longer applies opens nothing.
    """
    shown = []
    asked: set[str] = set()
    for question in question_set.questions:
        rule = question.show_if
        if rule:
            earlier = answers.get(rule["question"])
            if rule["question"] not in asked or earlier is None or earlier.choice not in rule["in"]:
                continue
        shown.append(question)
        asked.add(question.key)
    return shown


@dataclass(frozen=True)
class PreparedAnswer:
    """An answer checked and classified before any database write begins."""

    question: AnyQuestion
    status: AnswerStatus
    choice: str | None
    text: str | None
    triage: TriageResult | None
    suggestions: list[TagSuggestion]


def prepare_answer(
    question: AnyQuestion, action: str, choice: str | None, text: str | None
) -> PreparedAnswer:
    """Check what the child sent and run triage and tagging on free text (no database)."""
    if action == "skip":
        return PreparedAnswer(question, AnswerStatus.SKIPPED, None, None, None, [])
    if action == "prefer_not":
        return PreparedAnswer(question, AnswerStatus.PREFER_NOT, None, None, None, [])
    if question.kind is QuestionKind.CHOICE:
        if not choice:
            raise SurveyError("choose")
        if choice not in question.choice_values:
            raise SurveyError("invalid")
        return PreparedAnswer(question, AnswerStatus.ANSWERED, choice, None, None, [])
    cleaned = (text or "").replace("\x00", "").strip()
    if not cleaned:
        raise SurveyError("write")
    if len(cleaned) > MAX_TEXT:
        raise SurveyError("too_long")
    return PreparedAnswer(
        question,
        AnswerStatus.ANSWERED,
        None,
        cleaned,
        triage(cleaned),
        tagging.default_tagger().suggest(cleaned),
    )


def save_answer(
    session: Session,
    response: Response,
    prepared: PreparedAnswer,
    participant: Participant,
    next_position: int | None,
    *,
    amend: bool = False,
) -> tuple[Answer, SafeguardingAlert | None]:
    """Keep the answer (a resend updates it); raise any alert (free text read by triage, or
    a tapped answer the question set marks ``alert``) and, for free text, tags.

    A sent response is closed to changes: only a confirmed amendment (``amend``) changes it,
    moves the tallies by the difference once, and is audited. Otherwise ``AnswerSent``.
    """
    now = utcnow()
    response = lock_response(session, response)
    if response.status is ResponseStatus.SUBMITTED and not amend:
        raise AnswerSent("sent")
    question_set = _question_set_of(session, response)
    before = _readings(response)
    previous = next((a for a in response.answers if a.question_key == prepared.question.key), None)
    was = (previous.status, previous.choice, previous.text) if previous is not None else None
    answer = _upsert_answer(session, response, prepared, now)
    _apply_gates(session, response, question_set)
    _move_tallies(session, response, before)
    response.updated_at = now
    if next_position is not None:
        response.current_position = next_position
    changed = was != (answer.status, answer.choice, answer.text)
    if amend and changed and response.status is ResponseStatus.SUBMITTED:
        audit.record(
            session,
            audit.AuditAction.SURVEY_ANSWER_AMENDED,
            council_id=response.council_id,
            target_type="survey_answer",
            target_id=answer.id,
            # Which question and that it changed: never what the child said.
            detail={"round_id": response.round_id, "question_key": answer.question_key},
        )
    alert = None
    risk = risk_of(prepared.question, prepared.choice)
    if risk is not None and risk.strength is RiskStrength.ALERT:
        alert = _risk_alert_once(session, response, answer, prepared.question, risk, participant)
    if prepared.text is not None:
        alert = _alert_once(session, answer, prepared, participant, now)
        tagging.retag(
            session,
            council_id=response.council_id,
            subject_type=SubjectType.SURVEY_ANSWER,
            subject_id=answer.id,
            text=prepared.text,
            suggestions=prepared.suggestions,
        )
    return answer, alert


class AnswerSent(SurveyError):
    """The response was sent: an answer changes only through a confirmed amendment."""


def lock_response(session: Session, response: Response) -> Response:
    """The response and its answers as stored now, locked (PostgreSQL) until commit.

    Every change to a response's answers or status takes this lock first, so two requests
    for one child's response (a double tap, two tabs) take turns, and each computes the
    tally difference from what the other left.
    """
    locked = session.execute(
        select(Response)
        .where(Response.id == response.id)
        .with_for_update()
        .options(selectinload(Response.answers))
        .execution_options(populate_existing=True)
    ).scalar_one()
    return locked


def _question_set_of(session: Session, response: Response) -> AnyQuestionSet:
    found = question_cache.question_set_by_id(session, response.question_set_id)
    assert found is not None
    return found


def _readings(response: Response) -> dict[str, tuple[Answer, bool | None]]:
    """What each answer adds to the tallies now (see ``tallies.counted_reading``)."""
    return {a.question_key: (a, tallies.counted_reading(response, a)) for a in response.answers}


def _apply_gates(session: Session, response: Response, question_set: AnyQuestionSet) -> None:
    """Mark each answer applies or not, from the answers as they are now (show_if)."""
    answers = {a.question_key: a for a in response.answers}
    shown = {q.key for q in applicable_questions(question_set, answers)}
    for answer in answers.values():
        applies = answer.question_key in shown
        if answer.applies != applies:
            answer.applies = applies


def _move_tallies(
    session: Session, response: Response, before: dict[str, tuple[Answer, bool | None]]
) -> None:
    """Add to the tallies the difference between ``before`` and the answers as they are now."""
    session.flush()
    for answer in response.answers:
        was = before.get(answer.question_key, (answer, None))[1]
        tallies.add(
            session,
            response=response,
            question_id=answer.question_id,
            question_key=answer.question_key,
            before=was,
            after=tallies.counted_reading(response, answer),
        )


def _upsert_answer(
    session: Session, response: Response, prepared: PreparedAnswer, now: datetime
) -> Answer:
    """Insert or update the answer row (the tallies are moved by the caller)."""
    existing = next((a for a in response.answers if a.question_key == prepared.question.key), None)
    if existing is None:
        answer = Answer(
            council_id=response.council_id,
            response_id=response.id,
            question_id=prepared.question.id,
            question_key=prepared.question.key,
            status=prepared.status,
            choice=prepared.choice,
            favourable=_favourable(prepared),
            text=prepared.text,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(answer)
                session.flush()
        except IntegrityError:  # SQLite without the lock: a double tap inserted it first
            session.expire(response, ["answers"])
            existing = _answer_for(session, response.id, prepared.question.key)
            assert existing is not None
        else:
            if answer not in response.answers:
                response.answers.append(answer)
            return answer
    existing.status = prepared.status
    existing.choice = prepared.choice
    existing.favourable = _favourable(prepared)
    existing.text = prepared.text
    existing.updated_at = now
    session.flush()
    return existing


def _favourable(prepared: PreparedAnswer) -> bool | None:
    """True or False for a chosen answer to a question with favourable answers, else None."""
    if prepared.choice is None or not prepared.question.favourable:
        return None
    return prepared.choice in prepared.question.favourable


def _answer_for(session: Session, response_id: int, key: str) -> Answer | None:
    # Locked (PostgreSQL) so that two sends of one answer read each other's change and the
    # tally difference is counted once; SQLite serialises writers anyway.
    return session.scalar(
        select(Answer)
        .where(Answer.response_id == response_id, Answer.question_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _alert_once(
    session: Session,
    answer: Answer,
    prepared: PreparedAnswer,
    participant: Participant,
    now: datetime,
) -> SafeguardingAlert | None:
    """One alert per distinct text: a resend of the same words does not alert twice."""
    if prepared.triage is None or prepared.text is None:
        return None
    already = session.scalar(
        select(SafeguardingAlert).where(
            SafeguardingAlert.subject_type == SubjectType.SURVEY_ANSWER,
            SafeguardingAlert.subject_id == answer.id,
            SafeguardingAlert.text == prepared.text,
        )
    )
    if already is not None:
        return already
    return safeguarding.raise_alert_if_needed(
        session,
        council_id=participant.council_id,
        group_id=answer.response.group_id,
        participant_id=participant.id,
        subject_type=SubjectType.SURVEY_ANSWER,
        subject_id=answer.id,
        text=prepared.text,
        now=now,
        result=prepared.triage,
    )


# Risk answers ----------------------------------------------------------------------------
#
# One answer raises at most one alert, however it is sent: a double tap, a resend, Back and
# the same answer again, another answer and back, or a yes in the help step after an alert.
# The answer's row is locked first (see _answer_for), so two requests for it take turns. An
# alert, once raised, stays when the answer changes: the lead has been told. A change to a
# more serious answer raises the alert's level (and emails again); only news for an alert
# the lead has closed (a more serious answer, or a first yes) starts a new one.


def risk_alert_for(session: Session, answer_id: int) -> SafeguardingAlert | None:
    """The alert a tapped answer raised (the newest, if the lead closed one), if any."""
    return session.scalar(
        select(SafeguardingAlert)
        .where(
            SafeguardingAlert.subject_type == SubjectType.SURVEY_ANSWER,
            SafeguardingAlert.subject_id == answer_id,
            SafeguardingAlert.source == AlertSource.RISK_ANSWER,
        )
        .order_by(SafeguardingAlert.id.desc())
        .limit(1)
    )


def ask_for_help(
    session: Session, response: Response, question: AnyQuestion, participant: Participant
) -> SafeguardingAlert | None:
    """The child said yes to "Would you like someone to talk to you?" after a risk answer.

    Stores the alert (or marks the one the answer raised) in this transaction. None if the
    saved answer is no longer a risk answer (the child changed it before saying yes).
    """
    answer = _answer_for(session, response.id, question.key)
    risk = risk_of(question, answer.choice) if answer is not None else None
    if answer is None or risk is None:
        return None
    return _risk_alert_once(
        session, response, answer, question, risk, participant, wants_to_talk=True
    )


def _risk_alert_once(
    session: Session,
    response: Response,
    answer: Answer,
    question: AnyQuestion,
    risk: Risk,
    participant: Participant,
    *,
    wants_to_talk: bool = False,
) -> SafeguardingAlert:
    # The question and the answer as the child saw them, and in English for the lead.
    choice = choice_of(question, answer.choice)
    assert choice is not None
    seen = (local(question.text, response.language), local(choice["label"], response.language))
    already = risk_alert_for(session, answer.id)
    graver = already is not None and _graver(risk.level, already.level)
    first_yes = wants_to_talk and already is not None and WANTS_TO_TALK not in already.reasons
    news = graver or first_yes
    if already is not None and not (news and already.status is AlertStatus.CLOSED):
        if graver:
            safeguarding.escalate_risk_answer_alert(
                session,
                already,
                level=risk.level,
                question_text=seen[0],
                answer_label=seen[1],
                reason=risk.reason,
            )
        if wants_to_talk and WANTS_TO_TALK not in already.reasons:
            already.reasons = [*already.reasons, WANTS_TO_TALK]
            session.flush()
        return already
    text = f"{seen[0]} — {seen[1]}"
    english = f"{question.text['en']} — {choice['label']['en']}"
    if english != text:
        text = f"{text}\n(English: {english})"
    return safeguarding.raise_risk_answer_alert(
        session,
        council_id=participant.council_id,
        group_id=response.group_id,
        participant_id=participant.id,
        answer_id=answer.id,
        question_text=seen[0],
        answer_label=seen[1],
        reasons=[risk.reason, WANTS_TO_TALK] if wants_to_talk else [risk.reason],
        level=risk.level,
        text=text,
    )


def _graver(level: AlertLevel, than: AlertLevel) -> bool:
    return level is AlertLevel.URGENT and than is not AlertLevel.URGENT


def submit(session: Session, response: Response) -> None:
    """Mark the response sent and count its applicable answers once; sending again changes
    nothing."""
    response = lock_response(session, response)
    if response.status is ResponseStatus.SUBMITTED:
        return
    _apply_gates(session, response, _question_set_of(session, response))
    before = _readings(response)
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = utcnow()
    _move_tallies(session, response, before)
    session.flush()


# Deleting: a child's own answers, and whole rounds past retention -------------------------
#
# Every deletion of answers goes through here, so that the dashboards' tallies are always
# withdrawn first and the evidence tags on the answers go with them. Safeguarding alerts
# are never deleted here: each keeps its own copy of the child's words, so the lead can
# still act on a disclosure after the answer that raised it is gone.


@dataclass(frozen=True)
class DeletedAnswers:
    """What a deletion removed, for the audit log and the command's report."""

    responses: int
    answers: int
    tags: int
    alerts_kept: int


def own_responses(session: Session, participant: Participant) -> list[Response]:
    """The child's responses in every round, newest round first (their answers page)."""
    return list(
        session.scalars(
            select(Response)
            .join(SurveyRound, SurveyRound.id == Response.round_id)
            .where(Response.participant_id == participant.id)
            .order_by(SurveyRound.opens_at.desc(), Response.id.desc())
        )
    )


def own_response(session: Session, participant: Participant, round_id: int) -> Response | None:
    """The child's response in that round, or None (another child's is never found)."""
    return session.scalar(
        select(Response).where(
            Response.round_id == round_id, Response.participant_id == participant.id
        )
    )


def delete_own_response(
    session: Session, participant: Participant, round_id: int
) -> DeletedAnswers | None:
    """The child deletes their answers to one round: the response, its answers and the
    evidence tags on them. None when the child has no response in that round."""
    response = own_response(session, participant, round_id)
    if response is None:
        return None
    answer_ids = select(Answer.id).where(Answer.response_id == response.id)
    alerts_kept = _alerts_on(session, answer_ids)
    tallies.withdraw_response(session, response.id)  # before the answers go
    tags = _delete_tags_on(session, answer_ids)
    answers = _deleted(session, delete(Answer).where(Answer.response_id == response.id))
    _deleted(session, delete(Response).where(Response.id == response.id))
    _forget_deleted_rows(session)
    audit.record(
        session,
        audit.AuditAction.SURVEY_RESPONSE_DELETED,
        council_id=participant.council_id,
        target_type="survey_response",
        target_id=response.id,
        # Counts only: nothing here says what the child wrote.
        detail={"round_id": round_id, "answers": answers, "alerts_kept": alerts_kept},
    )
    return DeletedAnswers(1, answers, tags, alerts_kept)


def purge_round(session: Session, survey_round: SurveyRound) -> DeletedAnswers:
    """Delete a round with everything children gave in it: responses, answers, the
    evidence tags on them, its tallies and its groups. Alerts stay (see above)."""
    round_id = survey_round.id
    response_ids = select(Response.id).where(Response.round_id == round_id)
    answer_ids = select(Answer.id).where(Answer.response_id.in_(response_ids))
    alerts_kept = _alerts_on(session, answer_ids)
    tallies.delete_round(session, round_id)
    tags = _delete_tags_on(session, answer_ids)
    answers = _deleted(session, delete(Answer).where(Answer.response_id.in_(response_ids)))
    responses = _deleted(session, delete(Response).where(Response.round_id == round_id))
    _deleted(session, delete(RoundGroup).where(RoundGroup.round_id == round_id))
    _deleted(session, delete(SurveyRound).where(SurveyRound.id == round_id))
    _forget_deleted_rows(session)
    return DeletedAnswers(responses, answers, tags, alerts_kept)


def _deleted(session: Session, statement: Any) -> int:
    """Run a bulk DELETE (the session is flushed first) and return how many rows went."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount or 0


def _forget_deleted_rows(session: Session) -> None:
    # Bulk deletes bypass the identity map: expire everything (all changes were flushed
    # before the deletes ran) so no object still shows a deleted row or a stale collection.
    session.expire_all()


def _delete_tags_on(session: Session, answer_ids: Select[tuple[int]]) -> int:
    return _deleted(
        session,
        delete(EvidenceTag).where(
            EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
            EvidenceTag.subject_id.in_(answer_ids),
        ),
    )


def _alerts_on(session: Session, answer_ids: Select[tuple[int]]) -> int:
    """How many safeguarding alerts were raised from these answers (they are kept)."""
    count = session.scalar(
        select(func.count(SafeguardingAlert.id)).where(
            SafeguardingAlert.subject_type == SubjectType.SURVEY_ANSWER,
            SafeguardingAlert.subject_id.in_(answer_ids),
        )
    )
    return count or 0

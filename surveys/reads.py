"""What other packages may read of the surveys: rounds, questions and counted answers.

The reporting layer (``panel``) reads surveys only through these functions, so that how
a survey stores its answers can change without the published figures learning of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from participation.councils.models import AgeBand, Group, awaiting_confirmation
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.subjects import SubjectType
from surveys.models import (
    Answer,
    Question,
    QuestionKind,
    QuestionSet,
    Response,
    ResponseStatus,
    RoundGroup,
    SurveyRound,
    question_recommendation,
)


@dataclass(frozen=True)
class RoundOutline:
    """A round as the reports see it: when, for which age band, asking which questions."""

    id: int
    name: str
    year: int
    age_band: AgeBand
    opens_at: datetime
    closes_at: datetime
    question_keys: tuple[str, ...]


@dataclass(frozen=True)
class RoundGroupSize:
    """A group in a round: the group size a worker recorded (None if not recorded)."""

    round_id: int
    group_id: int
    expected_size: int | None


@dataclass(frozen=True)
class CountedAnswers:
    """Counted answers to one question in one round and group: those with a reading,
    and how many of them are favourable."""

    round_id: int
    group_id: int
    question_key: str
    answered: int
    favourable: int


def rounds_of_council(session: Session, council_id: int) -> list[RoundOutline]:
    """Every round of the council, newest first, with the keys of the questions it asks
    that have a favourable reading (choice questions)."""
    found = session.scalars(
        select(SurveyRound)
        .where(SurveyRound.council_id == council_id)
        .order_by(SurveyRound.opens_at.desc(), SurveyRound.id.desc())
    ).all()
    return [
        RoundOutline(
            id=r.id,
            name=r.name,
            year=r.opens_at.year,
            age_band=r.question_set.age_band,
            opens_at=r.opens_at,
            closes_at=r.closes_at,
            question_keys=tuple(
                q.key
                for q in r.question_set.questions
                if q.kind is QuestionKind.CHOICE and q.favourable
            ),
        )
        for r in found
    ]


def round_names(session: Session, council_id: int) -> dict[int, str]:
    """Round id -> its current name (labels are read live; figures come from releases)."""
    return dict(
        session.execute(
            select(SurveyRound.id, SurveyRound.name).where(SurveyRound.council_id == council_id)
        )
        .tuples()
        .all()
    )


def round_of_council(session: Session, council_id: int, round_id: int) -> bool:
    """Whether the round exists and belongs to the council."""
    found = session.scalar(
        select(SurveyRound.id).where(
            SurveyRound.id == round_id, SurveyRound.council_id == council_id
        )
    )
    return found is not None


def groups_in_rounds(session: Session, council_id: int) -> list[RoundGroupSize]:
    """Which groups take part in which rounds, with their recorded sizes."""
    return [
        RoundGroupSize(round_id=rid, group_id=gid, expected_size=size)
        for rid, gid, size in session.execute(
            select(RoundGroup.round_id, RoundGroup.group_id, RoundGroup.expected_size)
            .where(RoundGroup.council_id == council_id)
            .order_by(RoundGroup.round_id, RoundGroup.group_id)
        )
    ]


def counted_responses() -> Any:
    """The one condition for a response that counts in published figures: it was sent, and
    not through a join beyond the group's recorded size that its worker has not confirmed
    (six made-up joins must not lift a hidden base over the threshold)."""
    return and_(
        Response.status == ResponseStatus.SUBMITTED,
        ~awaiting_confirmation(Response.participant_id, Response.group_id),
    )


def sent_responses(session: Session, round_ids: list[int]) -> dict[tuple[int, int], int]:
    """Counted (sent) responses per (round, group)."""
    if not round_ids:
        return {}
    return {
        (rid, gid): int(n)
        for rid, gid, n in session.execute(
            select(Response.round_id, Response.group_id, func.count())
            .where(Response.round_id.in_(round_ids), counted_responses())
            .group_by(Response.round_id, Response.group_id)
        )
    }


def counted_answers(session: Session, round_ids: list[int]) -> list[CountedAnswers]:
    """A recount of the answers of sent responses: per round, group and question, those
    with a favourable or unfavourable reading and how many are favourable. Answers that
    were saved but never sent do not count."""
    if not round_ids:
        return []
    query = (
        select(
            Response.round_id,
            Response.group_id,
            Answer.question_key,
            func.count().label("answered"),
            func.sum(case((Answer.favourable.is_(True), 1), else_=0)).label("favourable"),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(Response.round_id.in_(round_ids), counted_responses())
        .where(Answer.favourable.is_not(None))
        # An answer whose show_if gate no longer holds (the child changed an earlier answer)
        # is kept for the child but does not count.
        .where(Answer.applies.is_(True))
        .group_by(Response.round_id, Response.group_id, Answer.question_key)
    )
    return [
        CountedAnswers(
            round_id=r.round_id,
            group_id=r.group_id,
            question_key=r.question_key,
            answered=int(r.answered),
            favourable=int(r.favourable or 0),
        )
        for r in session.execute(query)
    ]


def question_texts(session: Session) -> dict[str, str]:
    """English text of each question key (the newest version of a set wins)."""
    texts: dict[str, str] = {}
    for key, text, _version in session.execute(
        select(Question.key, Question.text, QuestionSet.version)
        .join(QuestionSet, QuestionSet.id == Question.question_set_id)
        .order_by(QuestionSet.version)
    ):
        texts[key] = text["en"]
    return texts


def recommendations_of_questions(session: Session) -> dict[str, set[int]]:
    """Question key -> the ids of the recommendations it gives evidence on (any version)."""
    found: dict[str, set[int]] = {}
    for key, rec_id in session.execute(
        select(Question.key, question_recommendation.c.recommendation_id).join(
            question_recommendation, question_recommendation.c.question_id == Question.id
        )
    ):
        found.setdefault(key, set()).add(rec_id)
    return found


def confirmed_text_tags(session: Session, council_id: int) -> dict[int, int]:
    """Recommendation id -> confirmed tags on children's free-text answers."""
    return {
        rec_id: int(n)
        for rec_id, n in session.execute(
            select(EvidenceTag.recommendation_id, func.count())
            .join(Answer, Answer.id == EvidenceTag.subject_id)
            .join(Response, Response.id == Answer.response_id)
            .where(
                EvidenceTag.council_id == council_id,
                EvidenceTag.status == TagStatus.CONFIRMED,
                EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
                # Only the words of counted (sent) responses that still apply.
                counted_responses(),
                Answer.applies.is_(True),
            )
            .group_by(EvidenceTag.recommendation_id)
        )
    }


def year_of(column: Any) -> Any:
    return cast(func.extract("year", column), Integer)


# The participation worker's queue of free text to tag ------------------------------------

PAGE_SIZE = 25


def answers_to_review(
    session: Session, council_id: int, *, pending_only: bool, page: int
) -> tuple[list[Any], bool]:
    """Children's free-text survey answers in the council, newest first, with their round
    and group; with ``pending_only``, those with a suggested tag still to decide.
    Returns one page and whether there is another."""
    query = (
        select(Answer, SurveyRound.name.label("round_name"), Group.name.label("group_name"))
        .join(Response, Response.id == Answer.response_id)
        .join(SurveyRound, SurveyRound.id == Response.round_id)
        .join(Group, Group.id == Response.group_id)
        .where(Answer.council_id == council_id, Answer.text.is_not(None))
    )
    if pending_only:
        pending = (
            select(EvidenceTag.id)
            .where(
                EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
                EvidenceTag.subject_id == Answer.id,
                EvidenceTag.status == TagStatus.PENDING,
            )
            .exists()
        )
        query = query.where(pending)
    rows = session.execute(
        query.order_by(Answer.updated_at.desc(), Answer.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


def free_text_answer(session: Session, answer_id: int, council_id: int) -> Any:
    """One free-text answer of the council, or None."""
    return session.scalar(
        select(Answer).where(
            Answer.id == answer_id, Answer.council_id == council_id, Answer.text.is_not(None)
        )
    )

"""SQL aggregates for the panel dashboards: counted in the database, never row by row.

Every function takes the council and the filters and returns plain rows of counts; the
views suppress small numbers before anything is shown.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.orm import Session

from participation.councils.models import AgeBand, Group
from participation.recommendations.models import EvidenceTag, Recommendation, TagStatus
from participation.subjects import SubjectType


@dataclass(frozen=True)
class Filters:
    """The dashboard filters, as they appear in the page address."""

    year: int | None = None
    round_id: int | None = None
    age_band: AgeBand | None = None
    group_id: int | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        from participation.forms import parse_row_id

        band = args.get("age_band", "")
        year = parse_row_id(args.get("year", ""))
        # A value that is not a plain id or a sensible year is no filter, never an error.
        return cls(
            year=year if year is not None and 2000 <= year <= 2100 else None,
            round_id=parse_row_id(args.get("round", "")),
            age_band=AgeBand(band) if band in {b.value for b in AgeBand} else None,
            group_id=parse_row_id(args.get("group", "")),
        )

    def as_args(self) -> dict[str, Any]:
        values = {
            "year": self.year,
            "round": self.round_id,
            "age_band": self.age_band.value if self.age_band else None,
            "group": self.group_id,
        }
        return {k: v for k, v in values.items() if v is not None}


def _year(column: Any) -> Any:
    return cast(func.extract("year", column), Integer)


def _tallies(council_id: int, filters: Filters) -> Any:
    """The answer tallies (one row per round, group and question) within the filters.

    Reading these instead of the answers keeps every aggregate to a few hundred rows
    however many children have answered (``surveys.tallies`` keeps them current).
    """
    from surveys.models import AnswerTally, QuestionSet, SurveyRound

    query = (
        select()
        .select_from(AnswerTally)
        .join(SurveyRound, AnswerTally.round_id == SurveyRound.id)
        .join(QuestionSet, SurveyRound.question_set_id == QuestionSet.id)
        .where(AnswerTally.council_id == council_id)
    )
    return _filtered(query, filters, AnswerTally.group_id)


def _counts() -> tuple[Any, Any]:
    from surveys.models import AnswerTally

    return (
        func.coalesce(func.sum(AnswerTally.favourable), 0).label("favourable"),
        func.coalesce(func.sum(AnswerTally.answered), 0).label("answered"),
    )


def _answered() -> Any:
    from surveys.models import AnswerTally

    return func.sum(AnswerTally.answered) > 0


def _filtered(query: Any, filters: Filters, group_column: Any) -> Any:
    """Apply the filters to a query that joins survey_round and question_set."""
    from surveys.models import QuestionSet, SurveyRound

    if filters.year:
        query = query.where(_year(SurveyRound.opens_at) == filters.year)
    if filters.round_id:
        query = query.where(SurveyRound.id == filters.round_id)
    if filters.age_band:
        query = query.where(QuestionSet.age_band == filters.age_band)
    if filters.group_id:
        query = query.where(group_column == filters.group_id)
    return query


def indicator_totals(session: Session, council_id: int, filters: Filters) -> list[dict[str, Any]]:
    """Per question key: favourable and answered counts."""
    from surveys.models import AnswerTally

    query = (
        _tallies(council_id, filters)
        .add_columns(AnswerTally.question_key, *_counts())
        .group_by(AnswerTally.question_key)
        .having(_answered())
        .order_by(AnswerTally.question_key)
    )
    return [dict(r._mapping) for r in session.execute(query)]


def split_counts(
    session: Session, council_id: int, filters: Filters, by: str, item: str, also: str = ""
) -> list[dict[str, Any]]:
    """Per question key (or recommendation id) and per value of a filter dimension:
    favourable and answered counts. ``by`` is "year", "round", "age_band" or "group";
    the key is the value the filter takes (a year, a round id, an age band, a group id)."""
    from surveys.models import AnswerTally, QuestionSet, SurveyRound, question_recommendation

    columns = {
        "year": _year(SurveyRound.opens_at),
        "round": AnswerTally.round_id,
        "age_band": QuestionSet.age_band,
        "group": AnswerTally.group_id,
    }
    column = columns[by]
    # With ``also``, a second dimension: rows are then (item, key, other), a cross-table.
    keys = [column.label("key")] + ([columns[also].label("other")] if also else [])
    query = _tallies(council_id, filters)
    item_column: Any
    if item == "recommendation":
        query = query.join(
            question_recommendation,
            question_recommendation.c.question_id == AnswerTally.question_id,
        )
        item_column = question_recommendation.c.recommendation_id
    else:
        item_column = AnswerTally.question_key
    query = (
        query.add_columns(item_column.label("item"), *keys, *_counts())
        .group_by(item_column, column, *([columns[also]] if also else []))
        .having(_answered())
    )
    rows = [dict(r._mapping) for r in session.execute(query)]
    for row in rows:
        for name in ("key", "other"):
            if isinstance(row.get(name), AgeBand):
                row[name] = row[name].value
    return rows


def group_names(session: Session, council_id: int) -> list[tuple[int, str]]:
    return [
        (gid, name)
        for gid, name in session.execute(
            select(Group.id, Group.name).where(Group.council_id == council_id)
        )
    ]


def response_rates(session: Session, council_id: int, filters: Filters) -> list[dict[str, Any]]:
    """Per round and group: responses sent, and the group size a worker recorded."""
    from surveys.models import QuestionSet, Response, RoundGroup, SurveyRound

    # Counted per round group through the (round, group, submitted_at) index: only the
    # responses of the rounds shown are read, and only from the index.
    sent = (
        select(func.count(Response.submitted_at))
        .where(Response.round_id == RoundGroup.round_id, Response.group_id == RoundGroup.group_id)
        .correlate(RoundGroup)
        .scalar_subquery()
    )
    query = (
        select(
            SurveyRound.name.label("round"),
            Group.name.label("group"),
            RoundGroup.expected_size.label("expected"),
            sent.label("sent"),
        )
        .select_from(RoundGroup)
        .join(SurveyRound, SurveyRound.id == RoundGroup.round_id)
        .join(QuestionSet, QuestionSet.id == SurveyRound.question_set_id)
        .join(Group, Group.id == RoundGroup.group_id)
        .where(RoundGroup.council_id == council_id)
        .order_by(SurveyRound.opens_at.desc(), Group.name)
    )
    query = _filtered(query, filters, Group.id)
    return [dict(r._mapping) for r in session.execute(query)]


def evidence_matrix(session: Session, council_id: int, filters: Filters) -> list[dict[str, Any]]:
    """A row per recommendation: indicator counts, confirmed free-text tags, card counts."""
    from challenge_cards.models import CardStatus, ChallengeCard
    from surveys.models import AnswerTally, question_recommendation

    indicators = {
        r.recommendation_id: r
        for r in session.execute(
            _tallies(council_id, filters)
            .join(
                question_recommendation,
                question_recommendation.c.question_id == AnswerTally.question_id,
            )
            .add_columns(question_recommendation.c.recommendation_id, *_counts())
            .group_by(question_recommendation.c.recommendation_id)
        )
    }
    text_tags = dict(
        session.execute(
            select(EvidenceTag.recommendation_id, func.count())
            .where(
                EvidenceTag.council_id == council_id,
                EvidenceTag.status == TagStatus.CONFIRMED,
                EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
            )
            .group_by(EvidenceTag.recommendation_id)
        )
        .tuples()
        .all()
    )
    answered_states = [CardStatus.RESPONDED, CardStatus.CLOSED]
    cards = {
        r.recommendation_id: r
        for r in session.execute(
            select(
                EvidenceTag.recommendation_id,
                func.count().label("raised"),
                func.sum(case((ChallengeCard.status.in_(answered_states), 1), else_=0)).label(
                    "answered"
                ),
                func.sum(case((ChallengeCard.what_changed.is_not(None), 1), else_=0)).label(
                    "changed"
                ),
            )
            .join(
                ChallengeCard,
                and_(
                    EvidenceTag.subject_type == SubjectType.CHALLENGE_CARD,
                    EvidenceTag.subject_id == ChallengeCard.id,
                ),
            )
            .where(EvidenceTag.council_id == council_id, EvidenceTag.status == TagStatus.CONFIRMED)
            .group_by(EvidenceTag.recommendation_id)
        )
    }
    rows = []
    for rec in session.scalars(
        select(Recommendation)
        .where(Recommendation.active.is_(True))
        .order_by(Recommendation.sort_order)
    ):
        indicator = indicators.get(rec.id)
        card = cards.get(rec.id)
        rows.append(
            {
                "recommendation_id": rec.id,
                "code": rec.code,
                "title": rec.title,
                "favourable": int(indicator.favourable) if indicator else 0,
                "answered": int(indicator.answered) if indicator else 0,
                "text_tags": int(text_tags.get(rec.id, 0)),
                "cards_raised": int(card.raised) if card else 0,
                "cards_answered": int(card.answered or 0) if card else 0,
                "cards_changed": int(card.changed or 0) if card else 0,
            }
        )
    return rows


def card_funnel(session: Session, council_id: int, now: Any) -> dict[str, Any]:
    """Cards by stage, the median days from sending to an answer, and overdue cards."""
    from challenge_cards.models import CardStatus, ChallengeCard

    by_status = dict(
        session.execute(
            select(ChallengeCard.status, func.count())
            .where(ChallengeCard.council_id == council_id)
            .group_by(ChallengeCard.status)
        )
        .tuples()
        .all()
    )
    # Only two timestamps per answered card: fine to fetch, unlike answers.
    spans = session.execute(
        select(ChallengeCard.sent_at, ChallengeCard.answered_at).where(
            ChallengeCard.council_id == council_id,
            ChallengeCard.sent_at.is_not(None),
            ChallengeCard.answered_at.is_not(None),
        )
    ).all()
    days = [(answered - sent).total_seconds() / 86400 for sent, answered in spans]
    overdue = session.scalar(
        select(func.count())
        .select_from(ChallengeCard)
        .where(
            ChallengeCard.council_id == council_id,
            ChallengeCard.status == CardStatus.SENT,
            ChallengeCard.due_at < now,
        )
    )
    raised = sum(by_status.values())
    sent = raised - sum(
        by_status.get(s, 0)
        for s in (
            CardStatus.NEW,
            CardStatus.RETURNED,
            CardStatus.DECLINED,
            CardStatus.MERGED,
            CardStatus.PRIVATE,
        )
    )
    answered = by_status.get(CardStatus.RESPONDED, 0) + by_status.get(CardStatus.CLOSED, 0)
    return {
        "stages": [
            ("Raised", raised),
            ("Sent to a service", sent),
            ("Answered", answered),
            ("Changed", by_status.get(CardStatus.CLOSED, 0)),
        ],
        "median_days": round(statistics.median(days), 1) if days else None,
        "answered_count": len(days),
        "overdue": int(overdue or 0),
    }


def highlights(session: Session, council_id: int, limit: int = 5) -> list[Any]:
    """Recent "you said, we did": moderated public words only."""
    from challenge_cards.queries import board

    return board(session, council_id)[:limit]


def question_texts(session: Session, council_id: int) -> dict[str, str]:
    """English text of each question key (newest version wins)."""
    from surveys.models import Question, QuestionSet

    texts: dict[str, str] = {}
    for key, text, _version in session.execute(
        select(Question.key, Question.text, QuestionSet.version)
        .join(QuestionSet, QuestionSet.id == Question.question_set_id)
        .order_by(QuestionSet.version)
    ):
        texts[key] = text["en"]
    return texts


def years(session: Session, council_id: int) -> list[int]:
    from surveys.models import SurveyRound

    return sorted(
        {
            int(y)
            for (y,) in session.execute(
                select(_year(SurveyRound.opens_at))
                .where(SurveyRound.council_id == council_id)
                .distinct()
            )
        },
        reverse=True,
    )

"""Rollup of survey answers for the dashboards, kept current in the answering transaction.

Only **sent** responses count, and in them only the answers whose question applies (its
``show_if`` gate holds, ``Answer.applies``): saving an answer before sending moves nothing;
sending adds every applicable answer once; a confirmed amendment after sending, or a gate
that closes or opens again, adds its difference (+1/-1 to ``answered`` and ``favourable``)
to one ``AnswerTally`` row with an atomic upsert, so concurrent children never lose a count.
``rebuild`` recomputes the rows from the answers (after bulk loads, or to repair), and
``differences`` compares the two, which the tests and ``flask dashboards check-tallies`` use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from surveys.models import Answer, AnswerTally, Response, ResponseStatus


def counted_answers() -> Any:
    """SQL: the answers that count (in a sent response, on a question that applies)."""
    from sqlalchemy import and_

    return and_(Response.status == ResponseStatus.SUBMITTED, Answer.applies.is_(True))


def counted_reading(response: Response, answer: Answer) -> bool | None:
    """What one answer adds to the tallies: its favourable reading if it counts, else None."""
    if response.status is not ResponseStatus.SUBMITTED or not answer.applies:
        return None
    return answer.favourable


def counts(favourable: bool | None) -> tuple[int, int]:
    """(answered, favourable) that one answer adds to its tally."""
    if favourable is None:
        return 0, 0
    return 1, int(favourable)


def add(
    session: Session,
    *,
    response: Response,
    question_id: int,
    question_key: str,
    before: bool | None,
    after: bool | None,
) -> None:
    """Add the change of one answer's favourable reading (``before`` to ``after``)."""
    old, new = counts(before), counts(after)
    answered, favourable = new[0] - old[0], new[1] - old[1]
    if answered == 0 and favourable == 0:
        return
    if before is not None:
        # The answer was counted before, so its row exists: change it in place (an
        # upsert's proposed row, such as 0 answered and 1 favourable, would fail the CHECK).
        session.execute(
            update(AnswerTally)
            .where(
                AnswerTally.round_id == response.round_id,
                AnswerTally.group_id == response.group_id,
                AnswerTally.question_id == question_id,
            )
            .values(
                answered=AnswerTally.answered + answered,
                favourable=AnswerTally.favourable + favourable,
            )
        )
        return
    _upsert(
        session,
        {
            "council_id": response.council_id,
            "round_id": response.round_id,
            "group_id": response.group_id,
            "question_id": question_id,
            "question_key": question_key,
            "answered": answered,
            "favourable": favourable,
        },
    )


def _upsert(session: Session, row: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(AnswerTally).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=["round_id", "group_id", "question_id"],
        set_={
            "answered": AnswerTally.answered + statement.excluded.answered,
            "favourable": AnswerTally.favourable + statement.excluded.favourable,
        },
    )
    session.execute(statement)


def withdraw_response(session: Session, response_id: int) -> None:
    """Take one response's answers out of the tallies (call before deleting them)."""
    response = session.get(Response, response_id)
    if response is None or response.status is not ResponseStatus.SUBMITTED:
        return  # nothing of an unsent response was counted
    rows = session.execute(
        select(Answer.question_id, Answer.question_key, Answer.favourable).where(
            Answer.response_id == response_id,
            Answer.favourable.is_not(None),
            Answer.applies.is_(True),
        )
    ).all()
    for question_id, question_key, favourable in rows:
        add(
            session,
            response=response,
            question_id=question_id,
            question_key=question_key,
            before=favourable,
            after=None,
        )


def delete_round(session: Session, round_id: int) -> None:
    """Drop a purged round's tallies."""
    session.execute(delete(AnswerTally).where(AnswerTally.round_id == round_id))


def _grouped(round_ids: list[int] | None) -> Any:
    """The tallies as a GROUP BY over the answers themselves."""
    query = (
        select(
            Response.council_id,
            Response.round_id,
            Response.group_id,
            Answer.question_id,
            Answer.question_key,
            func.count().label("answered"),
            func.sum(case((Answer.favourable.is_(True), 1), else_=0)).label("favourable"),
        )
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.favourable.is_not(None), counted_answers())
        .group_by(
            Response.council_id,
            Response.round_id,
            Response.group_id,
            Answer.question_id,
            Answer.question_key,
        )
    )
    if round_ids is not None:
        query = query.where(Response.round_id.in_(round_ids))
    return query


def rebuild(session: Session, round_ids: list[int] | None = None) -> None:
    """Recompute tallies from the answers, for some rounds or all (not for live rounds
    while children answer: their increments may race the recount)."""
    target = delete(AnswerTally)
    if round_ids is not None:
        target = target.where(AnswerTally.round_id.in_(round_ids))
    session.execute(target)
    grouped = _grouped(round_ids).subquery()
    session.execute(
        insert(AnswerTally).from_select(
            [
                "council_id",
                "round_id",
                "group_id",
                "question_id",
                "question_key",
                "answered",
                "favourable",
            ],
            select(grouped),
        )
    )


def differences(session: Session) -> list[dict[str, Any]]:
    """Tally rows that disagree with the answers (empty when all is well)."""
    grouped = _grouped(None).subquery()
    keys = ("round_id", "group_id", "question_id")
    recount = {
        tuple(getattr(r, k) for k in keys): (r.answered, r.favourable)
        for r in session.execute(select(grouped))
    }
    stored = {
        (t.round_id, t.group_id, t.question_id): (t.answered, t.favourable)
        for t in session.scalars(select(AnswerTally))
    }
    problems = []
    for key in sorted(set(recount) | set(stored)):
        want, have = recount.get(key, (0, 0)), stored.get(key, (0, 0))
        if tuple(map(int, want)) != tuple(map(int, have)):
            problems.append(dict(zip(keys, key, strict=True), expected=want, stored=have))
    return problems

"""A realistic data set of any size for dashboards and their benchmarks.

Three yearly rounds for each age band, several groups a band, children answering their
band's question set with favourable shares that differ by question and improve a little
each year; some skip or prefer not to say. Rows are inserted in batches with executemany.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from participation.councils.models import AgeBand, Council, Group, GroupKind, Participant
from participation.councils.services import create_group

BATCH = 5_000
YEARS = (2024, 2025, 2026)


@dataclass
class Generated:
    rounds: int = 0
    responses: int = 0
    answers: int = 0


def generate(session: Session, council: Council, answers: int, seed: int = 7) -> Generated:
    """Add about ``answers`` answers (and their children, responses and rounds) to ``council``."""
    from surveys import tallies
    from surveys.models import Answer, AnswerStatus, QuestionKind, Response, ResponseStatus
    from surveys.question_sets import latest_versions, load_all
    from surveys.services import open_round

    rng = random.Random(seed)  # noqa: S311 - made-up data, not security
    load_all(session)
    sets = {s.age_band: s for s in latest_versions(session)}
    groups: dict[AgeBand, list[Group]] = {}
    for band in sets:
        existing = list(
            session.scalars(
                select(Group).where(Group.council_id == council.id, Group.age_band == band)
            )
        )
        while len(existing) < 3:
            existing.append(
                create_group(
                    session,
                    council,
                    name=f"Generated {band.value} #{len(existing) + 1} {secrets.token_hex(2)}",
                    age_band=band,
                    kind=GroupKind.CHILDREN_IN_CARE,
                    recorded_size=60,
                )
            )
        groups[band] = existing
    result = Generated()
    rounds = []
    run = secrets.token_hex(2)  # a second run makes rounds of its own, not same-named twins
    for year in YEARS:
        for band, question_set in sets.items():
            survey_round = open_round(
                session,
                council,
                name=f"Generated survey {year} ({band.value}) {run}",
                question_set=question_set,
                groups=groups[band],
                opens_at=datetime(year, 9, 1, tzinfo=UTC),
                closes_at=datetime(year, 12, 1, tzinfo=UTC),
            )
            rounds.append((year, band, survey_round))
            result.rounds += 1
    # Each question has its own level of favourable answers, rising a little each year.
    base_rate = {
        q.key: rng.uniform(0.45, 0.9)
        for s in sets.values()
        for q in s.questions
        if q.kind is QuestionKind.CHOICE
    }
    per_response = {
        band: sum(1 for q in s.questions if q.kind is QuestionKind.CHOICE)
        for band, s in sets.items()
    }
    # Every round gets its share, in turn: several rounds a year and several groups, as the
    # dashboards and the auditor need (not one random round per batch).
    share = max(1, answers // (len(rounds) * max(per_response.values())))
    turn = 0
    while result.answers < answers:
        year, band, survey_round = rounds[turn % len(rounds)]
        turn += 1
        count = min(
            BATCH // per_response[band] + 1,
            (answers - result.answers) // per_response[band] + 1,
            share + 1,
        )
        chosen_groups = [rng.choice(groups[band]) for _ in range(count)]
        participant_ids = session.scalars(
            insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
            [
                {"council_id": council.id, "group_id": g.id, "token_hash": secrets.token_hex(32)}
                for g in chosen_groups
            ],
        ).all()
        when = datetime(year, 10, 1, tzinfo=UTC)
        response_ids = session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True),
            [
                {
                    "council_id": council.id,
                    "round_id": survey_round.id,
                    "group_id": g.id,
                    "participant_id": pid,
                    "question_set_id": survey_round.question_set_id,
                    "language": "en",
                    "current_position": 99,
                    "status": ResponseStatus.SUBMITTED,
                    "started_at": when,
                    "updated_at": when,
                    "submitted_at": when,
                }
                for g, pid in zip(chosen_groups, participant_ids, strict=True)
            ],
        ).all()
        rows = []
        for response_id in response_ids:
            chosen: dict[str, str | None] = {}
            for question in survey_round.question_set.questions:
                if question.kind is not QuestionKind.CHOICE:
                    continue
                gate = question.show_if
                if gate and chosen.get(gate["question"]) not in gate["in"]:
                    continue  # not asked: an earlier answer closed its gate, as on the phone
                roll = rng.random()
                row = {
                    "council_id": council.id,
                    "response_id": response_id,
                    "question_id": question.id,
                    "question_key": question.key,
                    "created_at": when,
                    "updated_at": when,
                    "choice": None,
                    "favourable": None,
                    "text": None,
                }
                if roll < 0.04:
                    row["status"] = AnswerStatus.SKIPPED
                elif roll < 0.07:
                    row["status"] = AnswerStatus.PREFER_NOT
                else:
                    row["status"] = AnswerStatus.ANSWERED
                    good = rng.random() < min(
                        0.97, base_rate[question.key] + 0.04 * (year - YEARS[0])
                    )
                    values = question.choice_values
                    favourable_values = [v for v in values if v in question.favourable]
                    other_values = [v for v in values if v not in question.favourable]
                    if question.favourable and good and favourable_values:
                        row["choice"], row["favourable"] = rng.choice(favourable_values), True
                    else:
                        row["choice"] = rng.choice(other_values or values)
                        row["favourable"] = False if question.favourable else None
                chosen[question.key] = cast("str | None", row["choice"])
                rows.append(row)
        session.execute(insert(Answer), rows)
        result.responses += len(response_ids)
        result.answers += len(rows)
    session.flush()
    # Bulk rows skip the per-answer tally updates: count these rounds once, in SQL.
    tallies.rebuild(session, [r.id for _year, _band, r in rounds])
    return result

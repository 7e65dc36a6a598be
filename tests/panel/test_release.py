"""Releases: made by the worker's schedule or a command, from sent responses, in steps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from panel.models import FigureRelease, ReleasedRound
from panel.release import latest_release, make_release
from participation.councils.services import join_group
from participation.db import utcnow
from surveys import services as surveys


def _children_send(db_tx, survey_round, group, count, send=True):
    question = survey_round.question_set.questions[0]
    for _ in range(count):
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", "yes", None), participant, 2
        )
        if send:
            surveys.submit(db_tx, response)
    db_tx.flush()


def _releases(db_tx, council):
    return db_tx.scalar(
        select(func.count())
        .select_from(FigureRelease)
        .where(FigureRelease.council_id == council.id)
    )


def test_the_jobs_worker_makes_a_release_when_one_is_due(app, db_tx, council, group, survey_round):
    _children_send(db_tx, survey_round, group, 12)
    result = app.test_cli_runner().invoke(args=["jobs", "work"])
    assert result.exit_code == 0, result.output
    release = latest_release(db_tx, council.id)
    assert release is not None and release.reason == "schedule"
    (counted,) = db_tx.scalars(select(ReleasedRound).where(ReleasedRound.release_id == release.id))
    assert counted.counted_responses == 12 and not counted.closed
    # Nothing new: the next pass of the worker makes none.
    app.test_cli_runner().invoke(args=["jobs", "work"])
    assert _releases(db_tx, council) == 1


def test_the_release_command_says_what_it_did(app, db_tx, council, group, survey_round):
    runner = app.test_cli_runner()
    _children_send(db_tx, survey_round, group, 4)
    result = runner.invoke(args=["panel", "release", "--council", council.slug])
    assert result.exit_code == 0 and "release" in result.output
    second = runner.invoke(args=["panel", "release", "--council", council.slug])
    assert f"{council.slug}: no release due" in second.output
    assert _releases(db_tx, council) == 1


def test_an_open_round_with_few_sent_responses_is_not_released(db_tx, council, group, survey_round):
    _children_send(db_tx, survey_round, group, 9)
    _children_send(db_tx, survey_round, group, 5, send=False)  # saved, never sent
    made = make_release(db_tx, council.id, utcnow(), threshold=10, min_new=10)
    assert made is not None  # the first release (cards), but the round is not in it
    rounds = list(db_tx.scalars(select(ReleasedRound).where(ReleasedRound.release_id == made.id)))
    assert rounds == []


def test_a_round_that_closes_gets_its_final_count(db_tx, council, group, survey_round):
    _children_send(db_tx, survey_round, group, 12)
    first = make_release(db_tx, council.id, utcnow(), threshold=10, min_new=10)
    _children_send(db_tx, survey_round, group, 3)
    assert make_release(db_tx, council.id, utcnow(), threshold=10, min_new=10) is None
    after_close = survey_round.closes_at + timedelta(minutes=1)
    final = make_release(db_tx, council.id, after_close, threshold=10, min_new=10)
    assert final is not None and final.id != first.id
    (counted,) = db_tx.scalars(select(ReleasedRound).where(ReleasedRound.release_id == final.id))
    assert counted.closed and counted.counted_responses == 15
    assert make_release(db_tx, council.id, after_close, threshold=10, min_new=10) is None

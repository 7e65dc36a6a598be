"""The answer tallies the dashboards read always equal a count of the answers themselves."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from participation.councils.services import join_group
from surveys import services, tallies
from surveys.models import Answer, AnswerTally

ACTIONS = st.sampled_from(["yes", "sometimes", "no", "skip", "prefer_not"])


def _send(db_tx, survey_round, participant, action):
    response = services.start_response(db_tx, survey_round, participant, "en")
    question = next(q for q in survey_round.question_set.questions if q.key == "feel_safe")
    if action in {"skip", "prefer_not"}:
        prepared = services.prepare_answer(question, action, None, None)
    else:
        prepared = services.prepare_answer(question, "next", action, None)
    services.save_answer(db_tx, response, prepared, participant, None)
    db_tx.flush()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.tuples(st.integers(0, 2), ACTIONS), min_size=1, max_size=12))
def test_any_order_of_answers_changes_and_skips_keeps_the_tallies_exact(
    db_tx, survey_round, group, steps
):
    children = [join_group(db_tx, group)[0] for _ in range(3)]
    before = tallies.differences(db_tx)
    for child, action in steps:
        _send(db_tx, survey_round, children[child], action)
    assert tallies.differences(db_tx) == before == []
    # A child deleting their answers takes them out of the tallies first.
    for child in children:
        response = services.find_response(db_tx, survey_round, child)
        if response is not None:
            tallies.withdraw_response(db_tx, response.id)
            db_tx.execute(delete(Answer).where(Answer.response_id == response.id))
            db_tx.delete(response)
    db_tx.flush()
    assert tallies.differences(db_tx) == []
    rows = db_tx.scalars(select(AnswerTally).where(AnswerTally.round_id == survey_round.id)).all()
    assert all(row.answered == 0 and row.favourable == 0 for row in rows)


def test_answers_sent_through_the_pages_are_counted_once(client, post, group, survey_round, db_tx):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    page = f"/survey/{survey_round.id}"
    post(f"{page}/start", {}, page=page)
    for choice in ("no", "no", "yes", "yes"):  # a double tap, then a change of mind
        post(f"{page}/q/1", {"action": "next", "choice": choice}, page=f"{page}/q/1")
    tally = db_tx.scalar(select(AnswerTally).where(AnswerTally.question_key == "feel_safe"))
    assert (tally.answered, tally.favourable) == (1, 1)
    post(f"{page}/q/1", {"action": "skip"}, page=f"{page}/q/1")
    db_tx.refresh(tally)
    assert (tally.answered, tally.favourable) == (0, 0)
    assert tallies.differences(db_tx) == []


def test_rebuild_recounts_from_the_answers(db_tx, survey_round, group):
    child, _token = join_group(db_tx, group)
    _send(db_tx, survey_round, child, "yes")
    db_tx.execute(AnswerTally.__table__.update().values(answered=5, favourable=5))
    assert tallies.differences(db_tx)
    tallies.rebuild(db_tx, [survey_round.id])
    assert tallies.differences(db_tx) == []

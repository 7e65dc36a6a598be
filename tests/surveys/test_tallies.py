"""The answer tallies count sent responses only, and always equal a recount of the answers.

The property test walks a child through every real question set over HTTP at random
(answer, back, change an earlier answer, skip, resend, send, amend after sending, post a
page that show_if now hides) and after every step checks the stored answers against what
the child did, and the tallies against a recount (``tallies.differences``) and against an
independent count from the test's own model.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from participation.audit import AuditAction, AuditEvent
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group
from participation.db import utcnow
from surveys import services, tallies
from surveys.models import Answer, AnswerTally, Response, ResponseStatus
from surveys.question_sets import QUESTION_SETS_DIR, load_question_set, read_question_set
from tests.conftest import csrf_token

SETS = sorted(p.stem for p in QUESTION_SETS_DIR.glob("*.yaml"))

STEP = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 40), st.integers(0, 6)),
    st.tuples(st.just("skip"), st.integers(0, 40), st.just(0)),
    st.tuples(st.just("prefer_not"), st.integers(0, 40), st.just(0)),
    st.tuples(st.just("back"), st.integers(0, 40), st.just(0)),
    st.tuples(st.just("amend"), st.integers(0, 40), st.integers(0, 6)),
    st.tuples(st.just("resend"), st.just(0), st.just(0)),
    st.tuples(st.just("send"), st.just(0), st.just(0)),
)


def _shown(questions: list[Any], model: dict[str, tuple[str, str | None, str | None]]) -> set:
    """The test's own reading of show_if: a gate holds while its question is asked."""
    asked: set[str] = set()
    for q in questions:
        rule = q.show_if
        if rule and not (
            rule["question"] in asked
            and model.get(rule["question"], ("", None, None))[1] in rule["in"]
        ):
            continue
        asked.add(q.key)
    return asked


def _expected_tallies(questions, model, sent) -> dict[str, tuple[int, int]]:
    if not sent:
        return {}
    shown = _shown(questions, model)
    counts: dict[str, tuple[int, int]] = {}
    for q in questions:
        status, choice, _text = model.get(q.key, ("", None, None))
        if q.key in shown and status == "answered" and choice and q.favourable:
            answered, favourable = counts.get(q.key, (0, 0))
            counts[q.key] = (answered + 1, favourable + int(choice in q.favourable))
    return counts


def _data(question, action, pick):
    if action != "answer":
        return {"action": action}
    if question.kind.value == "text":
        return {"action": "next", "text": f"more clubs please {pick}"}
    values = question.choice_values
    return {"action": "next", "choice": values[pick % len(values)]}


def _apply(model, question, data):
    if data["action"] == "next":
        if "text" in data:
            model[question.key] = ("answered", None, data["text"])
        else:
            model[question.key] = ("answered", data["choice"], None)
    else:
        status = "skipped" if data["action"] == "skip" else "prefer_not"
        model[question.key] = (status, None, None)


@pytest.fixture(params=SETS)
def every_set(request, db_tx, council):
    data = read_question_set(QUESTION_SETS_DIR / f"{request.param}.yaml")
    question_set, _new = load_question_set(db_tx, data)
    group = create_group(
        db_tx, council, name=f"Walkers {request.param}", age_band=AgeBand(data["age_band"]),
        kind=GroupKind.CHILDREN_IN_CARE, recorded_size=1000)  # fmt: skip
    survey_round = services.open_round(
        db_tx, council, name="Walk", question_set=question_set, groups=[group],
        opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10),
    )  # fmt: skip
    return survey_round, group, list(question_set.questions)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # HTTP walks shrink too slowly
)
@given(steps=st.lists(STEP, min_size=1, max_size=14))
def test_random_walks_keep_answers_and_tallies_exact(app, db_tx, every_set, steps):
    survey_round, group, questions = every_set
    client = app.test_client()  # a new phone for each walk
    token = csrf_token(client, "/join")
    joined = client.post("/join", data={"code": group.current_join_code.code, "csrf_token": token})
    assert joined.status_code == 302
    base = f"/survey/{survey_round.id}"
    assert client.post(f"{base}/start", data={"csrf_token": token}).status_code == 302
    token = csrf_token(client, "/me")
    response_id = db_tx.scalar(
        select(Response.id).where(Response.round_id == survey_round.id).order_by(Response.id.desc())
    )
    model: dict[str, tuple[str, str | None, str | None]] = {}
    sent = False
    last: tuple[str, dict[str, str], Any] | None = None
    amended = 0
    for action, index, pick in steps:
        question = questions[index % len(questions)]
        shown = _shown(questions, model)
        url = f"{base}/q/{question.position}"
        if action == "back":
            page = client.get(url)
            assert page.status_code in (200, 302)
            if question.key in shown and page.status_code == 200 and sent:
                assert "You sent this answer" in page.get_data(as_text=True)
            continue
        if action == "send":
            assert client.post(f"{base}/submit", data={"csrf_token": token}).status_code == 302
            sent = True
            continue
        if action == "resend":
            if last is None:
                continue
            path, data, question = last
        elif action == "amend":
            data = {**_data(question, "answer", pick), "confirm": "yes"}
            path = f"{url}/change"
        else:
            data = _data(question, action, pick)
            path = url
        result = client.post(path, data={**data, "csrf_token": token})
        assert result.status_code < 500
        changes = question.key in _shown(questions, model) and (path.endswith("/change") == sent)
        if changes:
            before = model.get(question.key)
            _apply(model, question, data)
            if sent and before != model[question.key]:
                amended += 1
        elif sent and not path.endswith("/change") and question.key in shown:
            assert result.status_code == 409  # sent: shown to confirm, never saved silently
        last = (path, data, question)
        _check(db_tx, response_id, questions, model, sent)
    _check(db_tx, response_id, questions, model, sent)
    audited = db_tx.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SURVEY_ANSWER_AMENDED)
    ).all()
    assert len(audited) >= min(amended, 1)


def _check(db_tx, response_id, questions, model, sent):
    db_tx.expire_all()
    response = db_tx.get(Response, response_id)
    assert (response.status is ResponseStatus.SUBMITTED) == sent
    stored = {
        a.question_key: a
        for a in db_tx.scalars(select(Answer).where(Answer.response_id == response.id))
    }
    assert {k: (a.status.value, a.choice, a.text) for k, a in stored.items()} == model
    shown = _shown(questions, model)
    assert {k for k, a in stored.items() if a.applies} == set(model) & shown
    assert tallies.differences(db_tx) == []
    # This walk's child is the only one whose response is still open to change: the other
    # walks' counts stay as they were, so this child's share is the difference.
    rows = db_tx.scalars(select(AnswerTally).where(AnswerTally.round_id == response.round_id))
    have = {t.question_key: (t.answered, t.favourable) for t in rows}
    others = _others(db_tx, response)
    mine = {
        k: (v[0] - others.get(k, (0, 0))[0], v[1] - others.get(k, (0, 0))[1])
        for k, v in have.items()
    }
    assert {k: v for k, v in mine.items() if v != (0, 0)} == _expected_tallies(
        questions, model, sent
    )


def _others(db_tx, response):
    """The tallies of the round's other responses, recounted from their answers."""
    counts: dict[str, tuple[int, int]] = {}
    for answer, other in db_tx.execute(
        select(Answer, Response)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.round_id == response.round_id, Response.id != response.id)
    ).all():
        reading = tallies.counted_reading(other, answer)
        if reading is not None:
            answered, favourable = counts.get(answer.question_key, (0, 0))
            counts[answer.question_key] = (answered + 1, favourable + int(reading))
    return counts


def _walk(post, survey_round, choice):
    page = f"/survey/{survey_round.id}"
    post(f"{page}/start", {}, page=page)
    return post(f"{page}/q/1", {"action": "next", "choice": choice}, page=f"{page}/q/1")


def _tally(db_tx, key="feel_safe"):
    db_tx.expire_all()
    row = db_tx.scalar(select(AnswerTally).where(AnswerTally.question_key == key))
    return (row.answered, row.favourable) if row is not None else (0, 0)


def test_saving_before_sending_moves_nothing_and_sending_counts_once(
    client, post, group, survey_round, db_tx
):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    page = f"/survey/{survey_round.id}"
    post(f"{page}/start", {}, page=page)
    for choice in ("no", "no", "yes", "yes"):  # a double tap, then a change of mind
        post(f"{page}/q/1", {"action": "next", "choice": choice}, page=f"{page}/q/1")
    assert _tally(db_tx) == (0, 0)
    for _ in range(2):
        post(f"{page}/submit", {}, page="/me")
    assert _tally(db_tx) == (1, 1)
    assert tallies.differences(db_tx) == []


def test_after_sending_back_and_next_changes_nothing_silently(
    client, post, group, survey_round, db_tx
):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    _walk(post, survey_round, "yes")
    page = f"/survey/{survey_round.id}"
    post(f"{page}/submit", {}, page=f"{page}/end")
    again = post(f"{page}/q/1", {"action": "next", "choice": "no"}, page="/me")
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "Change your answer?" in html and "Yes, change it" in html
    assert db_tx.scalar(select(Answer.choice)) == "yes" and _tally(db_tx) == (1, 1)
    # Confirmed: the change is made once, audited, and the tally moves once.
    for _ in range(2):
        done = post(
            f"{page}/q/1/change", {"action": "next", "choice": "no", "confirm": "yes"}, page="/me"
        )
        assert done.status_code == 302
    db_tx.expire_all()
    assert db_tx.scalar(select(Answer.choice)) == "no" and _tally(db_tx) == (1, 0)
    events = db_tx.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SURVEY_ANSWER_AMENDED)
    ).all()
    assert len(events) == 1 and events[0].detail["question_key"] == "feel_safe"
    assert tallies.differences(db_tx) == []


def test_rebuild_recounts_sent_responses(client, post, group, db_tx, survey_round):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    _walk(post, survey_round, "yes")
    page = f"/survey/{survey_round.id}"
    post(f"{page}/submit", {}, page=f"{page}/end")
    db_tx.execute(AnswerTally.__table__.update().values(answered=5, favourable=5))
    assert tallies.differences(db_tx)
    tallies.rebuild(db_tx, [survey_round.id])
    assert tallies.differences(db_tx) == []
    assert _tally(db_tx) == (1, 1)

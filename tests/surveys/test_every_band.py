"""Each real question set, answered through HTTP on the phone flow, age band by age band."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group
from participation.db import utcnow
from participation.safeguarding.models import SafeguardingAlert
from surveys.models import Answer, AnswerStatus, Response, ResponseStatus
from surveys.question_sets import QUESTION_SETS_DIR, load_question_set, read_question_set
from surveys.services import open_round

SETS = sorted(p.stem for p in QUESTION_SETS_DIR.glob("*.yaml"))


@pytest.fixture(params=SETS)
def band_round(request, db_tx, council):
    data = read_question_set(QUESTION_SETS_DIR / f"{request.param}.yaml")
    question_set, _new = load_question_set(db_tx, data)
    group = create_group(
        db_tx, council, name=f"Group {request.param}", age_band=AgeBand(data["age_band"]),
        kind=GroupKind.CHILDREN_IN_CARE, recorded_size=1000)  # fmt: skip
    survey_round = open_round(
        db_tx, council, name="Annual", question_set=question_set, groups=[group],
        opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10),
    )  # fmt: skip
    return survey_round, group


def test_four_sets_exist():
    assert len(SETS) == 4


def test_a_child_completes_the_survey_of_each_band(app, client, post, post_as, band_round, db_tx):
    survey_round, group = band_round
    post("/join", {"code": group.current_join_code.display})
    start = post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    location = start.headers["Location"]
    seen, skipped, refused = 0, False, False
    while "/q/" in location:
        page = client.get(location).get_data(as_text=True)
        assert re.search(r"\d+ of \d+", page)
        data = {"action": "next"}
        choices = re.findall(r'name="choice" value="([^"]+)"', page)
        if choices and not refused:
            bad = post(location, {"action": "next", "choice": "not-a-choice"}, page=location)
            assert bad.status_code == 422  # a wrong value: clear message, nothing lost
            refused = True
        if choices:
            data["choice"] = choices[0]
        elif 'name="text"' in page:
            if not skipped:
                data, skipped = {"action": "skip"}, True
            else:
                data["text"] = "my social worker keeps changing and i missed maths for a meeting"
        if seen == 1:
            data = {"action": "prefer_not"}
        response = post(location, data, page=location)
        assert response.status_code == 302, (location, response.status_code)
        post(location, data, page=location)  # a double tap changes nothing
        location = response.headers["Location"]
        seen += 1
        if seen == 3:  # the phone is closed, and opened again later
            token = client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value
            later = app.test_client()
            later.set_cookie(app.config["CHILD_COOKIE_NAME"], token)
            resumed = post_as(
                later, f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}"
            )
            assert resumed.headers["Location"] == location
    assert location.endswith("/end") and seen >= 8
    post(f"/survey/{survey_round.id}/submit", {}, page=location)
    response = db_tx.scalars(select(Response)).one()
    assert response.status is ResponseStatus.SUBMITTED
    answers = db_tx.scalars(select(Answer).where(Answer.response_id == response.id)).all()
    assert len(answers) == seen  # one row per question, whatever was resent
    statuses = {a.status for a in answers}
    assert {AnswerStatus.ANSWERED, AnswerStatus.PREFER_NOT} <= statuses
    assert db_tx.scalar(select(func.count()).select_from(SafeguardingAlert)) == 0


def test_each_band_in_arabic_and_pashto_runs_right_to_left(client, post, band_round, csrf):
    survey_round, group = band_round
    post("/join", {"code": group.current_join_code.display})
    for lang in ("ar", "ps"):
        client.post("/language", data={"language": lang, "next": "/me", "csrf_token": csrf()})
        welcome = client.get(f"/survey/{survey_round.id}").get_data(as_text=True)
        assert f'<html lang="{lang}" dir="rtl">' in welcome
        title = survey_round.question_set.title[lang]
        assert title in welcome


def test_each_band_shows_help_when_free_text_worries_us(client, post, band_round, db_tx):
    survey_round, group = band_round
    post("/join", {"code": group.current_join_code.display})
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    text_question = next(
        q for q in survey_round.question_set.questions if q.kind.value == "text" and not q.show_if
    )
    location = f"/survey/{survey_round.id}/q/{text_question.position}"
    response = post(location, {"action": "next", "text": "i want to kill myself"}, page=location)
    assert response.headers["Location"].startswith("/help/")
    assert db_tx.scalar(select(SafeguardingAlert)).level.value == "urgent"


def test_each_band_says_when_the_round_is_closed(client, post, band_round, db_tx):
    survey_round, group = band_round
    post("/join", {"code": group.current_join_code.display})
    survey_round.closes_at = utcnow() - timedelta(minutes=1)
    survey_round.opens_at = utcnow() - timedelta(days=3)
    db_tx.flush()
    assert client.get(f"/survey/{survey_round.id}").status_code == 410

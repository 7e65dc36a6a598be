"""Answers that no longer apply, pages that show_if now hides, and pages left open too long."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from surveys import tallies
from surveys.models import Answer, AnswerTally

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture()
def child(client, post, group, survey_round):
    post("/join", {"code": group.current_join_code.display})
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    return client


def _q(survey_round, n):
    return f"/survey/{survey_round.id}/q/{n}"


def _answer(post, survey_round, n, **data):
    data.setdefault("action", "next")
    return post(_q(survey_round, n), data, page="/me")


def _stored(db_tx):
    db_tx.expire_all()
    return {a.question_key: a for a in db_tx.scalars(select(Answer))}


def _tally(db_tx, key):
    db_tx.expire_all()
    row = db_tx.scalar(select(AnswerTally).where(AnswerTally.question_key == key))
    return (row.answered, row.favourable) if row else (0, 0)


def test_follow_up_answers_are_withdrawn_when_their_gate_closes_and_come_back(
    child, post, survey_round, db_tx
):
    _answer(post, survey_round, 1, choice="yes")
    _answer(post, survey_round, 2, choice="yes")  # came alone
    _answer(post, survey_round, 3, choice="yes")  # interpreter: shown because of it
    post(f"/survey/{survey_round.id}/submit", {}, page="/me")
    assert _tally(db_tx, "interpreter") == (1, 1)
    # "Came alone" changed to no, confirmed: the follow-up is kept but no longer counted.
    post(f"{_q(survey_round, 2)}/change", {"action": "next", "choice": "no", "confirm": "yes"},
         page="/me")  # fmt: skip
    stored = _stored(db_tx)
    assert stored["interpreter"].choice == "yes" and stored["interpreter"].applies is False
    assert _tally(db_tx, "interpreter") == (0, 0)
    assert "interpreter" not in child.get(f"/survey/{survey_round.id}/q/2").get_data(as_text=True)
    # The child's own copy says so, instead of listing it as if it counted.
    mine = child.get("/me/answers").get_data(as_text=True)
    assert mine.count("Not counted: you changed an earlier answer") == 1
    # And back to yes: it counts again, once.
    post(f"{_q(survey_round, 2)}/change", {"action": "next", "choice": "yes", "confirm": "yes"},
         page="/me")  # fmt: skip
    assert _stored(db_tx)["interpreter"].applies is True
    assert _tally(db_tx, "interpreter") == (1, 1)
    assert tallies.differences(db_tx) == []


@pytest.mark.parametrize("action", ["next", "skip", "prefer_not"])
def test_posting_a_page_that_show_if_now_hides_moves_the_child_on(
    child, post, survey_round, db_tx, action
):
    _answer(post, survey_round, 1, choice="yes")
    _answer(post, survey_round, 2, choice="no")  # so question 3 is hidden
    for _ in range(2):  # and a resend
        stale = _answer(post, survey_round, 3, action=action, choice="yes")
        assert stale.status_code == 302
        assert stale.headers["Location"] == _q(survey_round, 4)
    assert "interpreter" not in _stored(db_tx)
    assert child.get(_q(survey_round, 3)).status_code == 302


def test_a_question_left_open_too_long_keeps_the_words_and_sends_next_time(
    child, survey_round, db_tx
):
    page = _q(survey_round, 4)
    words = "The teachers are kind but maths is hard"
    for token in ("expired", None):
        data = {"action": "next", "text": words}
        if token:
            data["csrf_token"] = token
        stale = child.post(page, data=data)
        assert stale.status_code == 400
        html = stale.get_data(as_text=True)
        assert words in html and "open a long time" in html
        assert "school_words" not in _stored(db_tx)
    fresh = TOKEN.search(html).group(1)
    sent = child.post(page, data={"action": "next", "text": words, "csrf_token": fresh})
    assert sent.status_code == 302
    assert _stored(db_tx)["school_words"].text == words


def test_a_lost_session_cookie_keeps_the_choice(child, survey_round, db_tx):
    page = _q(survey_round, 1)
    token = TOKEN.search(child.get(page).get_data(as_text=True)).group(1)
    child.delete_cookie("cv_session", domain="localhost")
    stale = child.post(page, data={"action": "next", "choice": "sometimes", "csrf_token": token})
    assert stale.status_code == 400
    html = stale.get_data(as_text=True)
    assert 'value="sometimes" checked' in html
    fresh = TOKEN.search(html).group(1)
    again = child.post(page, data={"action": "next", "choice": "sometimes", "csrf_token": fresh})
    assert again.status_code == 302
    assert _stored(db_tx)["feel_safe"].choice == "sometimes"

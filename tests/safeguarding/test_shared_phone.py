"""Shared phones: words that raised an alert are folded on "My cards" and "My answers".

The child sees that they went to the person who keeps children safe, and can open them
with a deliberate tap (a <details>), without JavaScript.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from challenge_cards.models import ChallengeCard
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType
from surveys.models import Answer

DISCLOSURE = "he touches me when mum is out"
HARMLESS_CARD = "More bus passes for young people in care"
SENT_NOTE = "We sent this to the person who keeps children safe."
_DETAILS = re.compile(
    r'<div class="folded-words">.*?<details>\s*<summary>(.*?)</summary>(.*?)</details>', re.S
)


@pytest.fixture()
def child(client, post, group):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    return client


def _raise_card(client, post, text):
    page = client.get("/cards/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]*)"', page)
    data = {"what_change": text, "why_matters": "", "service": ""}
    if key:
        data["submission_key"] = key.group(1)
    assert post("/cards/new", data).status_code in (302, 303)


def _outside_details(page: str) -> str:
    return _DETAILS.sub("", page)


def test_my_cards_does_not_list_the_words_that_raised_an_alert(child, post, db_tx):
    _raise_card(child, post, DISCLOSURE)
    _raise_card(child, post, HARMLESS_CARD)
    alerted, _harmless = db_tx.scalars(select(ChallengeCard).order_by(ChallengeCard.id)).all()
    alert = db_tx.scalar(select(SafeguardingAlert))
    assert (alert.subject_type, alert.subject_id) == (SubjectType.CHALLENGE_CARD, alerted.id)

    page = child.get("/cards/mine").get_data(as_text=True)
    assert DISCLOSURE not in page and "touches" not in page
    assert SENT_NOTE in page
    assert HARMLESS_CARD in page  # other cards are listed as before
    assert f'href="/cards/mine/{alerted.id}"' in page


def test_the_card_page_folds_the_words_behind_a_tap(child, post, db_tx):
    _raise_card(child, post, DISCLOSURE)
    card = db_tx.scalar(select(ChallengeCard))
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert SENT_NOTE in page
    folded = _DETAILS.search(page)
    assert folded and "Show what I wrote" in folded.group(1)
    assert DISCLOSURE in folded.group(2)  # there, for a deliberate tap
    assert "<details open" not in page
    assert DISCLOSURE not in _outside_details(page)


def test_a_card_without_an_alert_is_shown_as_before(child, post, db_tx):
    _raise_card(child, post, HARMLESS_CARD)
    card = db_tx.scalar(select(ChallengeCard))
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert HARMLESS_CARD in _outside_details(page) and SENT_NOTE not in page


def _answer(post, survey_round, text):
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    post(f"{base}/q/1", {"choice": "yes", "action": "next"}, page=f"{base}/q/1")
    post(f"{base}/q/4", {"text": text, "action": "next"}, page=f"{base}/q/4")


def test_my_answers_folds_an_answer_that_raised_an_alert(child, post, survey_round, db_tx):
    _answer(post, survey_round, DISCLOSURE)
    answer = db_tx.scalar(select(Answer).where(Answer.text.is_not(None)))
    alert = db_tx.scalar(select(SafeguardingAlert))
    assert (alert.subject_type, alert.subject_id) == (SubjectType.SURVEY_ANSWER, answer.id)
    page = child.get("/me/answers").get_data(as_text=True)
    assert SENT_NOTE in page
    folded = _DETAILS.search(page)
    assert folded and "Show my answer" in folded.group(1) and DISCLOSURE in folded.group(2)
    assert DISCLOSURE not in _outside_details(page)
    # The other answers are listed as before.
    assert "Do you feel safe where you live?" in page and "Yes" in _outside_details(page)


def test_my_answers_shows_harmless_words_as_before(child, post, survey_round):
    _answer(post, survey_round, "school is fine, maths is hard")
    page = child.get("/me/answers").get_data(as_text=True)
    assert "school is fine, maths is hard" in page and SENT_NOTE not in page


def test_another_childs_alert_folds_nothing_for_this_child(
    app, child, post, survey_round, db_tx, group
):
    from tests.conftest import post_form

    other = app.test_client()
    post_form(other, "/join", {"code": group.current_join_code.display})
    base = f"/survey/{survey_round.id}"
    post_form(other, f"{base}/start", {}, page=base)
    post_form(other, f"{base}/q/4", {"text": DISCLOSURE, "action": "next"}, page=f"{base}/q/4")
    _answer(post, survey_round, "school is fine")
    page = child.get("/me/answers").get_data(as_text=True)
    assert "school is fine" in page and SENT_NOTE not in page and DISCLOSURE not in page
    assert SENT_NOTE in other.get("/me/answers").get_data(as_text=True)


def test_going_back_to_the_question_folds_the_words_too(child, post, survey_round):
    # Back from the end page, or resuming later on a shared phone: the question page would
    # otherwise show the words in the box.
    _answer(post, survey_round, DISCLOSURE)
    page = child.get(f"/survey/{survey_round.id}/q/4").get_data(as_text=True)
    assert SENT_NOTE in page
    folded = _DETAILS.search(page)
    assert folded and DISCLOSURE in folded.group(2) and 'name="text"' in folded.group(2)
    assert DISCLOSURE not in _outside_details(page)


def test_a_harmless_answer_is_in_the_box_as_before(child, post, survey_round):
    _answer(post, survey_round, "school is fine, maths is hard")
    page = child.get(f"/survey/{survey_round.id}/q/4").get_data(as_text=True)
    assert ">school is fine, maths is hard</textarea>" in page and SENT_NOTE not in page

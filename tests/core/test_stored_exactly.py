"""Children's words in any script are stored exactly as they were written, byte for byte.

Pashto, Tigrinya, Arabic and emoji (with zero-width joiners and skin tones) go through the
phone survey and the challenge-card form and come back unchanged from the database: no
normalisation, no lost joiners, no mangled right-to-left marks. The only changes the app
makes are the ones it promises: spaces trimmed at either end, and NUL characters dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from challenge_cards.models import ChallengeCard
from surveys.models import Answer

WORDS = {
    "pashto": "زه په ښوونځي کې خوښ یم، خو ښوونکي مې نه اوري",
    "tigrinya": "ሰላም ከመይ ኣለኻ",
    "arabic": "أريد أن أرى أخي أكثر، من فضلك",
    "emoji": "👩🏽‍👩🏿‍👧🏻‍👦 🏳️‍🌈 👍🏾 🧑🏿‍🦱 ❤️‍🔥 🇬🇧",
    "mixed": "my sw ‏قال‎ ሰላም 👍🏽 ok",
    "decomposed": "cafe\u0301 and cafe\u0301\u0327",  # NFD stays NFD
    "joiners": "क्‍ष and ما\u200cمی and \u2066isolated\u2069",
}


@pytest.fixture()
def child(client, post, group):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    return client


@contextmanager
def rolled_back(db_tx: Any) -> Iterator[None]:
    savepoint = db_tx.get_bind().begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db_tx.expire_all()


def _text_position(survey_round: Any) -> int:
    return next(q.position for q in survey_round.question_set.questions if q.kind.value == "text")


def _answer(post: Any, survey_round: Any, text: str) -> Any:
    path = f"/survey/{survey_round.id}/q/{_text_position(survey_round)}"
    return post(path, {"text": text, "action": "next"}, page=path)


def _stored_answer(db_tx: Any) -> str | None:
    db_tx.expire_all()
    return db_tx.scalar(select(Answer.text).where(Answer.text.is_not(None)))


def _raise_card(post: Any, what: str, why: str) -> Any:
    return post("/cards/new", {"what_change": what, "why_matters": why, "service": ""})


@pytest.mark.parametrize("words", WORDS.values(), ids=WORDS.keys())
def test_a_survey_answer_comes_back_byte_for_byte(child, post, survey_round, db_tx, words):
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    assert _answer(post, survey_round, words).status_code == 302
    stored = _stored_answer(db_tx)
    assert stored is not None and stored.encode("utf-8") == words.encode("utf-8")
    # And the child sees exactly their words when they go back to the question.
    page = child.get(f"/survey/{survey_round.id}/q/{_text_position(survey_round)}")
    assert words in page.get_data(as_text=True)


@pytest.mark.parametrize("words", WORDS.values(), ids=WORDS.keys())
def test_a_challenge_card_comes_back_byte_for_byte(child, post, db_tx, words):
    why = words[::-1]  # the same characters in another order: still kept exactly
    assert _raise_card(post, words, why).status_code == 302
    db_tx.expire_all()
    card = db_tx.scalars(select(ChallengeCard)).one()
    assert card.what_change.encode("utf-8") == words.encode("utf-8")
    assert card.why_matters.encode("utf-8") == why.encode("utf-8")
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert words in page


# Any text a phone can send: letters of every script, marks, joiners, emoji, controls.
# Surrogates cannot travel in UTF-8 (they arrive as U+FFFD; see test_bad_input.py).
written = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=300,
)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(words=written)
def test_any_answer_is_stored_exactly_apart_from_the_trimmed_ends(
    child, post, survey_round, db_tx, words
):
    expected = words.strip()
    assume(expected)
    with rolled_back(db_tx):
        post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
        response = _answer(post, survey_round, words)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        stored = _stored_answer(db_tx)
        assert stored is not None and stored.encode("utf-8") == expected.encode("utf-8")


@SETTINGS
@given(what=written, why=written)
def test_any_card_is_stored_exactly_apart_from_the_trimmed_ends(child, post, db_tx, what, why):
    assume(what.strip())
    with rolled_back(db_tx):
        assert _raise_card(post, what, why).status_code == 302
        card = db_tx.scalars(select(ChallengeCard)).one()
        assert card.what_change.encode("utf-8") == what.strip().encode("utf-8")
        assert card.why_matters.encode("utf-8") == why.strip().encode("utf-8")


def test_nul_is_dropped_from_a_childs_words_and_nothing_else(child, post, survey_round, db_tx):
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    assert _answer(post, survey_round, "ሰላም\x00 👍🏽").status_code == 302
    assert _stored_answer(db_tx) == "ሰላም 👍🏽"
    assert _raise_card(post, "زه\x00 ښه یم", "\x00").status_code == 302
    db_tx.expire_all()
    card = db_tx.scalars(select(ChallengeCard)).one()
    assert (card.what_change, card.why_matters) == ("زه ښه یم", "")

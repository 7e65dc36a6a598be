"""Fixtures for the aggregate API: tokens, and answers and cards with some small counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from panel.api import services as api_services
from participation.accounts.models import Role
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group, join_group
from participation.db import utcnow
from participation.recommendations.services import add_tag
from participation.subjects import SubjectType
from surveys import services as surveys

SECRET_WORDS = "my foster carers son Dylan shouts at me"
PRIVATE_CARD_WORDS = "Kayleigh my carer takes my phone every night"
PUBLIC_CARD_WORDS = "Faster wifi in Oakfield House"


@pytest.fixture()
def token_for(db_tx, make_user) -> Callable[..., str]:
    """token_for(council): the text of a new token of that council, made by its admin."""

    def make(council: Any, name: str = "Power BI") -> str:
        admin = make_user(Role.ADMIN, council_id=council.id)
        _token, text = api_services.create_token(db_tx, council, name, by=admin)
        return text

    return make


@pytest.fixture()
def api_get(client) -> Callable[..., Any]:
    """api_get(path, token, **query): a GET as a BI tool sends it."""

    def get(path: str, token: str | None, **query: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get(path, headers=headers, query_string=query)

    return get


def _answer_many(db_tx, survey_round, group, choices, texts=()):
    """Children of ``group`` answer feel_safe with each of ``choices``; the first ones also
    write one of ``texts``. Returns the free-text answers."""
    question = survey_round.question_set.questions[0]
    text_question = survey_round.question_set.questions[-1]
    text_answers = []
    for number, choice in enumerate(choices):
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", choice, None), participant, 2
        )
        if number < len(texts):
            prepared = surveys.prepare_answer(text_question, "next", None, texts[number])
            answer, _alert = surveys.save_answer(db_tx, response, prepared, participant, None)
            text_answers.append(answer)
        surveys.submit(db_tx, response)
    db_tx.flush()
    return text_answers


@pytest.fixture()
def answered(db_tx, council, group, survey_round, make_user, publish):
    """What a council holds, with counts both large and small:

    - 32 children of ``group`` answered feel_safe (20 yes, 12 no); 13 wrote about school,
      one of them worrying words; the group's size is recorded as 40;
    - 3 children of "Tiny group" answered (size recorded as 6);
    - 13 free-text answers are tagged VOICE-ACTED-ON, 3 of them PEP-TARGETS;
    - 2 challenge cards: one private (about the child), one sent and overdue, tagged.
    """
    from challenge_cards.models import CardStatus, Service
    from challenge_cards.services import prepare, raise_card

    texts = [SECRET_WORDS] + [f"School is fine, lesson {n}" for n in range(12)]
    text_answers = _answer_many(db_tx, survey_round, group, ["yes"] * 20 + ["no"] * 12, texts)
    survey_round.round_groups[0].expected_size = 40
    small = create_group(
        db_tx,
        council,
        name="Tiny group",
        age_band=AgeBand.AGES_8_11,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    survey_round.round_groups.append(
        type(survey_round.round_groups[0])(
            council_id=council.id, group_id=small.id, expected_size=6
        )
    )
    _answer_many(db_tx, survey_round, small, ["yes", "yes", "no"])

    worker = make_user(Role.PARTICIPATION_WORKER)
    for number, answer in enumerate(text_answers):
        add_tag(
            db_tx,
            subject_type=SubjectType.SURVEY_ANSWER,
            subject_id=answer.id,
            code="VOICE-ACTED-ON",
            by=worker,
        )
        if number < 3:
            add_tag(
                db_tx,
                subject_type=SubjectType.SURVEY_ANSWER,
                subject_id=answer.id,
                code="PEP-TARGETS",
                by=worker,
            )

    service = Service(council_id=council.id, name="Housing")
    db_tx.add(service)
    db_tx.flush()
    child, _token = join_group(db_tx, group)
    private, _alert = raise_card(
        db_tx,
        prepare(PRIVATE_CARD_WORDS, "It is not fair"),
        group=group,
        service=service,
        about_me=True,
        participant=child,
    )
    sent, _alert = raise_card(
        db_tx,
        prepare(PUBLIC_CARD_WORDS, "For homework"),
        group=group,
        service=service,
        about_me=False,
        by=worker,
    )
    sent.public_text = "Better wifi in children's homes"
    sent.responder_id = worker.id
    sent.status = CardStatus.SENT
    sent.sent_at = utcnow() - timedelta(days=30)
    sent.due_at = utcnow() - timedelta(days=2)
    for card in (private, sent):
        add_tag(
            db_tx,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=card.id,
            code="VOICE-ACTED-ON",
            by=worker,
        )
    db_tx.flush()
    publish(council)
    return {
        "round": survey_round,
        "group": group,
        "tiny": small,
        # Words no API answer may ever contain.
        "children_words": [
            SECRET_WORDS,
            "Dylan",
            PRIVATE_CARD_WORDS,
            "Kayleigh",
            PUBLIC_CARD_WORDS,
        ],
    }

"""A child sees and deletes their own survey answers, from the phone that gave them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from panel.models import ReleasedGroup
from panel.release import counts_of, make_release
from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.db import utcnow
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.recommendations.services import decide_tag
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType
from surveys import tallies
from surveys.models import Answer, Response

DISCLOSURE = "my pep meeting never happens and he hits me at home"


@pytest.fixture()
def child(client, post, group):
    """A child who joined the group on this phone."""
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    return client


def _answer_all(post, survey_round, text=DISCLOSURE):
    """Start, answer the choice questions and the free text, and send."""
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    for position, data in [
        (1, {"choice": "yes"}),
        (2, {"action": "skip"}),
        (4, {"text": text}),
    ]:
        data.setdefault("action", "next")
        post(f"{base}/q/{position}", data, page=f"{base}/q/{position}")
    post(f"{base}/submit", {}, page=f"{base}/end")


def _counts(db_tx):
    db_tx.expire_all()
    return {
        "responses": db_tx.scalar(select(func.count()).select_from(Response)),
        "answers": db_tx.scalar(select(func.count()).select_from(Answer)),
        "tags": db_tx.scalar(
            select(func.count())
            .select_from(EvidenceTag)
            .where(EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER)
        ),
        "alerts": db_tx.scalar(select(func.count()).select_from(SafeguardingAlert)),
    }


def _delete_page(survey_round):
    return f"/me/answers/{survey_round.id}/delete"


def test_the_child_sees_their_answers_in_plain_words(child, post, survey_round):
    _answer_all(post, survey_round, text="ሰላም, school is ok 👍🏽")
    home = child.get("/me").get_data(as_text=True)
    assert "/me/answers" in home
    page = child.get("/me/answers").get_data(as_text=True)
    assert "Your answers" in page and "Test survey" in page
    assert "Do you feel safe where you live?" in page and "Yes" in page
    assert "You skipped this." in page
    assert "ሰላም, school is ok 👍🏽" in page
    assert "You sent these answers." in page
    assert f'href="{_delete_page(survey_round)}"' in page


def test_a_child_with_no_answers_is_told_so(child):
    page = child.get("/me/answers").get_data(as_text=True)
    assert "You have not answered a survey on this phone." in page


def test_deleting_asks_first_on_a_page_that_works_without_javascript(
    child, post, survey_round, db_tx
):
    _answer_all(post, survey_round)
    before = _counts(db_tx)
    page = child.get(_delete_page(survey_round)).get_data(as_text=True)
    assert "Delete your answers?" in page and "You cannot get them back." in page
    assert f'<form method="post" action="{_delete_page(survey_round)}">' in page
    assert 'name="csrf_token"' in page and "No, keep them" in page
    assert "keeps a copy of what you wrote" in page  # the safeguarding copy, said kindly
    assert _counts(db_tx) == before  # looking at the question deletes nothing


def test_a_delete_without_the_forms_token_is_refused(child, post, survey_round, db_tx):
    _answer_all(post, survey_round)
    before = _counts(db_tx)
    assert child.post(_delete_page(survey_round)).status_code == 400
    assert _counts(db_tx) == before


def test_deleting_removes_the_response_answers_and_tags_but_keeps_the_alert(
    child, post, survey_round, db_tx
):
    _answer_all(post, survey_round)
    before = _counts(db_tx)
    assert before["responses"] == 1 and before["answers"] == 3
    assert before["tags"] >= 1 and before["alerts"] == 1
    alert = db_tx.scalar(select(SafeguardingAlert))
    response = post(_delete_page(survey_round), {}, page=_delete_page(survey_round))
    assert response.status_code == 302 and response.headers["Location"] == "/me/answers"
    assert _counts(db_tx) == {"responses": 0, "answers": 0, "tags": 0, "alerts": 1}
    db_tx.expire_all()
    kept = db_tx.get(SafeguardingAlert, alert.id)
    assert kept.text == DISCLOSURE and kept.participant_id == alert.participant_id
    page = child.get("/me/answers").get_data(as_text=True)
    assert "Your answers are deleted." in page
    assert "You have not answered a survey on this phone." in page


def test_the_deletion_is_audited_without_the_childs_words(child, post, survey_round, db_tx):
    _answer_all(post, survey_round)
    post(_delete_page(survey_round), {}, page=_delete_page(survey_round))
    event = db_tx.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.SURVEY_RESPONSE_DELETED)
    )
    assert event is not None and event.actor_id is None
    assert event.council_id == survey_round.council_id and event.target_type == "survey_response"
    assert event.detail == {"round_id": survey_round.id, "answers": 3, "alerts_kept": 1}
    assert "hits" not in str(event.detail)


def test_another_childs_answers_are_not_found(app, child, post, post_as, survey_round, db_tx):
    _answer_all(post, survey_round)
    before = _counts(db_tx)
    other = app.test_client()
    code = survey_round.round_groups[0].group.current_join_code.display
    post_as(other, "/join", {"code": code})
    assert other.get(_delete_page(survey_round)).status_code == 404
    token_page = "/me/answers"
    assert post_as(other, _delete_page(survey_round), {}, page=token_page).status_code == 404
    assert _counts(db_tx) == before
    assert "You have not answered a survey" in other.get("/me/answers").get_data(as_text=True)


def test_a_round_of_another_group_is_not_found(child, post, db_tx):
    assert child.get("/me/answers/999999/delete").status_code == 404
    assert post("/me/answers/999999/delete", {}, page="/me/answers").status_code == 404


def test_the_dashboards_count_the_answers_no_more(
    child, post, survey_round, db_tx, make_user, council
):
    _answer_all(post, survey_round)
    worker = make_user(Role.PARTICIPATION_WORKER)
    for tag in db_tx.scalars(select(EvidenceTag).where(EvidenceTag.status == TagStatus.PENDING)):
        decide_tag(db_tx, tag, True, worker)
    db_tx.flush()

    def totals():
        # Published figures change in releases: the command after an erasure makes one.
        release = make_release(
            db_tx, council.id, utcnow(), threshold=10, min_new=10, reason="test", force=True
        )
        db_tx.flush()
        db_tx.expire_all()
        counts = counts_of(db_tx, release.id)
        indicators = {}
        for (_round, _group, key), (answered, _favourable) in counts.items():
            if answered:
                indicators[key] = indicators.get(key, 0) + answered
        evidence = release.fixed["evidence"].values()
        text_tags = sum(row["text_tags_true"] for row in evidence)
        sent = sum(
            db_tx.scalars(select(ReleasedGroup.sent).where(ReleasedGroup.release_id == release.id))
        )
        return indicators, text_tags, sent

    indicators, text_tags, sent = totals()
    assert indicators == {"feel_safe": 1} and text_tags >= 1 and sent == 1
    post(_delete_page(survey_round), {}, page=_delete_page(survey_round))
    assert totals() == ({}, 0, 0)
    assert tallies.differences(db_tx) == []


def test_the_child_can_answer_again_while_the_round_is_open(child, post, survey_round, db_tx):
    _answer_all(post, survey_round, text="first words")
    post(_delete_page(survey_round), {}, page=_delete_page(survey_round))
    home = child.get("/me").get_data(as_text=True)
    assert "Start" in home
    _answer_all(post, survey_round, text="second words")
    db_tx.expire_all()
    assert db_tx.scalar(select(Answer.text).where(Answer.text.is_not(None))) == "second words"


def test_answers_to_a_closed_round_can_still_be_deleted(child, post, survey_round, db_tx):
    _answer_all(post, survey_round)
    survey_round.opens_at = utcnow() - timedelta(days=60)
    survey_round.closes_at = utcnow() - timedelta(days=30)
    db_tx.flush()
    page = child.get(_delete_page(survey_round)).get_data(as_text=True)
    assert "still open" not in page
    assert post(_delete_page(survey_round), {}, page=_delete_page(survey_round)).status_code == 302
    assert _counts(db_tx)["responses"] == 0


def test_a_staff_member_cannot_use_the_childs_page(client, login_as, survey_round):
    login_as(Role.ADMIN)
    response = client.get("/me/answers")
    assert response.status_code == 302 and "/join" in response.headers["Location"]

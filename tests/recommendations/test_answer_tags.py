"""Workers confirm recommendation tags on children's free-text survey answers."""

from __future__ import annotations

from sqlalchemy import select

from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.councils.services import join_group
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.subjects import SubjectType
from surveys import services as surveys

WORDS = "I never get asked what I think at my PEP meeting"


def _free_text(db_tx, survey_round, group, text=WORDS):
    question = next(q for q in survey_round.question_set.questions if q.kind.value == "text")
    participant, _token = join_group(db_tx, group)
    response = surveys.start_response(db_tx, survey_round, participant, "en")
    answer, _alert = surveys.save_answer(
        db_tx, response, surveys.prepare_answer(question, "next", None, text), participant, None
    )
    db_tx.flush()
    return answer


def test_a_worker_confirms_a_suggested_tag_and_it_counts_as_evidence(
    client, login_as, post, survey_round, group, db_tx
):
    answer = _free_text(db_tx, survey_round, group)
    pending = db_tx.scalars(
        select(EvidenceTag).where(
            EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
            EvidenceTag.subject_id == answer.id,
        )
    ).all()
    assert pending and all(t.status is TagStatus.PENDING for t in pending)
    login_as(Role.PARTICIPATION_WORKER)
    page = client.get("/staff/evidence/answers").get_data(as_text=True)
    assert WORDS in page
    viewed = db_tx.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.FREE_TEXT_VIEWED)
    ).all()
    assert any(e.target_type == "survey_answer" and e.target_id == answer.id for e in viewed)
    tag = pending[0]
    response = post(
        f"/staff/evidence/answers/{answer.id}/tags",
        {f"tag-{tag.id}": "confirm", "add_code": "VOICE-ACTED-ON"},
        page="/staff/evidence/answers",
    )
    assert response.status_code == 302
    db_tx.expire_all()
    assert db_tx.get(EvidenceTag, tag.id).status is TagStatus.CONFIRMED
    codes = {
        t.recommendation.code
        for t in db_tx.scalars(
            select(EvidenceTag).where(
                EvidenceTag.subject_id == answer.id, EvidenceTag.status == TagStatus.CONFIRMED
            )
        )
    }
    assert "VOICE-ACTED-ON" in codes
    # Decided: no longer waiting, but still listed under "all".
    assert WORDS not in client.get("/staff/evidence/answers").get_data(as_text=True)
    assert WORDS in client.get("/staff/evidence/answers?show=all").get_data(as_text=True)


def test_a_bad_code_is_refused_with_a_message(client, login_as, post, survey_round, group, db_tx):
    answer = _free_text(db_tx, survey_round, group)
    login_as(Role.PARTICIPATION_WORKER)
    response = post(
        f"/staff/evidence/answers/{answer.id}/tags",
        {"add_code": "NOT-A-CODE"},
        page="/staff/evidence/answers",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "There is no recommendation with that code." in page


def test_panel_members_and_other_councils_cannot_see_the_answers(
    client, login_as, csrf, survey_round, group, db_tx, other_council
):
    answer = _free_text(db_tx, survey_round, group)
    login_as(Role.PANEL_MEMBER)
    assert client.get("/staff/evidence/answers").status_code == 403
    login_as(Role.PARTICIPATION_WORKER, council_id=other_council.id)
    page = client.get("/staff/evidence/answers?show=all").get_data(as_text=True)
    assert WORDS not in page
    response = client.post(
        f"/staff/evidence/answers/{answer.id}/tags",
        data={"csrf_token": csrf("/staff"), "add_code": "VOICE-ACTED-ON"},
    )
    assert response.status_code == 404

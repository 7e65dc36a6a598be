"""Suggestions are stored as pending; workers confirm, reject or add; who and when is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.recommendations import services
from participation.recommendations.models import TagSource, TagStatus
from participation.subjects import SubjectType

TEXT = "my sw keeps changing, i had 5 social workers this year and i missed maths for my review"
SUBJECT = {"subject_type": SubjectType.CHALLENGE_CARD, "subject_id": 41}


def _suggest(db_tx, council, text=TEXT):
    return services.suggest_tags(db_tx, council_id=council.id, text=text, **SUBJECT)


def test_suggestions_are_stored_as_pending_with_their_evidence(db_tx, council):
    tags = _suggest(db_tx, council)
    codes = {t.recommendation.code for t in tags}
    assert {"WORKER-STABILITY", "LESSON-TIME-MEETINGS"} <= codes
    for tag in tags:
        assert tag.status is TagStatus.PENDING and tag.source is TagSource.MATCHER
        assert tag.evidence and 0 < tag.score <= 1
        assert tag.decided_at is None and tag.decided_by_id is None


def test_suggesting_again_adds_no_duplicates(db_tx, council):
    first = _suggest(db_tx, council)
    assert first and _suggest(db_tx, council) == []


def test_text_about_nothing_in_the_catalogue_gets_no_tags(db_tx, council):
    assert _suggest(db_tx, council, "i like my dog and pizza on fridays") == []


def test_confirm_and_reject_keep_who_and_when(db_tx, council, make_user):
    worker = make_user(Role.PARTICIPATION_WORKER)
    first, second, *_ = _suggest(db_tx, council)
    services.decide_tag(db_tx, first, True, by=worker)
    services.decide_tag(db_tx, second, False, by=worker)
    assert first.status is TagStatus.CONFIRMED and second.status is TagStatus.REJECTED
    assert first.decided_by_id == second.decided_by_id == worker.id
    assert first.decided_at is not None
    actions = list(db_tx.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == worker.id)))
    assert actions == [AuditAction.TAG_CONFIRMED, AuditAction.TAG_REJECTED]


def test_a_worker_adds_a_missed_tag_which_counts_at_once(db_tx, council, make_user):
    worker = make_user(Role.PARTICIPATION_WORKER)
    tag = services.add_tag(db_tx, code="SURVEY-BURDEN", by=worker, **SUBJECT)
    assert tag.status is TagStatus.CONFIRMED and tag.source is TagSource.WORKER
    with pytest.raises(services.TaggingError):
        services.add_tag(db_tx, code="NOT-A-CODE", by=worker, **SUBJECT)


def test_a_worker_of_another_council_cannot_decide(db_tx, council, other_council, make_user):
    stranger = make_user(Role.PARTICIPATION_WORKER, council_id=other_council.id)
    tag = _suggest(db_tx, council)[0]
    with pytest.raises(services.TaggingError):
        services.decide_tag(db_tx, tag, True, by=stranger)
    assert services.tags_for(db_tx, council_id=other_council.id, **SUBJECT) == []


def test_the_database_refuses_a_decided_tag_without_a_date(db_tx, council):
    from sqlalchemy.exc import IntegrityError

    tag = _suggest(db_tx, council)[0]
    with pytest.raises(IntegrityError), db_tx.begin_nested():
        tag.status = TagStatus.CONFIRMED
        db_tx.flush()

"""`flask retention purge`: old rounds go, open safeguarding records are exported first."""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.audit import AuditAction, AuditEvent
from participation.councils import services as councils
from participation.db import utcnow
from participation.recommendations.models import EvidenceTag
from participation.safeguarding import services as safeguarding
from participation.safeguarding.models import AlertStatus, SafeguardingAlert
from participation.subjects import SubjectType
from surveys import services, tallies
from surveys.models import Answer, AnswerTally, Response, RoundGroup, SurveyRound

OPEN_WORDS = "he hits me at home and my pep meeting never happens"
CLOSED_WORDS = "i go to bed hungry most nights"


def _round(db_tx, council, group, question_set, name, closed_days_ago):
    return services.open_round(
        db_tx,
        council,
        name=name,
        question_set=question_set,
        groups=[group],
        opens_at=utcnow() - timedelta(days=closed_days_ago + 30),
        closes_at=utcnow() - timedelta(days=closed_days_ago),
    )


def _answers(db_tx, survey_round, group, text):
    """One child's answers: a choice and some free text (which may raise an alert)."""
    child, _token = councils.join_group(db_tx, group)
    response = services.start_response(db_tx, survey_round, child, "en")
    questions = {q.key: q for q in survey_round.question_set.questions}
    services.save_answer(
        db_tx,
        response,
        services.prepare_answer(questions["feel_safe"], "next", "no", None),
        child,
        None,
    )
    _answer, alert = services.save_answer(
        db_tx,
        response,
        services.prepare_answer(questions["school_words"], "next", None, text),
        child,
        None,
    )
    services.submit(db_tx, response)
    return alert


@pytest.fixture()
def rounds(db_tx, council, group, question_set, make_user):
    """A round closed 400 days ago (an open and a closed alert), and one closed 10 days ago."""
    old = _round(db_tx, council, group, question_set, "Survey 2025", 400)
    recent = _round(db_tx, council, group, question_set, "Survey 2026", 10)
    lead = make_user(Role.SAFEGUARDING_LEAD)
    open_alert = _answers(db_tx, old, group, OPEN_WORDS)
    safeguarding.record_action(db_tx, open_alert, "Rang the social worker", lead)
    closed_alert = _answers(db_tx, old, group, CLOSED_WORDS)
    safeguarding.record_action(db_tx, closed_alert, "Spoke to the carer", lead)
    safeguarding.close(db_tx, closed_alert, "Food plan in place", lead)
    recent_alert = _answers(db_tx, recent, group, "he hits me")
    db_tx.flush()
    assert open_alert and closed_alert and recent_alert
    return {"old": old, "recent": recent, "open": open_alert, "closed": closed_alert,
            "recent_alert": recent_alert}  # fmt: skip


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["retention", "purge", *args])


def _count(db_tx, model, *where):
    db_tx.expire_all()
    return db_tx.scalar(select(func.count()).select_from(model).where(*where))


def _answer_ids(db_tx, round_id):
    return list(
        db_tx.scalars(
            select(Answer.id)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.round_id == round_id)
        )
    )


def test_old_rounds_are_purged_after_their_open_alerts_are_exported(app, db_tx, rounds, tmp_path):
    old, recent = rounds["old"], rounds["recent"]
    old_id, old_answers = old.id, _answer_ids(db_tx, old.id)
    assert _count(db_tx, EvidenceTag, EvidenceTag.subject_id.in_(old_answers)) >= 1
    result = _run(app, "--older-than-days", "365", "--export-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Purged 1 rounds: 2 responses, 4 answers" in result.output

    # The old round and everything children gave in it are gone.
    assert _count(db_tx, SurveyRound, SurveyRound.id == old_id) == 0
    assert _count(db_tx, Response, Response.round_id == old_id) == 0
    assert _count(db_tx, Answer, Answer.id.in_(old_answers)) == 0
    assert _count(db_tx, RoundGroup, RoundGroup.round_id == old_id) == 0
    assert _count(db_tx, AnswerTally, AnswerTally.round_id == old_id) == 0
    assert (
        _count(
            db_tx,
            EvidenceTag,
            EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
            EvidenceTag.subject_id.in_(old_answers),
        )
        == 0
    )
    assert tallies.differences(db_tx) == []
    # The recent round is untouched; every alert is kept, open or closed.
    assert _count(db_tx, Response, Response.round_id == recent.id) == 1
    assert _count(db_tx, SafeguardingAlert) == 3
    kept = db_tx.get(SafeguardingAlert, rounds["open"].id)
    assert kept.status is AlertStatus.ACKNOWLEDGED and kept.text == OPEN_WORDS

    # The export holds the open alert, its actions and where the words were given.
    (export,) = tmp_path.glob("safeguarding-export-*.json")
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    document = json.loads(export.read_text(encoding="utf-8"))
    assert [r["id"] for r in document["rounds"]] == [old_id]
    (alert,) = document["alerts"]
    assert alert["id"] == rounds["open"].id and alert["text"] == OPEN_WORDS
    assert [a["note"] for a in alert["actions"]] == ["Rang the social worker"]
    assert alert["given_in"]["round_name"] == "Survey 2025"
    assert alert["given_in"]["question_key"] == "school_words"
    assert CLOSED_WORDS not in export.read_text(encoding="utf-8")


def test_the_purge_is_audited_with_counts_and_no_words(app, db_tx, rounds, tmp_path):
    old_id = rounds["old"].id
    _run(app, "--older-than-days", "365", "--export-dir", str(tmp_path))
    event = db_tx.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.ROUND_PURGED))
    assert event.target_type == "survey_round" and event.target_id == old_id
    assert event.council_id == rounds["recent"].council_id and event.actor_id is None
    detail = event.detail
    assert (detail["responses"], detail["answers"], detail["alerts_kept"]) == (2, 4, 2)
    assert detail["open_alerts_exported"] == 1 and detail["name"] == "Survey 2025"
    assert detail["export_file"].startswith("safeguarding-export-")
    assert "hits" not in json.dumps(detail) and "hungry" not in json.dumps(detail)


def test_a_dry_run_changes_nothing(app, db_tx, rounds, tmp_path):
    before = (_count(db_tx, SurveyRound), _count(db_tx, Answer), _count(db_tx, AuditEvent))
    result = _run(app, "--older-than-days", "365", "--export-dir", str(tmp_path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Survey 2025" in result.output and "Survey 2026" not in result.output
    assert "Open safeguarding alerts raised from their answers: 1" in result.output
    assert "Dry run: nothing was exported or deleted." in result.output
    assert (_count(db_tx, SurveyRound), _count(db_tx, Answer), _count(db_tx, AuditEvent)) == before
    assert list(tmp_path.iterdir()) == []


def test_nothing_is_purged_when_the_export_cannot_be_written(app, db_tx, rounds, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the export directory should be")
    before = (_count(db_tx, SurveyRound), _count(db_tx, Answer), _count(db_tx, EvidenceTag))
    result = _run(app, "--older-than-days", "365", "--export-dir", str(blocker / "exports"))
    assert result.exit_code == 1
    assert "Could not write the safeguarding export" in result.output
    assert "Nothing was purged." in result.output
    assert (_count(db_tx, SurveyRound), _count(db_tx, Answer), _count(db_tx, EvidenceTag)) == before
    assert _count(db_tx, AuditEvent, AuditEvent.action == AuditAction.ROUND_PURGED) == 0


def test_an_export_is_never_overwritten(app, db_tx, rounds, tmp_path):
    from surveys import retention

    plan = retention.plan_purge(db_tx, 365)
    first = retention.write_export(plan, tmp_path)
    second = retention.write_export(plan, tmp_path)
    assert first != second and first.exists() and second.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_nothing_old_enough_means_nothing_purged(app, db_tx, rounds, tmp_path):
    result = _run(app, "--older-than-days", "1000", "--export-dir", str(tmp_path))
    assert result.exit_code == 0 and "Nothing to purge." in result.output
    assert _count(db_tx, SurveyRound) == 2 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("days", ["0", "-5", "soon", ""])
def test_the_retention_period_must_be_a_positive_number_of_days(app, db_tx, rounds, days):
    result = _run(app, "--older-than-days", days)
    assert result.exit_code == 2
    assert _count(db_tx, SurveyRound) == 2


def test_the_export_goes_to_the_instance_folder_by_default(
    app, db_tx, rounds, monkeypatch, tmp_path
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = _run(app, "--older-than-days", "365")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "retention-exports").glob("*.json"))) == 1
    assert stat.S_IMODE((tmp_path / "retention-exports").stat().st_mode) == 0o700

"""Question set versions, and staff opening rounds (page and command line)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import select

from participation.accounts.models import Role
from participation.db import utcnow
from surveys.models import QuestionSet, SurveyRound
from surveys.question_sets import QuestionSetError, load_question_set, read_question_set

DATA = Path(__file__).resolve().parents[1] / "data" / "question_set_test.yaml"


def test_same_content_is_the_same_version_and_a_change_makes_a_new_one(db_tx):
    data = read_question_set(DATA)
    first, new = load_question_set(db_tx, data)
    again, new_again = load_question_set(db_tx, copy.deepcopy(data))
    assert new and not new_again and again.id == first.id and first.version == 1
    changed = copy.deepcopy(data)
    changed["questions"][0]["text"]["en"] = "Do you feel safe and settled where you live?"
    second, new_second = load_question_set(db_tx, changed)
    assert new_second and second.version == 2 and second.id != first.id
    # The first version is untouched: responses that answered it keep what they saw.
    db_tx.refresh(first)
    assert first.questions[0].text["en"] == "Do you feel safe where you live?"
    assert [q.key for q in first.questions] == [q.key for q in second.questions]


def test_a_response_keeps_the_version_it_answered(client, post, db_tx, survey_round, group):
    from surveys.models import Response

    post("/join", {"code": group.current_join_code.display})
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    response = db_tx.scalar(select(Response))
    assert response.question_set_id == survey_round.question_set_id


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d["questions"][1].update(key=d["questions"][0]["key"]), "repeated question key"),
        (lambda d: d["questions"][0].update(favourable=["never"]), "favourable"),
        (
            lambda d: d["questions"][2].update(show_if={"question": "school_words", "in": ["x"]}),
            "show_if",
        ),
        (lambda d: d["languages"].remove("en"), "English"),
    ],
)
def test_broken_question_sets_are_refused_with_a_reason(tmp_path, breakage, message):
    import yaml

    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    breakage(data)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuestionSetError, match=message):
        read_question_set(broken)


def test_a_worker_opens_a_round_and_sees_the_link_and_qr_code(
    client, post, login_as, db_tx, group, question_set
):
    login_as(Role.PARTICIPATION_WORKER)
    page = client.get("/staff/rounds/new").get_data(as_text=True)
    assert "Test survey (v1)" in page and group.name in page
    response = post(
        "/staff/rounds/new",
        {
            "name": "Annual survey 2026",
            "question_set": str(question_set.id),
            "groups": [str(group.id)],
            "opens_on": "2026-11-23",
            "closes_on": "2027-01-10",
        },
    )
    assert response.status_code == 302
    created = db_tx.scalar(select(SurveyRound))
    assert created.name == "Annual survey 2026"
    assert created.opens_at.isoformat() == "2026-11-23T00:00:00+00:00"
    assert created.closes_at.isoformat() == "2027-01-11T00:00:00+00:00"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert group.current_join_code.display in detail
    assert f"/j/{group.current_join_code.code}" in detail and 'src="data:image/svg+xml' in detail


def test_closing_before_opening_is_refused(client, post, login_as, group, question_set):
    login_as(Role.PARTICIPATION_WORKER)
    response = post(
        "/staff/rounds/new",
        {"name": "Back to front", "question_set": str(question_set.id), "groups": [str(group.id)],
         "opens_on": "2026-12-01", "closes_on": "2026-11-01"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "closing date must be after the opening date" in response.get_data(as_text=True)


def test_rounds_open_on_the_command_line(app, db_tx, council, group, question_set):
    result = app.test_cli_runner().invoke(
        args=[
            *("rounds", "open", "--council", "test", "--question-set", "test-set"),
            *("--group", group.name, "--name", "CLI round"),
            *("--opens", "2026-11-23", "--closes", "2026-12-31"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert group.current_join_code.display in result.output
    created = db_tx.scalar(select(SurveyRound).where(SurveyRound.name == "CLI round"))
    assert created.closes_at.isoformat() == "2027-01-01T00:00:00+00:00"


def test_another_councils_round_is_not_found(client, login_as, survey_round, other_council):
    login_as(Role.PARTICIPATION_WORKER, council_id=other_council.id)
    assert client.get(f"/staff/rounds/{survey_round.id}").status_code == 404


def test_latest_versions_lists_each_set_once(db_tx, question_set):
    from surveys.question_sets import latest_versions

    assert [s.key for s in latest_versions(db_tx)].count("test-set") == 1
    assert isinstance(latest_versions(db_tx)[0], QuestionSet)


def test_a_worker_records_group_sizes_for_response_rates(
    client, post, login_as, survey_round, db_tx
):
    login_as(Role.PARTICIPATION_WORKER)
    round_group = survey_round.round_groups[0]
    page = f"/staff/rounds/{survey_round.id}"
    post(f"{page}/sizes", {f"size-{round_group.id}": "24"}, page=page)
    db_tx.expire_all()
    assert round_group.expected_size == 24
    refused = post(f"{page}/sizes", {f"size-{round_group.id}": "lots"}, page=page)
    assert "Enter a whole number" in client.get(refused.headers["Location"]).get_data(as_text=True)
    db_tx.expire_all()
    assert round_group.expected_size == 24


def _new_round(post, question_set, group, **extra):
    data = {
        "name": "Banded",
        "question_set": str(question_set.id),
        "groups": [str(group.id)],
        "opens_on": "2026-11-23",
        "closes_on": "2027-01-10",
        **extra,
    }
    return post("/staff/rounds/new", data)


def test_a_set_for_another_age_band_is_refused_unless_meant_and_recorded(
    client, post, login_as, db_tx, council, question_set
):
    from participation.audit import AuditAction, AuditEvent
    from participation.councils.models import AgeBand, GroupKind
    from participation.councils.services import create_group

    little = create_group(
        db_tx, council, name="Little voices", age_band=AgeBand.AGES_4_7,
        kind=GroupKind.CHILDREN_IN_CARE, recorded_size=1000)  # fmt: skip
    login_as(Role.PARTICIPATION_WORKER)
    refused = _new_round(post, question_set, little)  # the test set is for ages 8 to 11
    assert refused.status_code == 422
    assert "Little voices is Ages 4 to 7" in refused.get_data(as_text=True)
    assert db_tx.scalar(select(SurveyRound)) is None
    meant = _new_round(post, question_set, little, override_age_band="y")
    assert meant.status_code == 302
    created = db_tx.scalar(select(SurveyRound))
    assert created.round_groups[0].age_band_override is True
    event = db_tx.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.ROUND_AGE_BAND_OVERRIDDEN)
    )
    assert event.detail == {"question_set_band": "8-11", "groups": {str(little.id): "4-7"}}


def test_a_worker_changes_the_dates_and_closes_a_round_early(
    client, post, login_as, survey_round, db_tx
):
    from participation.audit import AuditAction, AuditEvent

    login_as(Role.PARTICIPATION_WORKER)
    page = f"/staff/rounds/{survey_round.id}"
    moved = post(f"{page}/dates", {"opens_on": "2026-11-01", "closes_on": "2027-02-28"}, page=page)
    assert moved.status_code == 302
    db_tx.expire_all()
    assert survey_round.closes_at.isoformat() == "2027-03-01T00:00:00+00:00"
    backwards = post(
        f"{page}/dates", {"opens_on": "2027-03-01", "closes_on": "2027-02-01"}, page=page
    )
    assert backwards.status_code == 422
    assert "closing date must be after" in backwards.get_data(as_text=True)
    closed = post(f"{page}/close", {}, page=page)
    assert closed.status_code == 302
    db_tx.expire_all()
    assert not survey_round.is_open(utcnow())
    assert "Close this round now" not in client.get(page).get_data(as_text=True)
    kinds = [
        e.detail["change"]
        for e in db_tx.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ROUND_CHANGED)
        )
    ]
    assert kinds == ["dates", "closed_early"]


def test_a_group_size_below_the_number_sent_is_refused(
    app, client, post, login_as, survey_round, group, db_tx
):
    from tests.conftest import post_form

    base = f"/survey/{survey_round.id}"
    for _ in range(3):
        phone = app.test_client()
        post_form(phone, "/join", {"code": group.current_join_code.display})
        post_form(phone, f"{base}/start", {}, page=base)
        post_form(phone, f"{base}/submit", {}, page="/me")
    login_as(Role.PARTICIPATION_WORKER)
    round_group = survey_round.round_groups[0]
    page = f"/staff/rounds/{survey_round.id}"
    refused = post(f"{page}/sizes", {f"size-{round_group.id}": "2"}, page=page)
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "has already sent 3 answers" in shown
    db_tx.expire_all()
    assert round_group.expected_size is None
    post(f"{page}/sizes", {f"size-{round_group.id}": "3"}, page=page)
    db_tx.expire_all()
    assert round_group.expected_size == 3 and group.recorded_size == 3

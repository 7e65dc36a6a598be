"""The panel pack: a printable page, and PDF/XLSX/CSV files made by a background job."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from panel.dashboards import exports, report
from panel.dashboards.queries import Filters
from participation.accounts.models import Role
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group
from participation.db import utcnow
from participation.jobs import BackgroundJob, JobStatus

from .test_panel import SECRET_WORDS, _answer_many


@pytest.fixture()
def answered(db_tx, council, group, survey_round, publish):
    """32 children of one group answered, 3 of a tiny group; one wrote worrying words."""
    _answer_many(db_tx, survey_round, group, ["yes"] * 20 + ["no"] * 11)
    _answer_many(db_tx, survey_round, group, ["no"], text=SECRET_WORDS)
    tiny = create_group(
        db_tx,
        council,
        name='=HYPERLINK("http://x")',
        age_band=AgeBand.AGES_8_11,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    survey_round.round_groups.append(
        type(survey_round.round_groups[0])(council_id=council.id, group_id=tiny.id, expected_size=6)
    )
    _answer_many(db_tx, survey_round, tiny, ["yes", "yes", "no"])
    survey_round.name = "=SUM(1+1)"  # a name a spreadsheet would run as a formula
    db_tx.flush()
    publish(council)
    return survey_round


def _request(client, post, fmt, **filters):
    response = post("/panel/pack/exports", {"format": fmt, **filters}, page="/panel/pack")
    assert response.status_code == 302 and response.headers["Location"].endswith("/panel/exports")


def _work(app):
    result = app.test_cli_runner().invoke(args=["jobs", "work"])
    assert result.exit_code == 0, result.output
    return result.output


def _download(client, db_tx, fmt):
    job = db_tx.scalar(
        select(BackgroundJob)
        .where(BackgroundJob.params["format"].as_string() == fmt)
        .order_by(BackgroundJob.id.desc())
    )
    db_tx.refresh(job)
    assert job.status is JobStatus.DONE, job.error
    response = client.get(f"/panel/exports/{job.id}")
    assert response.status_code == 200
    return response


def test_the_pack_page_prints_every_table_with_small_numbers_hidden(client, login_as, answered):
    login_as(Role.PANEL_MEMBER)
    page = client.get("/panel/pack").get_data(as_text=True)
    for heading in ("Survey indicators", "Challenge cards", "Evidence by Ofsted", "Response rates"):
        assert heading in page
    assert "plotly" not in page  # the charts are drawn by the server, ready to print
    assert 'class="bar"' in page and 'fill="#0072B2"' in page
    assert SECRET_WORDS not in page and "Dylan" not in page
    for value in re.findall(r'class="count">([^<]*)<', page):
        assert value in ("*", "not recorded") or float(value) >= 10, value


def test_a_pack_is_made_in_the_background_not_in_the_request(
    app, client, login_as, post, answered, db_tx
):
    login_as(Role.PANEL_MEMBER)
    _request(client, post, "csv", round=answered.id)
    job = db_tx.scalar(select(BackgroundJob))
    assert job.status is JobStatus.QUEUED and job.params["filters"] == {"round": str(answered.id)}
    waiting = client.get("/panel/exports").get_data(as_text=True)
    assert "Being made" in waiting and "still being made" in waiting
    assert client.get(f"/panel/exports/{job.id}").status_code == 404  # not ready yet
    assert "done" in _work(app)
    listing = client.get("/panel/exports").get_data(as_text=True)
    assert f"/panel/exports/{job.id}" in listing


def test_csv_holds_the_suppressed_aggregates_with_formulas_neutralised(
    app, client, login_as, post, answered, db_tx
):
    login_as(Role.PANEL_MEMBER)
    _request(client, post, "csv")
    _work(app)
    response = _download(client, db_tx, "csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert {r["table"] for r in rows} == {"indicators", "cards", "evidence", "response_rates"}
    safe = {r["measure"]: r["value"] for r in rows if r["row"].startswith("feel_safe")}
    # 35 answers in all: 22 "yes" (62.9%, shown as 63 as on the pages); the row is named
    # by key and question.
    assert safe == {"answers": "35", "percent_favourable": "63"}
    assert any(r["row"] == "feel_safe / Do you feel safe where you live?" for r in rows)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), row
    tiny = [r for r in rows if "HYPERLINK" in r["row"]]
    assert tiny and all(r["row"].startswith("'=SUM(1+1) / ") for r in tiny)
    assert {r["value"] for r in tiny if r["measure"] in {"responses", "group_size"}} == {"*"}
    _assert_no_small_count(rows)
    assert SECRET_WORDS.encode() not in response.data


def _assert_no_small_count(rows):
    counts = {
        "answers",
        "cards",
        "survey_answers",
        "confirmed_free_text_tags",
        "cards_raised",
        "cards_answered",
        "cards_changed",
        "responses",
        "group_size",
    }
    for row in rows:
        if row["measure"] in counts and row["value"] not in ("*", "not recorded"):
            assert float(row["value"]) == 0 or float(row["value"]) >= 10, row


def test_xlsx_has_a_sheet_per_table_and_no_formula_cells(
    app, client, login_as, post, answered, db_tx
):
    login_as(Role.PANEL_MEMBER)
    _request(client, post, "xlsx")
    _work(app)
    response = _download(client, db_tx, "xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["About", "indicators", "cards", "evidence", "response_rates"]
    rows = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
        if sheet.title != "About":
            values = list(sheet.values)
            header = values[0]
            label = 2 if sheet.title != "cards" else 1
            for line in values[1:]:
                for measure, value in zip(header[label:], line[label:], strict=True):
                    rows.append({"measure": measure, "value": str(value)})
    _assert_no_small_count(rows)
    indicators = list(book["indicators"].values)
    assert ("feel_safe", "Do you feel safe where you live?", 35, 63) in indicators


def test_pdf_is_drawn_without_the_network(app, client, login_as, post, answered, db_tx):
    login_as(Role.PANEL_MEMBER)
    _request(client, post, "pdf")
    _work(app)
    response = _download(client, db_tx, "pdf")
    assert response.data.startswith(b"%PDF") and len(response.data) > 5_000
    assert response.headers["Content-Type"] == "application/pdf"


def test_another_council_cannot_download_a_pack(
    app, client, login_as, post, answered, db_tx, other_council
):
    login_as(Role.PANEL_MEMBER)
    _request(client, post, "csv")
    _work(app)
    job = db_tx.scalar(select(BackgroundJob))
    login_as(Role.PANEL_MEMBER, council_id=other_council.id)
    assert client.get(f"/panel/exports/{job.id}").status_code == 404
    assert f"/panel/exports/{job.id}" not in client.get("/panel/exports").get_data(as_text=True)


def test_an_unknown_format_is_refused(client, login_as, post, db_tx):
    login_as(Role.PANEL_MEMBER)
    response = post("/panel/pack/exports", {"format": "exe"}, page="/panel/pack")
    assert response.status_code == 400
    assert db_tx.scalar(select(BackgroundJob)) is None


def test_neutralise_covers_formula_starts_and_hidden_values():
    assert exports.neutralise(None) == "*"
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert exports.neutralise(f"{start}1+1") == f"'{start}1+1"
    assert exports.neutralise("Fine") == "Fine" and exports.neutralise(12) == 12


def test_a_failing_job_is_retried_then_marked_failed(app, db_tx, council):
    from participation import jobs

    job = jobs.enqueue(
        db_tx,
        council_id=council.id,
        kind="panel_pack",
        params={"format": "nonsense", "filters": {}},
        requested_by_id=None,
    )
    db_tx.flush()
    for _ in range(jobs.MAX_ATTEMPTS):
        _work(app)
    db_tx.refresh(job)
    assert job.status is JobStatus.FAILED and "unknown pack format" in job.error


def test_pack_builder_is_the_same_suppressed_report_as_the_pages(db_tx, council, answered):
    from panel.published import published

    made = report.build_pack(db_tx, council.id, council.name, Filters(), 10, utcnow())
    assert made.indicators == published(db_tx, council.id, Filters()).indicators
    assert [s.name for s in exports.sheets(made)] == [
        "indicators",
        "cards",
        "evidence",
        "response_rates",
    ]


def test_huge_or_odd_filter_values_are_no_filter_not_an_error(client, login_as, answered):
    login_as(Role.PANEL_MEMBER)
    for query in ("round=99999999999999999999", "year=99999999999", "group=²", "year=-1"):
        assert client.get(f"/panel?{query}").status_code == 200, query
        assert client.get(f"/panel/pack?{query}").status_code == 200, query


def test_control_characters_in_names_do_not_break_the_workbook(db_tx, council, answered):
    answered.name = "Round\x01 with\x1b control"
    db_tx.flush()
    made = report.build_pack(db_tx, council.id, council.name, Filters(), 10, utcnow())
    book = load_workbook(io.BytesIO(exports.to_xlsx(made)))
    names = {row[0] for row in book["response_rates"].values}
    assert "Round with control" in names


def test_the_jobs_worker_survives_a_locked_database(app, monkeypatch):
    # Found by an outside tester: one "database is locked" while tidying old files stopped
    # `jobs work --loop` for good, and every pack after it waited for ever.
    from sqlalchemy.exc import OperationalError

    from participation import jobs

    class Stop(Exception):
        pass

    calls = {"tidy": 0}

    def locked_once(session, now):
        calls["tidy"] += 1
        if calls["tidy"] == 1:
            raise OperationalError("DELETE", {}, Exception("database is locked"))
        raise Stop

    monkeypatch.setattr(jobs, "remove_expired", locked_once)
    monkeypatch.setattr(jobs.time, "sleep", lambda _seconds: None)
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--loop"])
    assert isinstance(result.exception, Stop)  # it carried on after the lock, to the next round
    assert calls["tidy"] == 2

"""The panel pack as files: CSV and XLSX of the suppressed aggregates, and a PDF.

Everything here starts from ``report.Pack``, which is already decided and rounded: a file can show
no more than the pages do. Files are made by a background job (``participation.jobs``),
never in the request.

* CSV is one tidy table (table, row, measure, value), easy for BI tools. A cell starting
  with = + - @ (or a tab or carriage return) is prefixed with ' so that a spreadsheet
  does not run it as a formula.
* XLSX has a sheet per table and an "About" sheet; every text cell is stored as text,
  never as a formula.
* PDF is the printable pack page drawn by WeasyPrint, with no network access.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from panel.dashboards import queries, report
from panel.dashboards.disclosure import SUPPRESSED_MARK
from participation.db import utcnow
from participation.jobs import BackgroundJob, JobFile

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def sheets(pack: report.Pack) -> list[Sheet]:
    """The pack's tables, in the order the printed pack shows them."""
    return [
        Sheet(
            "indicators",
            "Favourable answers by question",
            ("question_key", "question", "answers", "percent_favourable"),
            [(r.item, r.text, r.base, r.share) for r in pack.indicators],
        ),
        Sheet(
            "cards",
            "Challenge cards by stage",
            ("stage", "cards"),
            [
                *[(label, value) for label, value in pack.cards["stages"]],
                ("Median days from sending to an answer", pack.cards["median_days"]),
                ("Cards past their reply date", pack.cards["overdue"]),
            ],
        ),
        Sheet(
            "evidence",
            "Evidence by Ofsted recommendation",
            (
                "code",
                "recommendation",
                "survey_answers",
                "percent_favourable",
                "confirmed_free_text_tags",
                "cards_raised",
                "cards_answered",
                "cards_changed",
            ),
            [
                (
                    r.code,
                    r.title,
                    r.base,
                    r.share,
                    r.text_tags,
                    r.cards_raised,
                    r.cards_answered,
                    r.cards_changed,
                )
                for r in pack.evidence
            ],
        ),
        Sheet(
            "response_rates",
            "Response rates",
            ("round", "group", "responses", "group_size", "percent_responded"),
            [
                (
                    r.round,
                    r.group,
                    r.sent,
                    r.expected if r.known else "not recorded",
                    r.rate,
                )
                for r in pack.response_rates
            ],
        ),
    ]


def about(pack: report.Pack) -> list[tuple[str, str]]:
    filters = pack.filters.as_args()
    return [
        ("Council", pack.council_name),
        ("Made at (UTC)", pack.made_at.strftime("%Y-%m-%d %H:%M")),
        ("Filters", ", ".join(f"{k}={v}" for k, v in filters.items()) or "none"),
        (
            "Small numbers",
            f"Counts under {pack.threshold} are hidden, and so is any figure "
            "that would let a hidden count be worked out.",
        ),
        ("Hidden value", f"shown as {SUPPRESSED_MARK}"),
    ]


def neutralise(value: Cell) -> str | int | float:
    """A cell safe to open in a spreadsheet: hidden values as *, no formulas."""
    if value is None:
        return SUPPRESSED_MARK
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(pack: report.Pack) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("table", "row", "measure", "value"))
    for sheet in sheets(pack):
        label_columns = 2 if sheet.name in {"indicators", "evidence", "response_rates"} else 1
        for row in sheet.rows:
            label = " / ".join(str(v) for v in row[:label_columns])
            for header, value in zip(
                sheet.headers[label_columns:], row[label_columns:], strict=True
            ):
                writer.writerow([neutralise(v) for v in (sheet.name, label, header, value)])
    # A byte-order mark, so that Excel reads the UTF-8 (group names, Arabic) correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(pack: report.Pack) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    info = book.active
    assert info is not None
    info.title = "About"
    for key, value in about(pack):
        info.append(_text_cells(info, (key, value)))
    info.column_dimensions["A"].width = 22
    info.column_dimensions["B"].width = 90
    for sheet in sheets(pack):
        page = book.create_sheet(sheet.name)
        page.append(_text_cells(page, sheet.headers))
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            page.append(_text_cells(page, row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _text_cells(page: Any, values: Sequence[Cell]) -> list[Any]:
    """Cells for one row: strings stored as text, so none can become a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.cell.cell import Cell as XlCell

    cells = []
    for value in values:
        shown = SUPPRESSED_MARK if value is None else value
        if isinstance(shown, str):
            # Control characters are not allowed in a workbook (openpyxl refuses them).
            shown = ILLEGAL_CHARACTERS_RE.sub("", shown)
        cell = XlCell(page, value=None)
        cell.value = shown
        if isinstance(shown, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def to_pdf(pack: report.Pack) -> bytes:
    from weasyprint import CSS, HTML

    static = Path(current_app.static_folder or "")
    html = render_template("dashboards/pack_document.html", pack=pack, **pack_context(pack))
    return bytes(
        HTML(string=html, url_fetcher=_no_network).write_pdf(
            stylesheets=[CSS(filename=str(static / "css" / "pack.css"))]
        )
    )


def _no_network(url: str, *args: Any, **kwargs: Any) -> Any:
    raise ValueError(f"the PDF may not fetch {url!r}: everything it needs is inline")


def pack_context(pack: report.Pack) -> dict[str, Any]:
    """What the pack templates need besides the pack: the tables for the charts."""
    return {
        "indicator_bars": [(r.text, r.share) for r in pack.indicators],
        "stage_bars": pack.cards["stages"],
        "hidden": SUPPRESSED_MARK,
    }


def build_for_job(session: Session, job: BackgroundJob) -> report.Pack:
    from participation.councils.models import Council

    council = session.get(Council, job.council_id)
    assert council is not None
    # Stored as the page address gives them (strings), read back the same way: a filter
    # stored as a number once read as no filter, and the pack held the whole council.
    stored = {k: str(v) for k, v in (job.params.get("filters") or {}).items()}
    filters = queries.Filters.from_args(MultiDict(stored))
    threshold = int(current_app.config["SMALL_NUMBER_THRESHOLD"])
    return report.build_pack(session, council.id, council.name, filters, threshold, utcnow())


def run_pack_job(session: Session, job: BackgroundJob) -> JobFile:
    """The background job: the pack in the format asked for."""
    fmt = job.params.get("format")
    if fmt not in FORMATS:
        raise ValueError(f"unknown pack format {fmt!r}")
    pack = build_for_job(session, job)
    stamp = pack.made_at.strftime("%Y-%m-%d")
    with current_app.test_request_context():
        content = {"pdf": to_pdf, "xlsx": to_xlsx, "csv": to_csv}[fmt](pack)
    return JobFile(f"panel-pack-{stamp}.{fmt}", FORMATS[fmt], content)

"""Panel dashboards: suppressed aggregates, charts drawn by the app's own plotly.js."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from participation import jobs
from participation.access import staff_required
from participation.councils.services import groups_for_staff
from participation.dashboards import exports, figures, queries, report
from participation.db import db, utcnow
from participation.extensions import limiter

bp = Blueprint("dashboards", __name__)
PACK_JOB = "panel_pack"


def _threshold() -> int:
    return int(current_app.config["SMALL_NUMBER_THRESHOLD"])


def _context(filters: queries.Filters) -> dict[str, Any]:
    council_id = current_user.council_id
    from surveys.models import SurveyRound

    # Names only: loading whole rounds would load their question sets too.
    rounds = db.session.execute(
        select(SurveyRound.id, SurveyRound.name)
        .where(SurveyRound.council_id == council_id)
        .order_by(SurveyRound.opens_at.desc())
    ).all()
    return {
        "filters": filters,
        "filter_args": filters.as_args(),
        "years": queries.years(db.session, council_id),
        "rounds": rounds,
        "groups": groups_for_staff(db.session, current_user),
        "threshold": _threshold(),
        "dashboard": True,  # base.html loads plotly.js only on dashboard pages
    }


@bp.get("/panel")
@staff_required
def overview() -> str:
    """Overview: indicators, cards and what changed, for the chosen filters."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    council_id = current_user.council_id
    rows = report.indicator_rows(db.session, council_id, filters, threshold)
    cards = report.card_summary(db.session, council_id, utcnow(), threshold)
    chart = figures.share_bars(
        "Favourable answers by question", [(r["text"], r["share"]) for r in rows]
    )
    return render_template(
        "dashboards/overview.html",
        rows=rows,
        stages=cards["stages"],
        median_days=cards["median_days"],
        overdue=cards["overdue"],
        chart=figures.to_json(chart),
        funnel_chart=figures.to_json(figures.funnel("Challenge cards", cards["stages"])),
        highlights=queries.highlights(db.session, council_id),
        **_context(filters),
    )


@bp.get("/panel/indicators/<key>")
@staff_required
def indicator(key: str) -> str:
    """One indicator: trend across years, by age band and by group."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    texts = queries.question_texts(db.session, current_user.council_id)
    if key not in texts:
        abort(404)
    splits = report.indicator_splits(db.session, current_user.council_id, filters, key, threshold)
    trend = figures.trend(
        "Trend across years", [(int(r["key"]), r["share"]) for r in splits["year"]]
    )
    bands = figures.share_bars(
        "By age band", [(str(r["key"]), r["share"]) for r in splits["age_band"]]
    )
    return render_template(
        "dashboards/indicator.html",
        key=key,
        text=texts[key],
        splits=splits,
        trend_chart=figures.to_json(trend),
        band_chart=figures.to_json(bands),
        **_context(filters),
    )


@bp.get("/panel/evidence")
@staff_required
def evidence() -> str:
    """A row per Ofsted recommendation: survey indicators, confirmed tags, cards."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    rows = report.evidence_rows(db.session, current_user.council_id, filters, threshold)
    return render_template("dashboards/evidence.html", rows=rows, **_context(filters))


@bp.get("/panel/response-rates")
@staff_required
def response_rates() -> str:
    """Responses sent against the group sizes workers recorded."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    rows = report.response_rate_rows(db.session, current_user.council_id, filters, threshold)
    return render_template("dashboards/response_rates.html", rows=rows, **_context(filters))


@bp.get("/panel/pack")
@staff_required
def pack() -> str:
    """The panel pack: every chart and table on one printable page."""
    filters = queries.Filters.from_args(request.args)
    made = report.build_pack(
        db.session,
        current_user.council_id,
        current_user.council.name,
        filters,
        _threshold(),
        utcnow(),
    )
    context = _context(filters)
    context["dashboard"] = False  # charts here are drawn by the server: no plotly.js
    return render_template(
        "dashboards/pack.html", pack=made, **exports.pack_context(made), **context
    )


@bp.post("/panel/pack/exports")
@staff_required
@limiter.limit("20 per hour", key_func=lambda: f"export:{current_user.id}")
def request_export() -> Any:
    """Queue the pack as a PDF, XLSX or CSV file; a background job makes it."""
    fmt = request.form.get("format", "")
    if fmt not in exports.FORMATS:
        abort(400)
    filters = queries.Filters.from_args(request.form)
    jobs.enqueue(
        db.session,
        council_id=current_user.council_id,
        kind=PACK_JOB,
        params={"format": fmt, "filters": filters.as_args()},
        requested_by_id=current_user.id,
    )
    db.session.commit()
    flash(_("Your file is being made. It will be ready here in a minute or so."), "success")
    return redirect(url_for("dashboards.exports"))


@bp.get("/panel/exports", endpoint="exports")
@staff_required
def exports_page() -> str:
    """This council's recent packs, with their status and downloads."""
    recent = db.session.scalars(
        select(jobs.BackgroundJob)
        .where(
            jobs.BackgroundJob.council_id == current_user.council_id,
            jobs.BackgroundJob.kind == PACK_JOB,
        )
        .order_by(jobs.BackgroundJob.created_at.desc(), jobs.BackgroundJob.id.desc())
        .limit(20)
    ).all()
    pending = any(j.status in (jobs.JobStatus.QUEUED, jobs.JobStatus.RUNNING) for j in recent)
    return render_template("dashboards/exports.html", jobs=recent, pending=pending)


@bp.get("/panel/exports/<int:job_id>")
@staff_required
def download_export(job_id: int) -> Response:
    job = db.session.get(jobs.BackgroundJob, job_id)
    if job is None or job.council_id != current_user.council_id or job.kind != PACK_JOB:
        abort(404)
    if not job.ready or job.content is None:
        abort(404)
    response = make_response(job.content)
    response.headers["Content-Type"] = job.content_type or "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response


def register_jobs(app: Flask) -> None:
    jobs.register_handler(app, PACK_JOB, exports.run_pack_job)

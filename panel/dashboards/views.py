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

from panel.dashboards import exports, queries, report
from panel.dashboards import figures as figures_module
from panel.published import Published, highlights, published, released_rounds
from participation import jobs
from participation.access import staff_required
from participation.councils.services import groups_for_staff
from participation.db import db, utcnow
from participation.extensions import limiter
from surveys.reads import question_texts

bp = Blueprint("dashboards", __name__, template_folder="templates")
PACK_JOB = "panel_pack"


def _threshold() -> int:
    return int(current_app.config["SMALL_NUMBER_THRESHOLD"])


def _context(filters: queries.Filters, figures: Published | None = None) -> dict[str, Any]:
    council_id = current_user.council_id
    figures = figures or published(db.session, council_id, filters)
    rounds = [
        (r.round_id, r.name)
        for r in sorted(
            released_rounds(db.session, figures.release_id), key=lambda r: (-r.year, -r.round_id)
        )
    ]
    return {
        "filters": filters,
        "filter_args": filters.as_args(),
        "years": figures.years,
        "age_bands": figures.age_bands,
        "rounds": [{"id": rid, "name": name} for rid, name in rounds],
        "groups": groups_for_staff(db.session, current_user),
        "threshold": _threshold(),
        "released_at": figures.released_at,
        "dashboard": True,  # base.html loads plotly.js only on dashboard pages
    }


@bp.get("/panel")
@staff_required
def overview() -> str:
    """Overview: indicators, cards and what changed, for the chosen filters."""
    filters = queries.Filters.from_args(request.args)
    council_id = current_user.council_id
    figures = published(db.session, council_id, filters)
    cards = report.card_summary(figures)
    chart = figures_module.share_bars(
        "Favourable answers by question", [(r.text, r.share) for r in figures.indicators]
    )
    return render_template(
        "dashboards/overview.html",
        rows=figures.indicators,
        stages=cards["stages"],
        median_days=cards["median_days"],
        overdue=cards["overdue"],
        chart=figures_module.to_json(chart),
        funnel_chart=figures_module.to_json(
            figures_module.funnel("Challenge cards", cards["stages"])
        ),
        highlights=highlights(db.session, council_id),
        **_context(filters, figures),
    )


@bp.get("/panel/indicators/<key>")
@staff_required
def indicator(key: str) -> str:
    """One indicator: trend across years, by age band and by group."""
    filters = queries.Filters.from_args(request.args)
    figures = published(db.session, current_user.council_id, filters, splits_for=key)
    texts = figures.question_texts or question_texts(db.session)
    if key not in texts:
        abort(404)
    splits = figures.splits or {by: [] for by in ("year", "age_band", "group")}
    trend = figures_module.trend(
        "Trend across years", [(int(r.part), r.share) for r in splits["year"]]
    )
    bands = figures_module.share_bars(
        "By age band", [(r.label, r.share) for r in splits["age_band"]]
    )
    return render_template(
        "dashboards/indicator.html",
        key=key,
        text=texts[key],
        splits=splits,
        trend_chart=figures_module.to_json(trend),
        band_chart=figures_module.to_json(bands),
        **_context(filters, figures),
    )


@bp.get("/panel/evidence")
@staff_required
def evidence() -> str:
    """A row per Ofsted recommendation: survey indicators, confirmed tags, cards."""
    filters = queries.Filters.from_args(request.args)
    figures = published(db.session, current_user.council_id, filters)
    return render_template(
        "dashboards/evidence.html", rows=figures.evidence, **_context(filters, figures)
    )


@bp.get("/panel/response-rates")
@staff_required
def response_rates() -> str:
    """Responses sent against the group sizes workers recorded."""
    filters = queries.Filters.from_args(request.args)
    figures = published(db.session, current_user.council_id, filters)
    return render_template(
        "dashboards/response_rates.html", rows=figures.response_rates, **_context(filters, figures)
    )


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
        # As strings, the way the page address gives them (``build_for_job`` reads them so).
        params={"format": fmt, "filters": {k: str(v) for k, v in filters.as_args().items()}},
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
    return render_template("dashboards/exports.html", jobs=recent, pending=pending, now=utcnow())


@bp.get("/panel/exports/<int:job_id>")
@staff_required
def download_export(job_id: int) -> Response:
    """Download a finished pack file, until it expires."""
    job = db.session.get(jobs.BackgroundJob, job_id)
    if job is None or job.council_id != current_user.council_id or job.kind != PACK_JOB:
        abort(404)
    if not job.ready or job.content is None:
        abort(404)
    if job.expires_at is not None and job.expires_at <= utcnow():
        # Past its expiry the file is gone for good, even before the worker deletes it.
        abort(410)
    response = make_response(job.content)
    response.headers["Content-Type"] = job.content_type or "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    return response


def register_jobs(app: Flask) -> None:
    jobs.register_handler(app, PACK_JOB, exports.run_pack_job)

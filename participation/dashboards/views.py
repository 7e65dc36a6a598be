"""Panel dashboards: suppressed aggregates, charts drawn by the app's own plotly.js."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from participation.access import staff_required
from participation.councils.services import groups_for_staff
from participation.dashboards import figures, queries, report
from participation.db import db, utcnow

bp = Blueprint("dashboards", __name__)


def _threshold() -> int:
    return int(current_app.config["SMALL_NUMBER_THRESHOLD"])


def _context(filters: queries.Filters) -> dict[str, Any]:
    council_id = current_user.council_id
    from surveys.models import SurveyRound

    rounds = (
        db.session.query(SurveyRound)
        .filter(SurveyRound.council_id == council_id)
        .order_by(SurveyRound.opens_at.desc())
        .all()
    )
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

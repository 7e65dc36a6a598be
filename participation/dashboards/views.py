"""Panel dashboards: suppressed aggregates, charts drawn by the app's own plotly.js."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from participation.access import staff_required
from participation.councils.services import groups_for_staff
from participation.dashboards import figures, queries
from participation.dashboards.disclosure import share, suppress_series
from participation.db import db, utcnow

bp = Blueprint("dashboards", __name__)


def _threshold() -> int:
    return int(current_app.config["SMALL_NUMBER_THRESHOLD"])


def indicator_cell(favourable: int, answered: int, threshold: int) -> dict[str, Any]:
    """What may be shown of one indicator: its base and its favourable share.

    The share is hidden unless both the favourable and the other answers reach the
    threshold: with a base shown, a share would otherwise give away a small count.
    """
    shown = suppress_series(
        {"favourable": favourable, "other": answered - favourable}, threshold, total_shown=True
    )
    base = answered if answered >= threshold else None
    hidden = shown["favourable"] is None or shown["other"] is None
    return {"base": base, "share": None if hidden else share(favourable, answered, threshold)}


def _count(value: int, threshold: int) -> int | None:
    return value if value >= threshold else None


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


def _indicator_rows(filters: queries.Filters) -> list[dict[str, Any]]:
    threshold = _threshold()
    texts = queries.question_texts(db.session, current_user.council_id)
    rows = []
    for row in queries.indicator_totals(db.session, current_user.council_id, filters):
        cell = indicator_cell(int(row["favourable"]), int(row["answered"]), threshold)
        rows.append(
            {
                "key": row["question_key"],
                "text": texts.get(row["question_key"], row["question_key"]),
                **cell,
            }
        )
    return rows


@bp.get("/panel")
@staff_required
def overview() -> str:
    """Overview: indicators, cards and what changed, for the chosen filters."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    rows = _indicator_rows(filters)
    funnel = queries.card_funnel(db.session, current_user.council_id, utcnow())
    stages = [(label, _count(count, threshold)) for label, count in funnel["stages"]]
    chart = figures.share_bars(
        "Favourable answers by question", [(r["text"], r["share"]) for r in rows]
    )
    return render_template(
        "dashboards/overview.html",
        rows=rows,
        stages=stages,
        funnel=funnel,
        median_days=funnel["median_days"] if funnel["answered_count"] >= threshold else None,
        overdue=_count(funnel["overdue"], threshold),
        chart=figures.to_json(chart),
        funnel_chart=figures.to_json(figures.funnel("Challenge cards", stages)),
        highlights=queries.highlights(db.session, current_user.council_id),
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
    splits = {}
    for by in ("year", "age_band", "group"):
        splits[by] = [
            {
                "key": row["key"],
                **indicator_cell(int(row["favourable"]), int(row["answered"]), threshold),
            }
            for row in queries.indicator_by(db.session, current_user.council_id, filters, key, by)
        ]
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
    rows = []
    for row in queries.evidence_matrix(db.session, current_user.council_id, filters):
        cell = indicator_cell(row["favourable"], row["answered"], threshold)
        rows.append(
            {
                "code": row["code"],
                "title": row["title"],
                **cell,
                "text_tags": _count(row["text_tags"], threshold),
                "cards_raised": _count(row["cards_raised"], threshold),
                "cards_answered": _count(row["cards_answered"], threshold),
                "cards_changed": _count(row["cards_changed"], threshold),
            }
        )
    return render_template("dashboards/evidence.html", rows=rows, **_context(filters))


@bp.get("/panel/response-rates")
@staff_required
def response_rates() -> str:
    """Responses sent against the group sizes workers recorded."""
    filters = queries.Filters.from_args(request.args)
    threshold = _threshold()
    rows = []
    for row in queries.response_rates(db.session, current_user.council_id, filters):
        sent, expected = int(row["sent"]), row["expected"]
        rate = None
        if expected is not None and expected >= sent:
            # Those who did not answer are a count too: both sides must be large enough.
            sides = suppress_series({"sent": sent, "not": expected - sent}, threshold)
            if sides["sent"] is not None and sides["not"] is not None:
                rate = share(sent, expected, threshold)
        rows.append(
            {
                "round": row["round"],
                "group": row["group"],
                "sent": _count(sent, threshold),
                "expected": _count(expected, threshold) if expected is not None else None,
                "known": expected is not None,
                "rate": rate,
            }
        )
    return render_template("dashboards/response_rates.html", rows=rows, **_context(filters))

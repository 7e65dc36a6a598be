"""Staff browse the recommendation catalogue."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from participation.access import staff_required
from participation.db import db
from participation.recommendations import queries

bp = Blueprint("recommendations", __name__)


@bp.get("/staff/recommendations")
@staff_required
def catalogue() -> str:
    """Every recommendation that submissions are tagged against."""
    return render_template(
        "recommendations/catalogue.html", recommendations=queries.active_recommendations(db.session)
    )


@bp.get("/staff/recommendations/<code>")
@staff_required
def recommendation(code: str) -> str:
    """One recommendation with its source."""
    found = queries.recommendation_by_code(db.session, code.upper()) or abort(404)
    return render_template("recommendations/recommendation.html", rec=found)

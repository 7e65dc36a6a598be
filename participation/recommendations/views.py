"""Staff browse the recommendation catalogue (workers tag survey free text in ``panel``)."""

from __future__ import annotations

import re

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
    if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", code):
        abort(404)  # no code looks like this (and a NUL would upset PostgreSQL)
    found = queries.recommendation_by_code(db.session, code.upper()) or abort(404)
    return render_template("recommendations/recommendation.html", rec=found)

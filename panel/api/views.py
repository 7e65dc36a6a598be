"""The aggregate API for councils' BI tools, and the administrators' token pages.

Every figure comes from ``panel.published.published``, so the API hides exactly what the
dashboards hide: a hidden value is JSON null. The token's council scopes every query.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from panel.api import queries, services
from panel.api.filters import FilterError, parse_filters
from panel.api.forms import TokenForm
from panel.api.openapi import openapi_document
from panel.dashboards.queries import Filters
from panel.published import IndicatorRow, Published, SplitRow, published
from participation.access import api_token_required, public, role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import Role
from participation.councils.models import Council
from participation.db import db, utcnow
from participation.extensions import limiter
from surveys.reads import question_texts

bp = Blueprint("api", __name__, url_prefix="/api")
tokens_bp = Blueprint("api_tokens", __name__, template_folder="templates")

NULL_NOTE = (
    "null means the value is hidden to protect children's privacy: it counts fewer than "
    "{threshold} children, or a hidden count could be worked out from it."
)


def _token_key() -> str:
    """Rate limits count per token, whichever address a BI tool calls from."""
    token = g.get("api_token")
    return f"api-token:{token.id}" if token is not None else "api-token:none"


# One budget per token across every endpoint (a dashboard refresh calls several).
rate_limited = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_token_key
)


# JSON answers ----------------------------------------------------------------------------


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    # Aggregates of children's answers: no cache, shared or private, may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, error: str, message: str, parameter: str | None = None) -> Response:
    body: dict[str, Any] = {"error": error, "message": message}
    if parameter is not None:
        body["parameter"] = parameter
    return _json(body, status)


@bp.errorhandler(FilterError)
def filter_error(error: FilterError) -> Response:
    return _error(
        error.status,
        "bad_parameter" if error.status == 400 else "not_found",
        error.message,
        error.parameter,
    )


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    db.session.rollback()
    status = error.code or 500
    name = re.sub(r"\W+", "_", (error.name or "error").lower()).strip("_")
    message = error.description or error.name
    if status == 429:
        message = f"Too many calls with this token ({message}); wait a little and try again."
    response = _error(status, name, message)
    for header, value in error.get_headers():
        if header.lower() != "content-type":
            response.headers[header] = value
    return response


@bp.errorhandler(Exception)
def unexpected(error: Exception) -> Response:
    current_app.logger.exception("unhandled error in the API")
    db.session.rollback()
    if isinstance(error, OperationalError):
        return _error(503, "unavailable", "The database is unavailable; try again shortly.")
    return _error(500, "internal_error", "Something went wrong on our side.")


def _threshold() -> int:
    return int(current_app.config["SMALL_NUMBER_THRESHOLD"])


def _council_id() -> int:
    return int(g.api_council_id)


def _filters() -> Filters:
    return parse_filters(db.session, _council_id(), request.args)


def _answer(data: Any, filters: Filters | None, figures: Published) -> Response:
    """The envelope every aggregate answer shares."""
    council = db.session.get(Council, _council_id())
    threshold = _threshold()
    return _json(
        {
            "council": {"id": council.id, "name": council.name} if council else None,
            "threshold": threshold,
            "filters": filters.as_args() if filters else {},
            "generated_at": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "released_at": (
                figures.released_at.isoformat(timespec="seconds").replace("+00:00", "Z")
                if figures.released_at
                else None
            ),
            "release_id": figures.release_id,
            "note": NULL_NOTE.format(threshold=threshold),
            "data": data,
        }
    )


def _figures(filters: Filters, splits_for: str | None = None) -> Published:
    return published(db.session, _council_id(), filters, splits_for=splits_for)


def _indicator(row: IndicatorRow) -> dict[str, Any]:
    return {
        "key": row.item,
        "figure_key": row.key,
        "text": row.text,
        "base": row.base,
        "share": row.share,
    }


def _part(row: SplitRow) -> dict[str, Any]:
    return {
        "key": row.part,
        "label": row.label,
        "figure_key": row.key,
        "base": row.base,
        "share": row.share,
    }


# Endpoints -------------------------------------------------------------------------------


@bp.get("/openapi.json")
@public
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API (it holds no data, so it is public)."""
    return _json(openapi_document())


@bp.get("/v1/indicators")
@api_token_required
@rate_limited
def indicators() -> Response:
    """Per survey question: its base (answers) and favourable share."""
    filters = _filters()
    figures = _figures(filters)
    return _answer([_indicator(row) for row in figures.indicators], filters, figures)


@bp.get("/v1/indicators/<key>")
@api_token_required
@rate_limited
def indicator(key: str) -> Response:
    """One indicator by year, by age band and by group."""
    texts = question_texts(db.session)
    if key not in texts:
        return _error(404, "not_found", "No survey question has that key.", "key")
    filters = _filters()
    figures = _figures(filters, splits_for=key)
    data = {
        "key": key,
        "text": texts[key],
        "splits": {
            by: [_part(row) for row in figures.splits.get(by, [])]
            for by in ("year", "age_band", "group")
        },
    }
    return _answer(data, filters, figures)


@bp.get("/v1/evidence")
@api_token_required
@rate_limited
def evidence() -> Response:
    """A row per Ofsted recommendation: survey indicator, confirmed tags, challenge cards."""
    filters = _filters()
    figures = _figures(filters)
    rows = [
        {
            "code": r.code,
            "figure_key": r.key,
            "title": r.title,
            "base": r.base,
            "share": r.share,
            "text_tags": r.text_tags,
            "cards_raised": r.cards_raised,
            "cards_answered": r.cards_answered,
            "cards_changed": r.cards_changed,
        }
        for r in figures.evidence
    ]
    return _answer(rows, filters, figures)


@bp.get("/v1/response-rates")
@api_token_required
@rate_limited
def response_rates() -> Response:
    """Per round and group: responses sent against the group size a worker recorded."""
    filters = _filters()
    figures = _figures(filters)
    rows = [
        {
            "key": r.key,
            "round_id": r.round_id,
            "round": r.round,
            "group_id": r.group_id,
            "group": r.group,
            "sent": r.sent,
            "expected": r.expected,
            "known": r.known,
            "rate": r.rate,
        }
        for r in figures.response_rates
    ]
    return _answer(rows, filters, figures)


@bp.get("/v1/cards")
@api_token_required
@rate_limited
def cards() -> Response:
    """The challenge card funnel, median days to an answer and overdue cards.

    Cards are not answers to a survey round: the filters are checked but do not apply,
    and the answer's ``filters`` is empty to say so.
    """
    _filters()
    figures = _figures(Filters())
    data = {
        "stages": [{"key": s.stage, "label": s.label, "count": s.count} for s in figures.stages],
        "median_days": figures.median_days,
        "overdue": figures.overdue,
    }
    return _answer(data, None, figures)


# Administrators' token pages -------------------------------------------------------------


def _tokens_page(form: TokenForm, created: str | None = None, status: int = 200) -> Any:
    rows = queries.tokens_of_council(db.session, current_user.council_id)
    return render_template("api/tokens.html", rows=rows, form=form, created=created), status


@tokens_bp.get("/staff/api-tokens")
@role_required(Role.ADMIN)
def tokens() -> Any:
    """The council's API tokens, and a form to create one."""
    return _tokens_page(TokenForm())


@tokens_bp.post("/staff/api-tokens")
@role_required(Role.ADMIN)
def create_token() -> Any:
    """Create a token; its text is shown on this one page and never again."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    try:
        _token, plaintext = services.create_token(
            db.session,
            current_user.council,
            form.name.data or "",
            by=current_user._get_current_object(),
        )
    except services.TokenError as error:
        db.session.rollback()
        form.name.errors = [str(error)]
        return _tokens_page(form, status=422)
    db.session.commit()
    # Rendered, not redirected: the text must not travel in the (signed, unencrypted) session.
    return _tokens_page(TokenForm(formdata=None), created=plaintext)


@tokens_bp.post("/staff/api-tokens/<int:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_token(token_id: int) -> Response:
    """Revoke a token: calls with it are refused from now on."""
    token = queries.token_of_council(db.session, token_id, current_user.council_id)
    if token is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if services.revoke_token(db.session, token, by=current_user._get_current_object()):
        db.session.commit()
        flash(_("Token “%(name)s” revoked. Calls with it are refused.", name=token.name), "success")
    else:
        flash(_("That token was already revoked."), "info")
    return redirect(url_for(".tokens"))

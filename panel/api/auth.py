"""Bearer-token authentication for the aggregate API (called by ``access.enforce_access``)."""

from __future__ import annotations

import re

from flask import Response, g, jsonify, request

from panel.api import services
from participation.db import db

# RFC 6750: "Bearer" (any case), one space, then token68 characters.
_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE | re.ASCII)


def bearer_token() -> str | None:
    """The token in the Authorization header, or None when there is none or it is malformed."""
    header = request.headers.get("Authorization", "")
    match = _BEARER.fullmatch(header.strip())
    return match.group(1) if match else None


def unauthorized(presented: bool) -> Response:
    """401 with a ``WWW-Authenticate`` challenge; the same words for every kind of bad token."""
    challenge = 'Bearer realm="api"'
    if presented:
        challenge += ', error="invalid_token"'
    response = jsonify(
        {
            "error": "unauthorized",
            "message": (
                "This token is not valid: it may be mistyped or revoked."
                if presented
                else "Send an API token: Authorization: Bearer <token>."
            ),
        }
    )
    response.status_code = 401
    response.headers["WWW-Authenticate"] = challenge
    return response


def authenticate() -> Response | None:
    """Admit a request with an active token (setting ``g.api_token``); else answer 401.

    Session cookies are never looked at: a member of staff's browser is not an API client,
    and a cookie sent by a page on another site must not read the aggregates.
    """
    header_sent = "Authorization" in request.headers
    token = services.token_for(db.session, bearer_token())
    # Ends the lookup's transaction, and keeps the once-a-minute note of the token's use.
    db.session.commit()
    if token is None:
        return unauthorized(presented=header_sent)
    g.api_token = token
    g.api_council_id = token.council_id
    return None

"""Response headers and redirect safety."""

from __future__ import annotations

import fcntl
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.routing import IntegerConverter

from participation.db import MAX_ROW_ID
from participation.extensions import limiter

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    )
    if current_app.config["SEND_HSTS"] and current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.path.startswith("/static/vendor/"):
        # Vendored files live under a versioned path: a new version is a new address.
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif request.endpoint != "static":
        # Pages may hold what a child wrote or who is signed in: never cache them.
        headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site, else ``fallback``: no open redirects."""
    if not target:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in routes: a number too big to be a row id matches no route (a 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class StaffSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions whose expiry is fixed at sign-in time plus the cap.

    Flask's permanent sessions expire ``PERMANENT_SESSION_LIFETIME`` after the latest
    response, so an active session's cookie lived for ever. A staff session's cookie now
    expires at ``signed_in_at`` + ``STAFF_SESSION_MAX_HOURS`` however active it is; the
    server checks the same age (``participation.access``), so a kept cookie is no use either.
    """

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        started = session.get("signed_in_at") if session.permanent else None
        if isinstance(started, int | float):
            hours = int(app.config.get("STAFF_SESSION_MAX_HOURS", 8))
            return datetime.fromtimestamp(float(started), UTC) + timedelta(hours=hours)
        return super().get_expiration_time(app, session)


def register_security(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.session_interface = StaffSessionInterface()
    register_rate_limit_storage_check(app)


# Join codes ------------------------------------------------------------------------------

# One budget per address for every route that checks a join code (POST /join, GET /j/<code>,
# and any later one): a guesser cannot spend one route's budget, then the other's. Only
# misses count (a 4xx answer), so a room of children behind one Wi-Fi address can all join.
join_code_limit = limiter.shared_limit(
    lambda: current_app.config["JOIN_RATE_LIMIT"],
    scope="join-code",
    deduct_when=lambda response: response.status_code >= 400,
)


# Rate-limit storage shared by every process ---------------------------------------------------

_single_process_lock: IO[str] | None = None
_lock_owner_pid: int | None = None


def rate_limits_are_per_process(app: Flask) -> bool:
    """True when counts live in each process's memory (no PARTICIPATION_REDIS_URL)."""
    return str(app.config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://")


def _holds_single_process_lock(app: Flask) -> bool:
    """Take (once per process) an exclusive lock that a second serving process cannot."""
    global _single_process_lock, _lock_owner_pid
    if _lock_owner_pid == os.getpid():
        return True
    path = Path(app.instance_path) / "single-process.lock"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 (held for the life of the process)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _single_process_lock, _lock_owner_pid = handle, os.getpid()
    return True


def register_rate_limit_storage_check(app: Flask) -> None:
    """Several processes without shared storage would each allow every limit in full.

    Outside demo, development and the tests, ``participation.config`` refuses to start
    without PARTICIPATION_REDIS_URL unless PARTICIPATION_SINGLE_PROCESS=1; then a second
    process serving on the same machine answers 503 (and logs why) instead of doubling
    every limit. In demo and development (``make run`` has two workers) a warning is
    logged at start and shown on administrators' staff home page.
    """
    if not rate_limits_are_per_process(app):
        return
    from participation.config import ENV_PREFIX, ConfigError, is_local

    if is_local(app.config):
        if not app.config.get("TESTING"):
            log.warning(
                "Rate limits are counted by each app process on its own "
                "(PARTICIPATION_REDIS_URL is not set): with N processes every limit allows "
                "N times as many tries. Set PARTICIPATION_REDIS_URL before going live."
            )
        return
    if not app.config.get("SINGLE_PROCESS"):
        raise ConfigError(
            f"{ENV_PREFIX}REDIS_URL is not set. Without shared storage each app process "
            "counts sign-in attempts, join codes and API calls on its own, so N processes "
            "allow N times every limit. Set it to a Redis every process uses, or, if this "
            f"site really runs as one process, set {ENV_PREFIX}SINGLE_PROCESS=1."
        )
    log.warning(
        "PARTICIPATION_SINGLE_PROCESS=1 and no PARTICIPATION_REDIS_URL: rate limits are "
        "counted in this process only; a second process on this machine will refuse requests."
    )

    @app.before_request
    def refuse_a_second_process() -> None:
        if not _holds_single_process_lock(app):
            log.error(
                "another process of this site already serves requests on this machine and "
                "PARTICIPATION_REDIS_URL is not set: this process (pid %s) refuses requests "
                "so that rate limits hold. Set PARTICIPATION_REDIS_URL to run several.",
                os.getpid(),
            )
            abort(503)

"""Configuration: safe defaults, then ``instance/config.py``, then ``PARTICIPATION_*`` env vars.

Nothing secret is hard-coded. The secret key comes from the environment, or is generated
once into ``instance/secret_key`` with owner-only permissions.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ENV_PREFIX = "PARTICIPATION_"


class DefaultConfig:
    """Defaults that are safe for production; development relaxes them explicitly."""

    # Database: a SQLite file under instance/ unless PARTICIPATION_DATABASE_URL is set.
    DATABASE_URL: str | None = None
    DATABASE_ECHO = False
    # Shared state (rate limits) across app processes; in-memory when unset.
    REDIS_URL: str | None = None

    # Cookies and sessions.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "cv_session"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = 8 * 3600  # absolute cap for a staff session, seconds
    STAFF_IDLE_TIMEOUT_MINUTES = 30
    CHILD_COOKIE_NAME = "cv_child"
    CHILD_COOKIE_DAYS = 400  # a survey year and a bit: a child can resume next time
    SEND_HSTS = True

    # Staff sign-in.
    REQUIRE_SECOND_FACTOR = True
    SIGN_IN_RATE_LIMIT = "10 per minute; 40 per hour"
    SIGN_IN_PER_ACCOUNT_LIMIT = "8 per 15 minutes"
    JOIN_RATE_LIMIT = "10 per minute; 60 per hour"
    # Per API token, across every aggregate endpoint (a BI refresh makes a few calls).
    API_RATE_LIMIT = "120 per minute"
    DEFAULT_RATE_LIMITS: list[str] = []
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-* headers are trusted; the rate
    # limits count per child's or person's address only if this is right.
    PROXY_HOPS = 0

    # Forms.
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024

    # Language.
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/London"
    LANGUAGES = {"en": "English", "ar": "العربية", "ps": "پښتو"}

    # Councillors never see counts under this.
    SMALL_NUMBER_THRESHOLD = 10

    # What a child's phone shows: a site name and, if set, one neutral title for every
    # child page (a shared phone's tabs and history then say nothing about care or help).
    SITE_NAME = "Child Voice"
    CHILD_PAGE_TITLE: str | None = None
    # Where "Leave this site" goes at once: a neutral page that is not about help.
    QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"

    # Demo mode relaxes the second factor so that `make run` can be tried at once.
    DEMO = False

    # Outgoing email (safeguarding alerts, card deadlines), sent from the outbox table.
    # Set MAIL_PASSWORD in the environment or instance/config.py; it is never logged or stored.
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "no-reply@localhost"
    MAIL_TIMEOUT_SECONDS = 10
    # Backoff is capped at an hour: 60 attempts keep an email (a safeguarding alert) trying
    # for about two and a half days before it is marked failed; `outbox requeue` retries those.
    OUTBOX_MAX_ATTEMPTS = 60


RTL_LANGUAGES = frozenset({"ar", "fa", "ps", "ur", "he", "ckb"})


def _coerce(current: Any, raw: str) -> Any:
    """Turn an environment string into the type of the default it replaces."""
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    return raw


def secret_key_for(instance_path: Path) -> str:
    """Return the instance's secret key, creating it once with owner-only permissions."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config(app: Any, overrides: dict[str, Any] | None) -> None:
    """Fill ``app.config``: defaults, instance/config.py, environment, then explicit overrides."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    for name in dir(DefaultConfig):
        if name.isupper() and (ENV_PREFIX + name) in os.environ:
            app.config[name] = _coerce(app.config.get(name), os.environ[ENV_PREFIX + name])
    if ENV_PREFIX + "SECRET_KEY" in os.environ:
        app.config["SECRET_KEY"] = os.environ[ENV_PREFIX + "SECRET_KEY"]
    if overrides:
        app.config.update(overrides)
    if not app.config.get("DATABASE_URL"):
        db_file = Path(app.instance_path) / "participation.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{db_file}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key_for(Path(app.instance_path))
    second_factor_set = "REQUIRE_SECOND_FACTOR" in (overrides or {}) or (
        ENV_PREFIX + "REQUIRE_SECOND_FACTOR" in os.environ
    )
    if app.config["DEMO"] and not second_factor_set:
        app.config["REQUIRE_SECOND_FACTOR"] = False
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True

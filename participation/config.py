"""Settings: one typed object, filled from defaults, ``instance/config.py``, then the environment.

``Settings`` is a frozen dataclass, not pydantic-settings. Every setting is a string, a
number, a yes/no or "none", so a few lines of parsing do what pydantic would, without a
new dependency (pydantic-core is a compiled package); the error names the environment
variable exactly (``PARTICIPATION_MAIL_PORT must be a whole number, not 'abc'``); and it
layers naturally with Flask's ``instance/config.py`` and the overrides tests pass to
``create_app``.

A new setting is one line in ``Settings``: ``NAME: type = default``. It is then read from
``PARTICIPATION_NAME``, type-checked at start-up and copied into ``app.config``; its row
in the README's Configuration table is required (``tests/core/test_settings.py`` checks
both directions). Values the app does not let an operator change (cookie flags, CSRF,
languages) are in ``APP_CONSTANTS``.

Nothing secret is hard-coded. The secret key comes from the environment, or is generated
once into ``instance/secret_key`` with owner-only permissions.
"""

from __future__ import annotations

import os
import secrets
import types
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "PARTICIPATION_"
# Demo mode (`make run`), development (FLASK_DEBUG) and tests serve on this machine.
LOCAL_BASE_URL = "http://127.0.0.1:5000"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(RuntimeError):
    """A setting is missing or has a value the app cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Every setting an operator may change, each read from ``PARTICIPATION_<NAME>``.

    Types: ``str``, ``int``, ``float``, ``bool`` (1/0, true/false, yes/no, on/off) and
    ``X | None`` (an empty value means none). Each one is documented in the README.
    """

    # Storage. DATABASE_URL none: a SQLite file under instance/.
    DATABASE_URL: str | None = None
    DATABASE_ECHO: bool = False
    REDIS_URL: str | None = None  # shared rate-limit counts; in-memory when none
    SECRET_KEY: str | None = None  # none: generated once into instance/secret_key

    # The site's own address: every link in an email, and the only Host accepted.
    PUBLIC_BASE_URL: str | None = None
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-* headers are trusted.
    PROXY_HOPS: int = 0

    # Demo mode relaxes the second factor so that `make run` can be tried at once.
    DEMO: bool = False

    # Cookies, sessions and sign-in.
    SESSION_COOKIE_SECURE: bool = True
    SEND_HSTS: bool = True
    REQUIRE_SECOND_FACTOR: bool = True
    STAFF_IDLE_TIMEOUT_MINUTES: int = 30
    # Absolute: counted from sign-in, never extended by activity.
    STAFF_SESSION_MAX_HOURS: int = 8
    SIGN_IN_RATE_LIMIT: str = "10 per minute; 40 per hour"
    SIGN_IN_PER_ACCOUNT_LIMIT: str = "8 per 15 minutes"
    JOIN_RATE_LIMIT: str = "10 per minute; 60 per hour"
    # Per API token, across every aggregate endpoint (a BI refresh makes a few calls).
    API_RATE_LIMIT: str = "120 per minute"
    # Without Redis each process counts on its own; outside demo, development and the
    # tests the app then refuses to start unless this says it runs as one process.
    SINGLE_PROCESS: bool = False
    # Fernet keys for TOTP secrets at rest (comma-separated, the first encrypts; the word
    # "secret-key" is the key derived from SECRET_KEY). None: derived from SECRET_KEY.
    TOTP_ENCRYPTION_KEYS: str | None = None

    # Councillors never see counts under this.
    SMALL_NUMBER_THRESHOLD: int = 10
    # Published figures change only in releases: when a round closes, or, for an open
    # round, when at least this many new sent responses have arrived since its last count
    # (checked by the jobs worker at most every PANEL_RELEASE_CHECK_MINUTES).
    PANEL_RELEASE_MIN_NEW_RESPONSES: int = 10
    PANEL_RELEASE_CHECK_MINUTES: int = 1440

    # What a child's phone shows: a site name and, if set, one neutral title for every
    # child page (a shared phone's tabs and history then say nothing about care or help).
    SITE_NAME: str = "Child Voice"
    CHILD_PAGE_TITLE: str | None = None
    # Where "Leave this site" goes at once: a neutral page that is not about help.
    QUICK_EXIT_URL: str = "https://www.bbc.co.uk/weather"

    # Outgoing email, sent from the outbox table. MAIL_PASSWORD is never logged or stored.
    MAIL_SERVER: str = "127.0.0.1"
    MAIL_PORT: int = 25
    MAIL_USE_STARTTLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM: str = "no-reply@localhost"
    MAIL_TIMEOUT_SECONDS: float = 10.0
    # Backoff is capped at an hour: 60 attempts keep an email (a safeguarding alert) trying
    # for about two and a half days before it is marked failed; `outbox requeue` retries those.
    OUTBOX_MAX_ATTEMPTS: int = 60

    # Safeguarding alerts: who is emailed when a council has no lead account (and who is
    # always emailed about an overdue one), and how often an unacknowledged alert past its
    # deadline is emailed again.
    SAFEGUARDING_FALLBACK_EMAIL: str | None = None
    ALERT_REMINDER_URGENT_MINUTES: int = 30
    ALERT_REMINDER_CONCERN_MINUTES: int = 240


# Flask and extension settings that are part of the app's design, not an operator's choice.
APP_CONSTANTS: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "cv_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    # The cookie's own expiry; the absolute cap is STAFF_SESSION_MAX_HOURS, checked on the
    # server from the sign-in time (participation/access.py).
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "CHILD_COOKIE_NAME": "cv_child",
    "CHILD_COOKIE_DAYS": 400,  # a survey year and a bit: a child can resume next time
    "DEFAULT_RATE_LIMITS": [],
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "Europe/London",
    "LANGUAGES": {"en": "English", "ar": "العربية", "ps": "پښتو"},
}

RTL_LANGUAGES = frozenset({"ar", "fa", "ps", "ur", "he", "ckb"})


def setting_types() -> dict[str, tuple[type, bool]]:
    """Each setting's name, with its base type and whether it may be none."""
    hints = typing.get_type_hints(Settings)
    result: dict[str, tuple[type, bool]] = {}
    for item in fields(Settings):
        hint = hints[item.name]
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(members) < len(typing.get_args(hint))
            hint = members[0]
        result[item.name] = (hint, optional)
    return result


def parse_value(label: str, kind: type, optional: bool, raw: str) -> Any:
    """Turn a string (an environment variable's value) into a setting of ``kind``."""
    text = raw.strip()
    if optional and text == "":
        return None
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"{label} must be 1 or 0 (true/false, yes/no), not {raw!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{label} must be a whole number, not {raw!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{label} must be a number, not {raw!r}") from None
    return raw


def _typed(name: str, kind: type, optional: bool, value: Any) -> Any:
    """A value from instance/config.py or an override, checked (or parsed) against its type."""
    label = f"setting {name}"
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{label} must be set")
    if isinstance(value, str) and kind is not str:
        return parse_value(label, kind, optional, value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool):
        raise ConfigError(f"{label} must be a whole number, not {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{label} must be {kind.__name__}, not {value!r}")
    return value


def _env_or_setting(name: str) -> str:
    return f"{ENV_PREFIX}{name}" if ENV_PREFIX + name in os.environ else f"setting {name}"


def _http_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{_env_or_setting(name)} must be an http(s) address such as "
            f"https://voice.example.gov.uk, not {value!r}"
        )
    if parts.username or parts.password:
        raise ConfigError(f"{_env_or_setting(name)} must not hold a user name or password")


def _check(settings: Settings) -> None:
    """Values of the right type that still make no sense, each named."""
    from limits import parse_many

    def need(ok: bool, name: str, what: str) -> None:
        if not ok:
            raise ConfigError(f"{_env_or_setting(name)} {what}, not {getattr(settings, name)!r}")

    if settings.PUBLIC_BASE_URL is not None:
        _http_url("PUBLIC_BASE_URL", settings.PUBLIC_BASE_URL)
        parts = urlsplit(settings.PUBLIC_BASE_URL)
        need(not parts.query and not parts.fragment, "PUBLIC_BASE_URL", "must have no ? or #")
    _http_url("QUICK_EXIT_URL", settings.QUICK_EXIT_URL)
    for name in ("SAFEGUARDING_FALLBACK_EMAIL", "MAIL_FROM"):
        address = getattr(settings, name)
        if address is not None:
            local, at, domain = address.strip().partition("@")
            need(
                bool(local and at and domain) and not any(c.isspace() for c in address.strip()),
                name,
                "must be one email address",
            )
    for name in ("SIGN_IN_RATE_LIMIT", "SIGN_IN_PER_ACCOUNT_LIMIT", "JOIN_RATE_LIMIT"):
        try:
            parse_many(getattr(settings, name))
        except ValueError:
            need(False, name, "must be limits such as '10 per minute; 40 per hour'")
    try:
        parse_many(settings.API_RATE_LIMIT)
    except ValueError:
        need(False, "API_RATE_LIMIT", "must be a limit such as '120 per minute'")
    need(1 <= settings.MAIL_PORT <= 65535, "MAIL_PORT", "must be a port from 1 to 65535")
    need(0 <= settings.PROXY_HOPS <= 5, "PROXY_HOPS", "must be from 0 to 5")
    need(settings.SMALL_NUMBER_THRESHOLD >= 2, "SMALL_NUMBER_THRESHOLD", "must be at least 2")
    need(
        settings.PANEL_RELEASE_MIN_NEW_RESPONSES >= settings.SMALL_NUMBER_THRESHOLD,
        "PANEL_RELEASE_MIN_NEW_RESPONSES",
        "must be at least SMALL_NUMBER_THRESHOLD",
    )
    need(settings.PANEL_RELEASE_CHECK_MINUTES >= 1, "PANEL_RELEASE_CHECK_MINUTES", "must be >= 1")
    need(settings.STAFF_IDLE_TIMEOUT_MINUTES >= 1, "STAFF_IDLE_TIMEOUT_MINUTES", "must be >= 1")
    need(
        1 <= settings.STAFF_SESSION_MAX_HOURS <= 24,
        "STAFF_SESSION_MAX_HOURS",
        "must be from 1 to 24 (hours)",
    )
    from participation.accounts.crypto import TotpKeyError, parse_keys

    try:
        parse_keys(settings.TOTP_ENCRYPTION_KEYS, settings.SECRET_KEY or "")
    except TotpKeyError as error:
        raise ConfigError(str(error)) from None
    need(settings.OUTBOX_MAX_ATTEMPTS >= 1, "OUTBOX_MAX_ATTEMPTS", "must be at least 1")
    need(settings.MAIL_TIMEOUT_SECONDS > 0, "MAIL_TIMEOUT_SECONDS", "must be more than 0")
    for name in ("ALERT_REMINDER_URGENT_MINUTES", "ALERT_REMINDER_CONCERN_MINUTES"):
        need(getattr(settings, name) >= 5, name, "must be at least 5 (minutes)")


def make_instance_dir(instance_path: Path) -> None:
    """``instance/`` is owner-only (0700): it holds the secret key and the SQLite file."""
    if not instance_path.exists():
        instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if instance_path.stat().st_mode & 0o077:
            instance_path.chmod(0o700)
    except PermissionError:  # not ours: the operator set it up; leave it
        pass


def secret_key_for(instance_path: Path) -> str:
    """Return the instance's secret key, creating it once with owner-only permissions."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    make_instance_dir(instance_path)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def is_local(config: Any) -> bool:
    """Demo mode, development (FLASK_DEBUG) or the tests: served on this machine only."""
    return bool(config.get("DEMO") or config.get("DEBUG") or config.get("TESTING"))


def load_config(app: Any, overrides: dict[str, Any] | None) -> Settings:
    """Fill ``app.config``: defaults, instance/config.py, environment, then explicit overrides.

    Raises ConfigError, naming the variable, for a value that cannot be used, and outside
    demo, development and testing when PARTICIPATION_PUBLIC_BASE_URL is not set.
    """
    kinds = setting_types()
    app.config.update(APP_CONSTANTS)
    app.config.update(asdict(Settings()))
    app.config.from_pyfile("config.py", silent=True)
    from_env: set[str] = set()
    for name, (kind, optional) in kinds.items():
        raw = os.environ.get(ENV_PREFIX + name)
        if raw is not None:
            app.config[name] = parse_value(ENV_PREFIX + name, kind, optional, raw)
            from_env.add(name)
    if overrides:
        app.config.update(overrides)
    values = {name: _typed(name, *kinds[name], app.config[name]) for name in kinds}

    local = is_local(app.config)
    if not values["DATABASE_URL"]:
        make_instance_dir(Path(app.instance_path))
        db_file = Path(app.instance_path) / "participation.sqlite3"
        values["DATABASE_URL"] = f"sqlite:///{db_file}"
    if not values["SECRET_KEY"]:
        values["SECRET_KEY"] = secret_key_for(Path(app.instance_path))
    second_factor_set = "REQUIRE_SECOND_FACTOR" in (overrides or {}) or (
        "REQUIRE_SECOND_FACTOR" in from_env
    )
    if values["DEMO"] and not second_factor_set:
        values["REQUIRE_SECOND_FACTOR"] = False
    if not values["PUBLIC_BASE_URL"]:
        if not local:
            raise ConfigError(
                f"{ENV_PREFIX}PUBLIC_BASE_URL is not set. Set it to the address people use "
                "for this site, e.g. https://voice.example.gov.uk: links in emails are built "
                "from it and requests for any other host are refused."
            )
        values["PUBLIC_BASE_URL"] = LOCAL_BASE_URL
    values["PUBLIC_BASE_URL"] = str(values["PUBLIC_BASE_URL"]).rstrip("/")
    settings = Settings(**values)
    _check(settings)
    app.config.update(asdict(settings))

    if "TRUSTED_HOSTS" not in (overrides or {}):
        public_host = urlsplit(settings.PUBLIC_BASE_URL or "").hostname
        trusted = [public_host] if public_host else []
        if local:
            trusted += [host for host in LOCAL_HOSTS if host not in trusted]
        app.config["TRUSTED_HOSTS"] = trusted
    app.config["REMEMBER_COOKIE_SECURE"] = settings.SESSION_COOKIE_SECURE
    app.config["PERMANENT_SESSION_LIFETIME"] = settings.STAFF_SESSION_MAX_HOURS * 3600
    app.config["RATELIMIT_STORAGE_URI"] = settings.REDIS_URL or "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.extensions["settings"] = settings
    return settings


def current_settings() -> Settings:
    """The running app's settings."""
    from flask import current_app

    settings: Settings = current_app.extensions["settings"]
    return settings

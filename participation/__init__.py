"""The participation platform: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from small register_* steps; ``config`` overrides everything else."""
    app = Flask(__name__, instance_relative_config=True)
    from participation.config import load_config

    load_config(app, config)
    from participation.links import remember_app

    remember_app(app)
    register_trusted_hosts(app)
    from participation.request_limits import register_body_limit

    register_body_limit(app)  # inside the proxy's middleware: ProxyFix stays outermost
    register_proxy(app)
    register_database(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errors(app)
    register_cli(app)
    warn_about_councils_without_a_lead(app)
    return app


def register_trusted_hosts(app: Flask) -> None:
    """Refuse a request for any host but the configured ones (TRUSTED_HOSTS), at once.

    Flask finds an untrusted Host (or X-Forwarded-Host behind a proxy) while matching the
    URL, but would still run the other before-request hooks; this one, registered first,
    answers 400 before anything else runs. The answer is a plain page: without a trusted
    host no URL can be built, so the usual error template cannot be drawn.
    """
    from flask import request
    from werkzeug.exceptions import SecurityError
    from werkzeug.wrappers import Response

    @app.before_request
    def refuse_untrusted_host() -> None:
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception

    @app.errorhandler(SecurityError)
    def untrusted_host(_error: SecurityError) -> Response:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Bad request</title></head><body><main>"
            '<h1>This site is not at that address</h1><p class="lead">'
            "Please check the address and try again.</p></main></body></html>"
        )
        return Response(page, status=400, mimetype="text/html")


def register_proxy(app: Flask) -> None:
    hops = int(app.config.get("PROXY_HOPS", 0) or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_database(app: Flask) -> None:
    from participation.db import db
    from participation.models import import_all_models

    # Every models module, so that Base.metadata knows every table.
    import_all_models()
    db.init_app(app)


def register_extensions(app: Flask) -> None:
    from participation.accounts.views import load_staff_user
    from participation.extensions import babel, csrf, limiter, login_manager
    from participation.i18n import select_locale

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_staff_user)
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = "basic"
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)


def register_url_converters(app: Flask) -> None:
    """Before the blueprints: a rule picks its converters when it is added."""
    from participation.security import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter


# Every module that adds routes, by name. A module offers ``register(app)`` or a ``bp``.
# Imported by name, so that the core (``participation``) imports no feature: the features
# (surveys, challenge cards) and the reporting layer above them (panel) plug in here.
BLUEPRINT_MODULES = (
    "participation.views",
    "participation.accounts.views",
    "participation.councils.views",
    "participation.recommendations.views",
    "participation.safeguarding.views",
    "surveys.views",
    "challenge_cards.views",
    "panel.views",
)


def register_blueprints(app: Flask) -> None:
    import importlib

    for name in BLUEPRINT_MODULES:
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
        else:
            app.register_blueprint(module.bp)


def register_request_hooks(app: Flask) -> None:
    from flask_babel import get_locale

    from participation.access import enforce_access
    from participation.accounts.models import Role
    from participation.i18n import text_direction
    from participation.security import register_security

    app.before_request(enforce_access)
    register_security(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["ROLES"] = Role
    app.jinja_env.globals["phone"] = phone_link
    app.jinja_env.filters["when"] = format_when
    from participation.emails import register_email_filters

    register_email_filters(app)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        locale = str(get_locale() or "en")
        return {
            "lang": locale,
            "text_dir": text_direction(locale),
            "languages": app.config["LANGUAGES"],
        }


def format_when(value: Any, short: bool = False, seconds: bool = False) -> str:
    """A date and time in Europe/London, written the British way: 23 Nov 2026, 14:05."""
    from flask_babel import format_datetime

    if value is None:
        return ""
    clock = "HH:mm:ss" if seconds else "HH:mm"
    return str(format_datetime(value, f"d MMM, {clock}" if short else f"d MMM yyyy, {clock}"))


def phone_link(number: str) -> Any:
    """A tappable phone number that stays left-to-right inside right-to-left text."""
    from markupsafe import Markup, escape

    digits = "".join(ch for ch in number if ch.isdigit())
    return Markup('<bdi dir="ltr"><a href="tel:{0}">{1}</a></bdi>').format(digits, escape(number))


def register_errors(app: Flask) -> None:
    from participation.errors import register_error_handlers

    register_error_handlers(app)


def warn_about_councils_without_a_lead(app: Flask) -> None:
    """Log each council whose alerts would email nobody (no lead account, no fallback)."""
    from participation.safeguarding.recipients import log_councils_without_a_lead

    log_councils_without_a_lead(app)


def register_cli(app: Flask) -> None:
    from participation.cli import register_commands

    register_commands(app)

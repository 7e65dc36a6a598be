"""The reporting layer plugs into the app here: its routes, jobs, commands and hooks.

``participation.create_app`` imports this module by name (``BLUEPRINT_MODULES``) and
calls ``register``; the core never imports ``panel``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask


def register(app: Flask) -> None:
    from panel.api.auth import authenticate
    from panel.api.views import bp as api_bp
    from panel.api.views import http_error as api_http_error
    from panel.api.views import tokens_bp
    from panel.cli import register_commands
    from panel.dashboards.views import bp as dashboards_bp
    from panel.dashboards.views import register_jobs
    from panel.evidence_review import bp as evidence_review_bp
    from panel.jobs import release_tick
    from participation import jobs

    for bp in (dashboards_bp, api_bp, tokens_bp, evidence_review_bp):
        app.register_blueprint(bp)
    register_jobs(app)
    minutes = int(app.config.get("PANEL_RELEASE_CHECK_MINUTES", 1440))
    jobs.register_tick(app, "panel_release", release_tick, timedelta(minutes=minutes))
    register_commands(app)
    # The API's own sign-in (tokens) and JSON errors, which the core calls through these.
    app.extensions["api_authenticate"] = authenticate
    app.extensions.setdefault("error_handlers_by_path", []).append(("/api/", api_http_error))

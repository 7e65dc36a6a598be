"""Absolute links to this site, built only from PARTICIPATION_PUBLIC_BASE_URL.

Every link that leaves the site (an email, a printed join code) comes from here. It never
looks at the request: a child's request with ``Host: evil.example`` or a forged
``X-Forwarded-Host`` cannot put another site's address into a lead's email. (Such a
request is refused anyway: TRUSTED_HOSTS is set from the same address.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context

_process_app: Flask | None = None


def remember_app(app: Flask) -> None:
    """Called by ``create_app``: the app that links and emails use outside an app context."""
    global _process_app
    _process_app = app


def site_app() -> Flask:
    """The current app; outside an app context (a thread, a script, a service called
    directly by a test) the process's app, of which production has exactly one."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _process_app is None:
        raise RuntimeError("no app: call create_app() first")
    return _process_app


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` on the configured public site.

    Works without a request (the outbox worker, the command line). A base address with a
    path (``https://council.example/voice``) keeps the path in front of every link.
    """
    app = site_app()
    base = urlsplit(str(app.config["PUBLIC_BASE_URL"]))
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)

"""Who may use which route: every view declares it, and one check enforces it.

A route without a declaration is refused (deny by default), so a new route cannot be
left open by accident; the route-role test walks the URL map and checks each one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from participation.accounts.models import Role

F = TypeVar("F", bound=Callable[..., Any])


class Audience(enum.Enum):
    PUBLIC = "public"  # anyone, signed in or not
    CHILD = "child"  # a child who has joined a group (pseudonymous cookie)
    STAFF = "staff"  # signed-in staff, optionally with one of some roles
    API = "api"  # a council's BI tool with a bearer token; session cookies never count


@dataclass(frozen=True)
class AccessRule:
    audience: Audience
    roles: frozenset[Role] = frozenset()

    def allows_staff(self, roles: frozenset[Role]) -> bool:
        return self.audience is Audience.STAFF and (not self.roles or bool(self.roles & roles))


def _declare(rule: AccessRule) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Open to everyone (sign-in page, join page, error pages, static files)."""
    return _declare(AccessRule(Audience.PUBLIC))(view)


def child_required(view: F) -> F:
    """For a child who has joined a group on this device."""
    return _declare(AccessRule(Audience.CHILD))(view)


def staff_required(view: F) -> F:
    """For any signed-in member of staff."""
    return _declare(AccessRule(Audience.STAFF))(view)


def role_required(*roles: Role) -> Callable[[F], F]:
    """For signed-in staff holding at least one of ``roles``."""
    if not roles:
        raise ValueError("role_required needs at least one role; use staff_required")
    return _declare(AccessRule(Audience.STAFF, frozenset(roles)))


def api_token_required(view: F) -> F:
    """For a council's BI tool: ``Authorization: Bearer <token>``; sets ``g.api_token``."""
    return _declare(AccessRule(Audience.API))(view)


def rule_for(endpoint: str | None) -> AccessRule | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return AccessRule(Audience.PUBLIC)
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def _session_ended() -> str | None:
    """Sign staff out after a spell without activity, or when the session reaches its
    absolute age (counted from sign-in, never extended by activity); says which."""
    if not current_user.is_authenticated:
        return None
    now = datetime.now(UTC).timestamp()
    idle_limit = current_app.config["STAFF_IDLE_TIMEOUT_MINUTES"] * 60
    age_limit = current_app.config["STAFF_SESSION_MAX_HOURS"] * 3600
    last = session.get("seen_at")
    started = session.get("signed_in_at")
    if started is None:
        # A session from before the cap was counted: its age starts now, once.
        session["signed_in_at"] = started = now
    reason = None
    if last is not None and now - float(last) > idle_limit:
        reason = "idle"
    elif now - float(started) > age_limit:
        reason = "age"
    if reason is not None:
        from participation import audit
        from participation.db import db

        audit.record(
            db.session,
            audit.AuditAction.IDLE_TIMEOUT,
            actor=current_user._get_current_object(),
            detail={"reason": reason},
        )
        db.session.commit()
        logout_user()
        session.clear()
        return reason
    session["seen_at"] = now
    return None


def enforce_access() -> Any:
    """before_request: apply the route's declared rule."""
    endpoint = request.endpoint
    if endpoint is None:  # no such route: let the 404 handler answer
        return None
    rule = rule_for(endpoint)
    if rule is not None and rule.audience is Audience.API:
        # Decided before the staff session is read: a signed-in browser is no API client.
        # The API's own sign-in, registered by the reporting layer that owns the tokens.
        return current_app.extensions["api_authenticate"]()
    ended = _session_ended()
    if ended is not None:
        if ended == "idle":
            flash(
                _("You were signed out after a spell without activity. Please sign in again."),
                "info",
            )
        else:
            flash(_("You have been signed in for a long time. Please sign in again."), "info")
        return redirect(url_for("accounts.sign_in", next=_next_target()))
    if rule is None:
        current_app.logger.error("route %s declares no access rule: refused", endpoint)
        abort(403)
    if rule.audience is Audience.PUBLIC:
        return None
    if rule.audience is Audience.CHILD:
        from participation.councils.services import current_participant

        if current_participant() is None:
            flash(_("Please join your group first."), "info")
            return redirect(url_for("councils.join"))
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.sign_in", next=_next_target()))
    if not rule.allows_staff(current_user.roles):
        abort(403)
    g.staff = current_user._get_current_object()
    return None


def _next_target() -> str | None:
    return request.full_path.rstrip("?") if request.method == "GET" else None

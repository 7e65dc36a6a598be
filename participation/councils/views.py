"""Children join a group with a code; staff manage groups and their codes."""

from __future__ import annotations

import re
from typing import Any

import segno
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from participation.access import child_required, public, role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import Role
from participation.councils import services
from participation.councils.forms import GroupForm, GroupWorkerForm, JoinForm
from participation.councils.models import AgeBand, GroupKind, JoinCode
from participation.db import db
from participation.extensions import csrf
from participation.forms import choices
from participation.links import public_url
from participation.security import join_code_limit

bp = Blueprint("councils", __name__)

GROUP_STAFF = (Role.ADMIN, Role.PARTICIPATION_WORKER)
ROW_ID = re.compile(r"[0-9]{1,9}", re.ASCII)


def _set_child_cookie(response: Response, token: str) -> None:
    config = current_app.config
    response.set_cookie(
        config["CHILD_COOKIE_NAME"],
        token,
        max_age=config["CHILD_COOKIE_DAYS"] * 24 * 3600,
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


# Checks its own token: a page left open too long keeps the code the child typed.
@bp.route("/join", methods=["GET", "POST"])
@csrf.exempt
@public
# One budget per address for every route that checks a join code; only misses count.
@join_code_limit
def join() -> Any:
    """A child joins their group with the code their worker gave them."""
    form = JoinForm(code=request.args.get("code", ""))
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        if form.errors.pop("csrf_token", None) is not None:
            form.csrf_token.errors = []
            form.code.errors = [
                *form.code.errors,
                _("This page was open a long time. Your code is still here: tap Join again."),
            ]
            status = 400
        return render_template("councils/join.html", form=form), status
    join_code = services.find_join_code(db.session, form.code.data or "")
    if join_code is None or not join_code.group.active:
        form.code.errors = [
            _("We could not find that code. Check it with your worker and try again.")
        ]
        return render_template("councils/join.html", form=form), 404
    if join_code.retired_at is not None:
        form.code.errors = [_("This code has changed. Ask your worker for the new one.")]
        return render_template("councils/join.html", form=form), 410
    existing = services.current_participant()
    if existing is not None:
        # One phone, one child: joining another group keeps the token and every group.
        try:
            membership = services.add_membership(db.session, existing, join_code.group)
        except services.OtherCouncil:
            db.session.rollback()
            form.code.errors = [
                _("This phone is already in a group of another council. Ask your worker.")
            ]
            return render_template("councils/join.html", form=form), 409
        db.session.commit()
        if membership.group_id != existing.group_id:
            flash(_("You are in %(group)s now too.", group=join_code.group.name), "success")
        return redirect(url_for(".child_home"))
    _participant, token = services.join_group(db.session, join_code.group)
    db.session.commit()
    response = redirect(url_for(".child_home"))
    _set_child_cookie(response, token)
    return response


@bp.get("/j/<code>")
@public
@join_code_limit
def join_link(code: str) -> Any:
    """A join link or QR code: shows the group and asks the child to tap to join."""
    join_code = services.find_join_code(db.session, code)
    if join_code is None or join_code.retired_at is not None or not join_code.group.active:
        form = JoinForm()
        form.code.errors = [_("This link does not work any more. Ask your worker for the code.")]
        return render_template("councils/join.html", form=form), 404
    form = JoinForm(code=join_code.display)
    return render_template("councils/join.html", form=form, group=join_code.group)


@bp.get("/me")
@child_required
def child_home() -> str:
    """The child's start page in their group."""
    participant = services.current_participant()
    assert participant is not None
    # Feature packages (surveys, cards) add what the child can do here.
    sections = [
        section(participant) for section in current_app.extensions.get("child_home_sections", [])
    ]
    return render_template(
        "councils/child_home.html",
        participant=participant,
        groups=services.groups_of(db.session, participant),
        form=ConfirmForm(),
        sections=sections,
    )


@bp.post("/me/forget")
@child_required
def forget_device() -> Response:
    """Stop this device remembering the child (what they gave is kept, unnamed)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    response = redirect(url_for("core.index"))
    response.delete_cookie(current_app.config["CHILD_COOKIE_NAME"])
    flash(_("This phone has forgotten you. You can join again with your code."), "info")
    return response


def join_link_and_qr(code: JoinCode | None, scale: int) -> tuple[str | None, str | None]:
    """A group's join link and its QR code (an SVG data URI drawn here, no third party)."""
    if code is None:
        return None, None
    # The configured public address: a printed code must not carry whatever Host was used.
    link = public_url("councils.join_link", code=code.code)
    return link, segno.make(link, error="m").svg_data_uri(scale=scale, border=2)


@bp.get("/staff/groups")
@role_required(*GROUP_STAFF)
def groups() -> str:
    """The council's groups and their join codes."""
    return render_template(
        "councils/groups.html", groups=services.groups_for_staff(db.session, current_user)
    )


@bp.route("/staff/groups/new", methods=["GET", "POST"])
@role_required(*GROUP_STAFF)
def new_group() -> Any:
    """Create a group; it gets its first join code."""
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = services.create_group(
                db.session,
                current_user.council,
                name=form.name.data or "",
                age_band=AgeBand(form.age_band.data),
                kind=GroupKind(form.kind.data),
                by=current_user._get_current_object(),
            )
        except services.GroupError as error:
            db.session.rollback()
            form.name.errors = [str(error)]
        else:
            db.session.commit()
            flash(_("Group created."), "success")
            return redirect(url_for(".group", group_id=group.id))
    return render_template("councils/new_group.html", form=form), (
        422 if request.method == "POST" else 200
    )


@bp.get("/staff/groups/<int:group_id>")
@role_required(*GROUP_STAFF)
def group(group_id: int) -> tuple[str, int]:
    """A group: its join code, link and QR code."""
    found = services.group_for_staff(db.session, group_id, current_user) or abort(404)
    worker_form = _worker_form(str(found.worker_id or ""))
    return _render_group(found, worker_form)


def _worker_form(current: str | None = None) -> GroupWorkerForm:
    form = GroupWorkerForm() if current is None else GroupWorkerForm(worker=current)
    form.worker.choices = choices(
        [("", _("Nobody yet"))]
        + [
            (str(w.id), f"{w.display_name} ({w.email})")
            for w in services.workers_for_staff(db.session, current_user)
        ]
    )
    return form


def _render_group(found: Any, worker_form: GroupWorkerForm, status: int = 200) -> tuple[str, int]:
    link, qr = join_link_and_qr(found.current_join_code, scale=6)
    return render_template(
        "councils/group.html",
        group=found,
        link=link,
        qr=qr,
        form=ConfirmForm(),
        worker_form=worker_form,
        to_confirm=services.joins_to_confirm(db.session, found),
    ), status


@bp.post("/staff/groups/<int:group_id>/confirm-joins")
@role_required(*GROUP_STAFF)
def confirm_joins(group_id: int) -> Response:
    """The worker confirms joins beyond the group's recorded size: those children count."""
    found = services.group_for_staff(db.session, group_id, current_user) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("membership") if ROW_ID.fullmatch(v)]
    confirmed = services.confirm_joins(
        db.session, found, ids, by=current_user._get_current_object()
    )
    db.session.commit()
    flash(_("%(n)s joins confirmed: their answers now count.", n=confirmed), "success")
    return redirect(url_for(".group", group_id=found.id))


@bp.post("/staff/groups/<int:group_id>/worker")
@role_required(*GROUP_STAFF)
def set_worker(group_id: int) -> Any:
    """Name the worker who runs the group: the safeguarding lead sees whom to ask."""
    found = services.group_for_staff(db.session, group_id, current_user) or abort(404)
    form = _worker_form()
    if not form.validate_on_submit():
        return _render_group(found, form, 422)
    chosen = next(
        (
            w
            for w in services.workers_for_staff(db.session, current_user)
            if str(w.id) == form.worker.data
        ),
        None,
    )
    services.set_group_worker(db.session, found, chosen, by=current_user._get_current_object())
    db.session.commit()
    flash(
        _("%(worker)s runs this group.", worker=chosen.display_name)
        if chosen
        else _("This group has no worker named."),
        "success",
    )
    return redirect(url_for(".group", group_id=found.id))


@bp.post("/staff/groups/<int:group_id>/rotate-code")
@role_required(*GROUP_STAFF)
def rotate_code(group_id: int) -> Response:
    """Retire the group's code and issue a new one (children already in stay in)."""
    found = services.group_for_staff(db.session, group_id, current_user) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    new = services.rotate_join_code(db.session, found, by=current_user._get_current_object())
    db.session.commit()
    flash(_("New code: %(code)s. The old code no longer works.", code=new.display), "success")
    return redirect(url_for(".group", group_id=found.id))

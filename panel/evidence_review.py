"""Participation workers confirm the recommendations children's free-text answers evidence.

It reads survey answers (through ``surveys.reads``), so it lives above the core: only
confirmed tags count in the panel's evidence matrix.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation import audit
from participation.access import role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import Role
from participation.db import db
from participation.recommendations import services
from participation.recommendations.queries import active_recommendations
from participation.subjects import SubjectType
from surveys import reads

bp = Blueprint("evidence_review", __name__)


@bp.get("/staff/evidence/answers")
@role_required(Role.PARTICIPATION_WORKER)
def answers() -> str:
    """Children's free-text survey answers, to confirm the recommendations they evidence.

    Only confirmed tags count in the panel's evidence matrix. Each answer shown is audited
    as a view of a child's words.
    """
    me = current_user._get_current_object()
    pending_only = request.args.get("show", "pending") != "all"
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    rows, more = reads.answers_to_review(
        db.session, me.council_id, pending_only=pending_only, page=page
    )
    for row in rows:
        audit.free_text_viewed(db.session, me, "survey_answer", row.Answer.id)
    db.session.commit()
    return render_template(
        "recommendations/answers.html",
        rows=rows,
        tags={
            row.Answer.id: services.tags_for(
                db.session, SubjectType.SURVEY_ANSWER, row.Answer.id, me.council_id
            )
            for row in rows
        },
        recommendations=active_recommendations(db.session),
        pending_only=pending_only,
        page=page,
        more=more,
        confirm=ConfirmForm(),
    )


@bp.post("/staff/evidence/answers/<int:answer_id>/tags")
@role_required(Role.PARTICIPATION_WORKER)
def answer_tags(answer_id: int) -> Any:
    """Confirm, reject or add tags on one free-text answer."""
    me = current_user._get_current_object()
    answer = reads.free_text_answer(db.session, answer_id, me.council_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.apply_decisions(
            db.session,
            subject_type=SubjectType.SURVEY_ANSWER,
            subject_id=answer.id,
            council_id=me.council_id,
            choices=request.form,
            add_code=request.form.get("add_code", ""),
            by=me,
        )
        db.session.commit()
    except services.TaggingError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Tags saved."), "success")
    return redirect(url_for(".answers", show=request.form.get("show", "pending")))

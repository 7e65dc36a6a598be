"""Participation workers moderate cards: send, return, decline, merge, approve, close, tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from challenge_cards import queries, services
from challenge_cards.forms import (
    CloseForm,
    GroupCardForm,
    MergeForm,
    NoteForm,
    SendForm,
    VersionedForm,
)
from challenge_cards.models import CardStatus, ChallengeCard
from challenge_cards.redaction import find_personal_details, highlight
from challenge_cards.views._common import (
    MAX_PAGE,
    WORKER,
    _chosen_service,
    _end_of_day,
    _me,
    _run_step,
    _service_choices,
    bp,
    new_submission_key,
    submission_key,
)
from participation import audit
from participation.access import role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import StaffUser
from participation.councils.services import groups_for_staff
from participation.db import db, utcnow
from participation.forms import choices, parse_row_id
from participation.recommendations import services as tagging
from participation.recommendations.queries import active_recommendations
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType


@bp.get("/staff/cards")
@role_required(WORKER)
def queue() -> str:
    """The moderation queue: 25 a page, with filters in the address."""
    status_value = request.args.get("status", "")
    status = CardStatus(status_value) if status_value in {s.value for s in CardStatus} else None
    page = queries.moderation_queue(
        db.session,
        current_user,
        status=status,
        group_id=parse_row_id(request.args.get("group")),
        service_id=parse_row_id(request.args.get("service")),
        page=min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE),
    )
    return render_template(
        "challenge_cards/queue.html",
        page=page,
        held=queries.held_ids(db.session, [c.id for c in page.cards]),
        status=status_value,
        statuses=list(CardStatus),
        groups=groups_for_staff(db.session, current_user),
        services=queries.active_services(db.session, current_user.council_id),
        now=utcnow(),
    )


@bp.route("/staff/cards/new", methods=["GET", "POST"])
@role_required(WORKER)
def staff_new_card() -> Any:
    """A worker raises a card for a group meeting."""
    form = GroupCardForm()
    groups = groups_for_staff(db.session, current_user)
    form.group.choices = choices([(str(g.id), g.name) for g in groups])
    form.service.choices = _service_choices(current_user.council_id)
    key = submission_key(form)
    if form.validate_on_submit():
        group = next(g for g in groups if str(g.id) == form.group.data)
        try:
            prepared = services.prepare(form.what_change.data, form.why_matters.data)
            card, _alert = services.raise_card(
                db.session,
                prepared,
                group=group,
                service=_chosen_service(current_user.council_id, form.service.data),
                about_me=bool(form.about_me.data),
                by=current_user._get_current_object(),
                submission_key=key,
            )
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            if isinstance(error, services.SubmissionKeyUsed):
                form.submission_key.data = new_submission_key()
            form.what_change.errors = [str(error)]
        else:
            flash(_("Card #%(id)s raised.", id=card.id), "success")
            return redirect(url_for(".card", card_id=card.id))
    return render_template("challenge_cards/staff_new.html", form=form), (
        422 if request.method == "POST" else 200
    )


def _card_page(card: ChallengeCard, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The worker's view of one card: the child's words with personal details marked.

    The public text starts empty: the worker writes it, in their own words, and it is never
    filled in from what the child wrote (which may be a disclosure).
    """
    audit.free_text_viewed(
        db.session, current_user._get_current_object(), "challenge_card", card.id
    )
    db.session.commit()
    words = f"{card.what_change}\n\n{card.why_matters}".strip()
    details = find_personal_details(words)
    send_form = forms.pop("send_form", None) or SendForm(
        version=card.version,
        public_text=card.public_text or "",
        service=str(card.service_id or ""),
    )
    send_form.service.choices = choices(
        [(str(s.id), s.name) for s in queries.active_services(db.session, card.council_id)]
    )
    send_form.responder.choices = choices(
        [(str(u.id), u.display_name) for u in queries.responders(db.session, card.council_id)]
    )
    defaults = {
        "note_form": NoteForm(version=card.version),
        "merge_form": MergeForm(version=card.version),
        "close_form": CloseForm(version=card.version),
        "approve_form": VersionedForm(version=card.version),
        "private_form": VersionedForm(version=card.version),
        "confirm": ConfirmForm(),
    }
    defaults.update(forms)
    alerts = db.session.scalars(
        select(SafeguardingAlert).where(
            SafeguardingAlert.subject_type == SubjectType.CHALLENGE_CARD,
            SafeguardingAlert.subject_id == card.id,
        )
    ).all()
    return render_template(
        "challenge_cards/card.html",
        card=card,
        highlighted=highlight(words, details),
        details=details,
        send_form=send_form,
        tags=tagging.tags_for(db.session, SubjectType.CHALLENGE_CARD, card.id, card.council_id),
        recommendations=active_recommendations(db.session),
        alerts=alerts,
        held=queries.is_held(db.session, card),
        now=utcnow(),
        **defaults,
    ), status


@bp.get("/staff/cards/<int:card_id>")
@role_required(WORKER)
def card(card_id: int) -> tuple[str, int]:
    """One card for moderation (viewing the child's words is audited)."""
    found = queries.card_for_staff(db.session, card_id, current_user) or abort(404)
    return _card_page(found)


def _step(
    card_id: int, form: Any, form_name: str, change: Callable[[ChallengeCard], None], done: str
) -> Any:
    """A worker's step on a card of their council."""
    found = queries.card_for_staff(db.session, card_id, current_user) or abort(404)
    return _run_step(found, form, form_name, change, done, _card_page, ".card")


@bp.post("/staff/cards/<int:card_id>/send")
@role_required(WORKER)
def send(card_id: int) -> Any:
    """Send to a service with a responder and a reply date."""
    form = SendForm()
    form.service.choices = choices(
        [(str(s.id), s.name) for s in queries.active_services(db.session, current_user.council_id)]
    )
    form.responder.choices = choices(
        [
            (str(u.id), u.display_name)
            for u in queries.responders(db.session, current_user.council_id)
        ]
    )

    def change(card: ChallengeCard) -> None:
        service = _chosen_service(card.council_id, form.service.data)
        responder_id = parse_row_id(form.responder.data)
        responder = db.session.get(StaffUser, responder_id) if responder_id is not None else None
        if service is None or responder is None:
            raise services.CardError(_("Choose a service and a responder."))
        services.send_to_service(
            db.session,
            card,
            public_text=form.public_text.data or "",
            service=service,
            responder=responder,
            due_at=_end_of_day(form.due_on.data) if form.due_on.data else None,
            by=_me(),
        )

    return _step(card_id, form, "send_form", change, _("Card sent to the service."))


@bp.post("/staff/cards/<int:card_id>/return")
@role_required(WORKER)
def return_card(card_id: int) -> Any:
    """Back to the group with a question."""
    form = NoteForm()
    return _step(
        card_id,
        form,
        "note_form",
        lambda c: services.return_to_group(db.session, c, form.note.data or "", _me()),
        _("Card returned with your question."),
    )


@bp.post("/staff/cards/<int:card_id>/decline")
@role_required(WORKER)
def decline(card_id: int) -> Any:
    """Decline, with a reason written for the child."""
    form = NoteForm()
    return _step(
        card_id,
        form,
        "note_form",
        lambda c: services.decline(db.session, c, form.note.data or "", _me()),
        _("Card declined."),
    )


@bp.post("/staff/cards/<int:card_id>/merge")
@role_required(WORKER)
def merge(card_id: int) -> Any:
    """Join with a card asking the same thing."""
    form = MergeForm()

    def change(card: ChallengeCard) -> None:
        number = parse_row_id((form.into.data or "").lstrip("#"))
        into = queries.card_for_staff(db.session, number, _me()) if number is not None else None
        if into is None:
            raise services.CardError(_("There is no card with that number."))
        services.merge(db.session, card, into, _me())

    return _step(card_id, form, "merge_form", change, _("Cards joined."))


@bp.post("/staff/cards/<int:card_id>/private")
@role_required(WORKER)
def make_private(card_id: int) -> Any:
    """About the child's own life: a worker follows it up, and it is never published."""
    form = VersionedForm()
    return _step(
        card_id,
        form,
        "private_form",
        lambda c: services.make_private(db.session, c, _me()),
        _("The card is private now: follow it up with the child."),
    )


@bp.post("/staff/cards/<int:card_id>/follow-up")
@role_required(WORKER)
def follow_up(card_id: int) -> Any:
    """A card about the child's own life: how it was followed up."""
    form = NoteForm()
    return _step(
        card_id,
        form,
        "note_form",
        lambda c: services.follow_up_privately(db.session, c, form.note.data or "", _me()),
        _("Follow-up recorded."),
    )


@bp.post("/staff/cards/<int:card_id>/approve")
@role_required(WORKER)
def approve(card_id: int) -> Any:
    """Publish the service's answer to children."""
    form = VersionedForm()
    return _step(
        card_id,
        form,
        "approve_form",
        lambda c: services.approve_answer(db.session, c, _me()),
        _("Answer published."),
    )


@bp.post("/staff/cards/<int:card_id>/send-back")
@role_required(WORKER)
def send_back(card_id: int) -> Any:
    """The answer needs work before children see it."""
    form = NoteForm()
    return _step(
        card_id,
        form,
        "note_form",
        lambda c: services.send_answer_back(db.session, c, form.note.data or "", _me()),
        _("Answer sent back to the service."),
    )


@bp.post("/staff/cards/<int:card_id>/close")
@role_required(WORKER)
def close(card_id: int) -> Any:
    """Write down what changed."""
    form = CloseForm()
    return _step(
        card_id,
        form,
        "close_form",
        lambda c: services.close(db.session, c, form.what_changed.data or "", _me()),
        _("Card closed."),
    )


@bp.post("/staff/cards/<int:card_id>/tags")
@role_required(WORKER)
def decide_tags(card_id: int) -> Any:
    """Confirm, reject or add recommendation tags."""
    found = queries.card_for_staff(db.session, card_id, current_user) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        tagging.apply_decisions(
            db.session,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=found.id,
            council_id=found.council_id,
            choices=request.form,
            add_code=request.form.get("add_code", ""),
            by=_me(),
        )
        db.session.commit()
    except tagging.TaggingError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Tags saved."), "success")
    return redirect(url_for(".card", card_id=card_id))

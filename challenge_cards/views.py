"""Challenge cards: children raise and follow them; workers moderate; services answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from challenge_cards import queries, services
from challenge_cards.forms import (
    AnswerForm,
    CardForm,
    CloseForm,
    FeedbackForm,
    GroupCardForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    SendForm,
    ServiceForm,
    VersionedForm,
)
from challenge_cards.models import AnswerKind, CardStatus, ChallengeCard, ChildFeedback, Service
from challenge_cards.redaction import find_personal_details, highlight, redact
from participation import audit
from participation.access import child_required, role_required
from participation.accounts.forms import ConfirmForm
from participation.accounts.models import Role, StaffUser
from participation.councils.models import Group
from participation.councils.services import current_participant, groups_for_staff
from participation.db import db, utcnow
from participation.forms import choices, parse_row_id
from participation.recommendations import services as tagging
from participation.recommendations.queries import active_recommendations
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType

bp = Blueprint("challenge_cards", __name__, template_folder="templates")
LONDON = ZoneInfo("Europe/London")
WORKER = Role.PARTICIPATION_WORKER
NOT_SURE = ""
MAX_PAGE = 10_000  # a page number beyond any queue (a larger one overflows SQLite's integers)


def _service_choices(council_id: int) -> list[Any]:
    return choices(
        [(NOT_SURE, _("I'm not sure"))]
        + [(str(s.id), s.name) for s in queries.active_services(db.session, council_id)]
    )


def _chosen_service(council_id: int, value: str | None) -> Service | None:
    service_id = parse_row_id(value)
    found = db.session.get(Service, service_id) if service_id is not None else None
    return found if found is not None and found.council_id == council_id else None


def _after_raise(alert: SafeguardingAlert | None, next_url: str) -> Response:
    if alert is not None and alert.participant_id is not None:
        return redirect(url_for("safeguarding.child_help", alert_id=alert.id, next=next_url))
    return redirect(next_url)


# Children ------------------------------------------------------------------------------


def child_home_section(participant: Any) -> dict[str, Any]:
    return {
        "template": "challenge_cards/_child_home.html",
        "cards": queries.cards_for_child(db.session, participant),
    }


@bp.route("/cards/new", methods=["GET", "POST"])
@child_required
def new_card() -> Any:
    """A child raises a card: what should change, why, and who should change it."""
    participant = current_participant()
    assert participant is not None
    form = CardForm()
    form.service.choices = _service_choices(participant.council_id)
    if form.validate_on_submit():
        try:
            prepared = services.prepare(form.what_change.data, form.why_matters.data)
            card, alert = services.raise_card(
                db.session,
                prepared,
                group=participant.group,
                service=_chosen_service(participant.council_id, form.service.data),
                about_me=bool(form.about_me.data),
                participant=participant,
            )
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            form.what_change.errors = [str(error)]
        except OperationalError:
            db.session.rollback()
            form.form_errors.append(
                _("Not sent yet: we could not reach our computer. Please try again in a moment.")
            )
            return render_template("challenge_cards/new.html", form=form), 503
        else:
            return _after_raise(alert, url_for(".my_card", card_id=card.id))
    status = 422 if request.method == "POST" else 200
    return render_template("challenge_cards/new.html", form=form), status


@bp.get("/cards/mine")
@child_required
def my_cards() -> str:
    """The child's own cards and where each one is."""
    participant = current_participant()
    assert participant is not None
    return render_template(
        "challenge_cards/mine.html", cards=queries.cards_for_child(db.session, participant)
    )


@bp.get("/cards/mine/<int:card_id>")
@child_required
def my_card(card_id: int) -> str:
    """One of the child's cards: every step, the answer, and whether it fixed it."""
    participant = current_participant()
    assert participant is not None
    card = queries.card_for_child(db.session, card_id, participant) or abort(404)
    reply_form = (
        ReplyForm(what_change=card.what_change, why_matters="")
        if card.status is CardStatus.RETURNED
        else None
    )
    return render_template(
        "challenge_cards/my_card.html",
        card=card,
        reply_form=reply_form,
        feedback_form=FeedbackForm(),
    )


@bp.post("/cards/mine/<int:card_id>/reply")
@child_required
def child_reply(card_id: int) -> Any:
    """The child answers the worker's question; the card goes back in."""
    participant = current_participant()
    assert participant is not None
    card = queries.card_for_child(db.session, card_id, participant) or abort(404)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            prepared = services.prepare(form.what_change.data, form.why_matters.data)
            alert = services.reply(db.session, card, prepared, participant=participant)
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            form.what_change.errors = [str(error)]
        else:
            flash(_("Thank you. We have your answer."), "success")
            return _after_raise(alert, url_for(".my_card", card_id=card.id))
    return render_template(
        "challenge_cards/my_card.html", card=card, reply_form=form, feedback_form=FeedbackForm()
    ), 422


@bp.post("/cards/mine/<int:card_id>/feedback")
@child_required
def feedback(card_id: int) -> Any:
    """Did the answer fix it?"""
    participant = current_participant()
    assert participant is not None
    card = queries.card_for_child(db.session, card_id, participant) or abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        return render_template(
            "challenge_cards/my_card.html", card=card, reply_form=None, feedback_form=form
        ), 422
    try:
        services.give_feedback(db.session, card, participant, ChildFeedback(form.feedback.data))
        db.session.commit()
    except services.CardError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Thank you for telling us."), "success")
    return redirect(url_for(".my_card", card_id=card.id))


@bp.get("/you-said-we-did")
@child_required
def board() -> str:
    """You said, we did: what children asked for and what changed."""
    participant = current_participant()
    assert participant is not None
    return render_template(
        "challenge_cards/board.html", cards=queries.board(db.session, participant.council_id)
    )


# Participation workers -----------------------------------------------------------------


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
            )
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            form.what_change.errors = [str(error)]
        else:
            flash(_("Card #%(id)s raised.", id=card.id), "success")
            return redirect(url_for(".card", card_id=card.id))
    return render_template("challenge_cards/staff_new.html", form=form), (
        422 if request.method == "POST" else 200
    )


def _card_page(card: ChallengeCard, status: int = 200, **forms: Any) -> tuple[str, int]:
    """The worker's view of one card: the child's words with personal details marked."""
    audit.free_text_viewed(
        db.session, current_user._get_current_object(), "challenge_card", card.id
    )
    db.session.commit()
    words = f"{card.what_change}\n\n{card.why_matters}".strip()
    details = find_personal_details(words)
    send_form = forms.pop("send_form", None) or SendForm(
        version=card.version,
        public_text=card.public_text or redact(card.what_change),
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
        now=utcnow(),
        **defaults,
    ), status


@bp.get("/staff/cards/<int:card_id>")
@role_required(WORKER)
def card(card_id: int) -> tuple[str, int]:
    """One card for moderation (viewing the child's words is audited)."""
    found = queries.card_for_staff(db.session, card_id, current_user) or abort(404)
    return _card_page(found)


def _run_step(
    found: ChallengeCard,
    form: Any,
    form_name: str,
    change: Callable[[ChallengeCard], None],
    done: str,
    page: Callable[..., tuple[str, int]],
    endpoint: str,
) -> Any:
    """Run one step on a card, refusing stale pages and keeping what was typed.

    Shared by the worker's and the responder's pages: ``page`` renders the card again with
    the form as sent, and ``endpoint`` is where a successful step goes back to.
    """
    if not form.validate_on_submit():
        return page(found, 422, **{form_name: form})
    if str(found.version) != (form.version.data or ""):
        flash(
            _("Someone else changed this card while you had it open. Check it, then try again."),
            "error",
        )
        return page(found, 409, **{form_name: form})
    try:
        change(found)
        db.session.commit()
    except services.CardError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return page(found, 422, **{form_name: form})
    except StaleDataError:
        db.session.rollback()
        flash(
            _("Someone else changed this card at the same moment. Check it, then try again."),
            "error",
        )
        return redirect(url_for(endpoint, card_id=found.id))
    flash(done, "success")
    return redirect(url_for(endpoint, card_id=found.id))


def _step(
    card_id: int, form: Any, form_name: str, change: Callable[[ChallengeCard], None], done: str
) -> Any:
    """A worker's step on a card of their council."""
    found = queries.card_for_staff(db.session, card_id, current_user) or abort(404)
    return _run_step(found, form, form_name, change, done, _card_page, ".card")


def _me() -> StaffUser:
    return current_user._get_current_object()


def _end_of_day(day: Any) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(
        UTC
    ) - timedelta(minutes=1)


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


# Service responders --------------------------------------------------------------------


@bp.get("/staff/responses")
@role_required(Role.SERVICE_RESPONDER)
def responses() -> str:
    """Cards sent to me."""
    return render_template(
        "challenge_cards/responses.html",
        cards=queries.cards_for_responder(db.session, current_user),
        now=utcnow(),
    )


def _respond_page(card: ChallengeCard, status: int = 200, **forms: Any) -> tuple[str, int]:
    defaults = {
        "answer_form": AnswerForm(version=card.version),
        "close_form": CloseForm(version=card.version),
    }
    defaults.update(forms)
    return render_template(
        "challenge_cards/respond.html", card=card, now=utcnow(), **defaults
    ), status


@bp.get("/staff/responses/<int:card_id>")
@role_required(Role.SERVICE_RESPONDER)
def respond(card_id: int) -> tuple[str, int]:
    """A card sent to me: its public words only, and my answer."""
    found = queries.card_for_responder(db.session, card_id, current_user) or abort(404)
    return _respond_page(found)


def _responder_step(
    card_id: int, form: Any, form_name: str, change: Callable[[ChallengeCard], None], done: str
) -> Any:
    """A responder's step on a card sent to them."""
    found = queries.card_for_responder(db.session, card_id, current_user) or abort(404)
    return _run_step(found, form, form_name, change, done, _respond_page, ".respond")


@bp.post("/staff/responses/<int:card_id>/answer")
@role_required(Role.SERVICE_RESPONDER)
def answer(card_id: int) -> Any:
    """Answer: what we will do, or what we can't do and why."""
    form = AnswerForm()
    return _responder_step(
        card_id,
        form,
        "answer_form",
        lambda c: services.answer(
            db.session, c, AnswerKind(form.kind.data), form.text.data or "", _me()
        ),
        _("Thank you. A participation worker will check your answer before children see it."),
    )


@bp.post("/staff/responses/<int:card_id>/close")
@role_required(Role.SERVICE_RESPONDER)
def responder_close(card_id: int) -> Any:
    """Write down what changed."""
    form = CloseForm()
    return _responder_step(
        card_id,
        form,
        "close_form",
        lambda c: services.close(db.session, c, form.what_changed.data or "", _me()),
        _("Card closed."),
    )


# Administrators: the council's services --------------------------------------------------


@bp.route("/staff/services", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def council_services() -> Any:
    """The services cards can be sent to."""
    form = ServiceForm()
    if form.validate_on_submit():
        name = form.name.data or ""
        exists = db.session.scalar(
            select(Service).where(
                Service.council_id == current_user.council_id, Service.name == name
            )
        )
        if exists is not None:
            form.name.errors = [_("There is already a service with that name.")]
        else:
            db.session.add(Service(council_id=current_user.council_id, name=name))
            db.session.commit()
            flash(_("Service added."), "success")
            return redirect(url_for(".council_services"))
    rows = db.session.scalars(
        select(Service).where(Service.council_id == current_user.council_id).order_by(Service.name)
    ).all()
    status = 422 if request.method == "POST" else 200
    return render_template(
        "challenge_cards/services.html", form=form, services=rows, confirm=ConfirmForm()
    ), status


@bp.post("/staff/services/<int:service_id>/active")
@role_required(Role.ADMIN)
def toggle_service(service_id: int) -> Response:
    """Stop offering a service, or offer it again (cards already sent keep it)."""
    found = db.session.get(Service, service_id)
    if found is None or found.council_id != current_user.council_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found.active = not found.active
    db.session.commit()
    return redirect(url_for(".council_services"))


def register(app: Any) -> None:
    from challenge_cards.cli import cards_cli

    app.register_blueprint(bp)
    app.extensions.setdefault("child_home_sections", []).append(child_home_section)
    app.cli.add_command(cards_cli)


__all__ = ["Group", "bp", "register"]

"""Children raise cards, follow them, reply, and read "you said, we did"."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from challenge_cards import queries, services
from challenge_cards.forms import CardForm, FeedbackForm, ReplyForm
from challenge_cards.models import CardEventKind, CardStatus, ChallengeCard, ChildFeedback
from challenge_cards.views._common import (
    _after_raise,
    _chosen_service,
    _service_choices,
    bp,
    new_submission_key,
    submission_key,
)
from participation.access import child_required
from participation.councils.services import current_participant, groups_of
from participation.db import db
from participation.extensions import csrf
from participation.forms import choices


def child_home_section(participant: Any) -> dict[str, Any]:
    return {
        "template": "challenge_cards/_child_home.html",
        "cards": queries.cards_for_child(db.session, participant),
    }


# The form checks its own token (FlaskForm): a page left open past the token's time limit,
# or a phone that lost its session cookie, comes back with the child's words kept.
@bp.route("/cards/new", methods=["GET", "POST"])
@csrf.exempt
@child_required
def new_card() -> Any:
    """A child raises a card: what should change, why, and who should change it."""
    participant = current_participant()
    assert participant is not None
    form = CardForm()
    form.service.choices = _service_choices(participant.council_id)
    groups = groups_of(db.session, participant) or [participant.group]
    form.from_group.choices = choices([(str(g.id), g.name) for g in groups])
    key = submission_key(form)
    if form.validate_on_submit():
        chosen_group = next((g for g in groups if str(g.id) == form.from_group.data), groups[0])
        try:
            prepared = services.prepare(form.what_change.data, form.why_matters.data)
            card, alert = services.raise_card(
                db.session,
                prepared,
                group=chosen_group,
                service=_chosen_service(participant.council_id, form.service.data),
                about_me=bool(form.about_me.data),
                participant=participant,
                submission_key=key,
            )
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            if isinstance(error, services.SubmissionKeyUsed):
                form.submission_key.data = new_submission_key()
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
    if form.csrf_token.errors:
        # The words are kept and the form has a fresh token: the next tap sends the card.
        form.csrf_token.errors = []
        form.form_errors.append(
            _("This page was open a long time. Your words are still here: tap Send again.")
        )
        status = 400
    return render_template(
        "challenge_cards/new.html", form=form, several_groups=len(groups) > 1
    ), status


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
        ReplyForm(version=card.version, what_change=card.what_change, why_matters=card.why_matters)
        if card.status is CardStatus.RETURNED
        else None
    )
    return render_template(
        "challenge_cards/my_card.html",
        card=card,
        reply_form=reply_form,
        feedback_form=_feedback_form(card),
        joined=queries.carried_on_by(db.session, card),
    )


def _feedback_form(card: ChallengeCard) -> FeedbackForm:
    """ "Did this fix it?" with the child's earlier answer chosen, or nothing chosen."""
    if card.child_feedback is None:
        return FeedbackForm()
    return FeedbackForm(feedback=card.child_feedback.value)


def _child_replied(card: ChallengeCard) -> bool:
    """The card has left "we have a question for you" through the child's own reply."""
    replies = [e for e in card.events if e.kind is CardEventKind.REPLIED]
    return card.status is not CardStatus.RETURNED and bool(replies) and replies[-1].by_child


@bp.post("/cards/mine/<int:card_id>/reply")
@child_required
def child_reply(card_id: int) -> Any:
    """The child answers the worker's question; the card goes back in.

    A double tap or a resend of the same answer is taken once: one reply, and at most one
    alert. The form carries the card's version from when the question was shown.
    """
    participant = current_participant()
    assert participant is not None
    card = queries.card_for_child(db.session, card_id, participant) or abort(404)
    form = ReplyForm()
    thanks = _("Thank you. We have your answer.")
    if form.validate_on_submit():
        sent_version = form.version.data or ""
        if _child_replied(card) and sent_version != str(card.version):
            flash(thanks, "success")
            return redirect(url_for(".my_card", card_id=card.id))
        if sent_version and sent_version != str(card.version):
            form.version.data = str(card.version)
            form.form_errors.append(
                _("This card changed while you had it open. Read the question again, then send.")
            )
            return render_template(
                "challenge_cards/my_card.html",
                card=card,
                reply_form=form,
                feedback_form=_feedback_form(card),
            ), 409
        try:
            prepared = services.prepare(form.what_change.data, form.why_matters.data)
            alert = services.reply(db.session, card, prepared, participant=participant)
            db.session.commit()
        except services.CardError as error:
            db.session.rollback()
            form.what_change.errors = [str(error)]
        except StaleDataError:
            # Another request changed the card at the same moment (a double tap, most often).
            db.session.rollback()
            again = queries.card_for_child(db.session, card_id, participant) or abort(404)
            if _child_replied(again):
                flash(thanks, "success")
            return redirect(url_for(".my_card", card_id=card_id))
        else:
            flash(thanks, "success")
            return _after_raise(alert, url_for(".my_card", card_id=card.id))
    return render_template(
        "challenge_cards/my_card.html",
        card=card,
        reply_form=form,
        feedback_form=_feedback_form(card),
    ), 422


# Checks its own token: a page left open too long keeps the child's choice.
@bp.post("/cards/mine/<int:card_id>/feedback")
@csrf.exempt
@child_required
def feedback(card_id: int) -> Any:
    """Did the answer fix it?"""
    participant = current_participant()
    assert participant is not None
    card = queries.card_for_child(db.session, card_id, participant) or abort(404)
    form = FeedbackForm()
    if not form.validate_on_submit():
        status = 422
        if form.errors.pop("csrf_token", None) is not None:
            form.csrf_token.errors = []
            form.feedback.errors = [
                _("This page was open a long time. Your choice is still here: tap Tell them again.")
            ]
            status = 400
        return render_template(
            "challenge_cards/my_card.html",
            card=card,
            reply_form=None,
            feedback_form=form,
            joined=queries.carried_on_by(db.session, card),
        ), status
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

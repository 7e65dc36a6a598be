"""Service responders answer the cards sent to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from challenge_cards import queries, services
from challenge_cards.forms import AnswerForm, CloseForm
from challenge_cards.models import AnswerKind, ChallengeCard
from challenge_cards.views._common import _me, _run_step, bp
from participation.access import role_required
from participation.accounts.models import Role
from participation.db import db, utcnow


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

"""A child sees the survey answers they gave on this device, and can delete them.

The child is known only by the cookie on their phone, so only that phone reaches these
pages; a round where this child has no answers (another child's, another group's) is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as HttpResponse

from participation.access import child_required
from participation.accounts.forms import ConfirmForm
from participation.councils.models import Participant
from participation.councils.services import current_participant
from participation.db import db, utcnow
from surveys import services
from surveys.models import Answer, AnswerStatus, Question, QuestionSet, Response, SurveyRound
from surveys.views import bp


@dataclass(frozen=True)
class ShownAnswer:
    question: str
    answer: str
    emoji: str | None = None
    answer_id: int | None = None  # the page folds an answer that raised an alert
    applies: bool = True  # False: an earlier answer changed, so this one is not counted


@dataclass(frozen=True)
class ShownResponse:
    survey_round: SurveyRound
    title: str
    sent: bool
    answers: list[ShownAnswer]


def _child() -> Participant:
    participant = current_participant()
    assert participant is not None  # child_required made sure
    return participant


def _page_language(question_set: QuestionSet) -> str:
    locale = str(get_locale() or "en").split("_")[0]
    return locale if locale in question_set.languages else "en"


def _shown_answer(
    question_set: QuestionSet, question: Question, answer: Answer, lang: str
) -> ShownAnswer:
    asked = question_set.local(question.text, lang)
    if answer.status is AnswerStatus.SKIPPED:
        return ShownAnswer(asked, _("You skipped this."))
    if answer.status is AnswerStatus.PREFER_NOT:
        return ShownAnswer(asked, _("You did not want to say."))
    if answer.text is not None:
        return ShownAnswer(asked, answer.text)
    choice = next((c for c in question.choices if c["value"] == answer.choice), None)
    if choice is None:
        return ShownAnswer(asked, answer.choice or "")
    return ShownAnswer(asked, question_set.local(choice["label"], lang), choice.get("emoji"))


def _shown(response: Response) -> ShownResponse:
    """One response as the child reads it: the questions in order, in the page's language."""
    survey_round = db.session.get(SurveyRound, response.round_id)
    question_set = db.session.get(QuestionSet, response.question_set_id)
    assert survey_round is not None and question_set is not None  # foreign keys
    lang = _page_language(question_set)
    given = {
        a.question_key: a
        for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))
    }
    return ShownResponse(
        survey_round=survey_round,
        title=question_set.local(question_set.title, lang),
        sent=response.submitted_at is not None,
        answers=[
            replace(
                _shown_answer(question_set, q, given[q.key], lang),
                answer_id=given[q.key].id,
                applies=given[q.key].applies,
            )
            for q in question_set.questions  # in position order
            if q.key in given
        ],
    )


def _own_response_or_404(round_id: int) -> Response:
    response = services.own_response(db.session, _child(), round_id)
    if response is None:
        abort(404)
    return response


@bp.get("/me/answers")
@child_required
def my_answers() -> str:
    """Everything the child told us in surveys, round by round, with a way to delete it."""
    responses = [_shown(r) for r in services.own_responses(db.session, _child())]
    return render_template("surveys/my_answers.html", responses=responses)


@bp.get("/me/answers/<int:round_id>/delete")
@child_required
def confirm_delete_answers(round_id: int) -> str:
    """Are you sure? (a page of its own: it works without JavaScript)."""
    shown = _shown(_own_response_or_404(round_id))
    return render_template(
        "surveys/delete_answers.html",
        shown=shown,
        still_open=shown.survey_round.is_open(utcnow()),
        form=ConfirmForm(),
    )


@bp.post("/me/answers/<int:round_id>/delete")
@child_required
def delete_answers(round_id: int) -> HttpResponse:
    """Delete the child's answers to one round."""
    _own_response_or_404(round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_own_response(db.session, _child(), round_id)
    db.session.commit()
    flash(_("Your answers are deleted."), "success")
    return redirect(url_for(".my_answers"))

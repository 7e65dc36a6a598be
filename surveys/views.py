"""The survey on a phone, one question a page, and staff opening rounds."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from wtforms.validators import ValidationError

from participation.access import child_required, role_required
from participation.accounts.models import Role
from participation.councils.models import Group, Participant
from participation.councils.services import current_participant, groups_for_staff
from participation.councils.views import join_link_and_qr
from participation.db import db, utcnow
from participation.errors import render_error
from participation.extensions import csrf
from participation.forms import choices
from participation.safeguarding.services import URGENT_RESPONSE
from surveys import question_cache, services
from surveys.forms import RoundDatesForm, RoundForm
from surveys.models import Answer, Question, Response, ResponseStatus, RoundGroup, SurveyRound
from surveys.question_cache import CachedQuestionSet
from surveys.question_sets import latest_versions
from surveys.risk import WANTS_TO_TALK, RiskStrength, risk_of

bp = Blueprint("surveys", __name__, template_folder="templates")

LONDON = ZoneInfo("Europe/London")
EXPECTED_SIZE = re.compile(r"[0-9]{1,6}", re.ASCII)  # not "²" or "١٢", which int() refuses
STAFF = (Role.ADMIN, Role.PARTICIPATION_WORKER)

ERRORS = {
    "choose": lambda: _("Choose an answer, or tap Skip."),
    "invalid": lambda: _("That answer is not one of the choices. Please choose again."),
    "write": lambda: _("Write something, or tap Skip."),
    "too_long": lambda: _("That is a bit long. Please make it shorter."),
}


def _child() -> Participant:
    participant = current_participant()
    assert participant is not None  # child_required made sure
    return participant


def _qs(survey_round: SurveyRound) -> CachedQuestionSet:
    """The round's question set, as the process's read-only copy."""
    return question_cache.question_set(db.session, survey_round.question_set)


def _language(survey_round: SurveyRound) -> str:
    locale = str(get_locale() or "en").split("_")[0]
    return locale if locale in _qs(survey_round).languages else "en"


def _round_or_404(round_id: int) -> SurveyRound:
    found = services.round_for_child(db.session, round_id, _child())
    if found is None:
        abort(404)
    return found


def _closed_page(survey_round: SurveyRound) -> tuple[str, int]:
    return render_template("surveys/closed.html", survey_round=survey_round), 410


def _answers(response: Response | None) -> dict[str, Answer]:
    return {a.question_key: a for a in response.answers} if response else {}


def _question_url(survey_round: SurveyRound, question: Question | None) -> str:
    if question is None:
        return url_for(".end", round_id=survey_round.id)
    return url_for(".question", round_id=survey_round.id, position=question.position)


def child_home_section(participant: Participant) -> dict[str, Any]:
    """What the child's start page shows about surveys."""
    rounds = services.open_rounds_for(db.session, participant, utcnow())
    responses = {
        r.round_id: r
        for r in db.session.scalars(
            select(Response).where(Response.participant_id == participant.id)
        )
    }
    return {"template": "surveys/_child_home.html", "rounds": rounds, "responses": responses}


@bp.get("/survey/<int:round_id>")
@child_required
def welcome(round_id: int) -> Any:
    """Who sees the answers, and that any question can be skipped."""
    survey_round = _round_or_404(round_id)
    response = services.find_response(db.session, survey_round, _child())
    if response is not None and response.status is ResponseStatus.SUBMITTED:
        return redirect(url_for(".thanks", round_id=round_id))
    if not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    lang = _language(survey_round)
    return render_template(
        "surveys/welcome.html",
        survey_round=survey_round,
        qs=_qs(survey_round),
        lang=lang,
        started=response is not None and bool(response.answers),
    )


@bp.post("/survey/<int:round_id>/start")
@child_required
def start(round_id: int) -> Any:
    """Start, or carry on from where the child was."""
    survey_round = _round_or_404(round_id)
    if not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    response = services.start_response(db.session, survey_round, _child(), _language(survey_round))
    db.session.commit()
    if response.status is ResponseStatus.SUBMITTED:
        return redirect(url_for(".thanks", round_id=round_id))
    shown = services.applicable_questions(_qs(survey_round), _answers(response))
    current = next((q for q in shown if q.position >= response.current_position), None)
    return redirect(_question_url(survey_round, current))


def _render_question(
    survey_round: SurveyRound,
    response: Response,
    question: Question,
    *,
    error: str | None = None,
    status: int = 200,
    sent: dict[str, str] | None = None,
    template: str = "surveys/question.html",
    **extra: Any,
) -> tuple[str, int]:
    answers = _answers(response)
    qs = _qs(survey_round)
    shown = services.applicable_questions(qs, answers)
    index = next((i for i, q in enumerate(shown) if q.key == question.key), len(shown) - 1)
    previous = shown[index - 1] if index > 0 else None
    saved = answers.get(question.key)
    return render_template(
        template,
        survey_round=survey_round,
        qs=qs,
        question=question,
        lang=response.language if response.language in qs.languages else "en",
        number=index + 1,
        total=len(shown),
        back_url=_question_url(survey_round, previous)
        if previous
        else url_for(".welcome", round_id=survey_round.id),
        chosen=(sent or {}).get("choice", saved.choice if saved else None),
        written=(sent or {}).get("text", saved.text if saved and saved.text else ""),
        # A shared phone: words that went to the safeguarding lead are folded, not shown.
        saved_answer_id=saved.id if saved and saved.text and sent is None else None,
        error=error,
        band=qs.age_band.value,
        saved=saved,
        sent_response=response.status is ResponseStatus.SUBMITTED,
        can_change=response.status is ResponseStatus.SUBMITTED and survey_round.is_open(utcnow()),
        **extra,
    ), status


def _load(round_id: int, position: int) -> tuple[SurveyRound, Response, Question] | Any:
    survey_round = _round_or_404(round_id)
    response = services.find_response(db.session, survey_round, _child())
    if response is None:
        return redirect(url_for(".welcome", round_id=round_id))
    question_set = response_question_set(response, survey_round)
    question = next((q for q in question_set.questions if q.position == position), None)
    if question is None:
        abort(404)
    return survey_round, response, question


def response_question_set(response: Response, survey_round: SurveyRound) -> Any:
    # A response keeps the version it began with, even if the round's set changed since.
    if response.question_set_id == survey_round.question_set_id:
        return _qs(survey_round)
    return question_cache.question_set_by_id(db.session, response.question_set_id)


@bp.get("/survey/<int:round_id>/q/<int:position>")
@child_required
def question(round_id: int, position: int) -> Any:
    """One question, with what the child already said filled in."""
    loaded = _load(round_id, position)
    if not isinstance(loaded, tuple):
        return loaded
    survey_round, response, found = loaded
    sent = response.status is ResponseStatus.SUBMITTED
    if not sent and not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    hidden = _not_asked(survey_round, response, found)
    if hidden is not None:
        return hidden
    if sent:
        # Closed to changes: the answer as sent, with a clear way to change it.
        following = _following(survey_round, _answers(response), found)
        return _render_question(
            survey_round,
            response,
            found,
            template="surveys/sent_answer.html",
            next_url=_question_url(survey_round, following),
            said=_said(
                found,
                saved.status.value if (saved := _answers(response).get(found.key)) else None,
                saved.choice if saved else None,
                _qs(survey_round),
                response.language if response.language in _qs(survey_round).languages else "en",
            ),
        )
    return _render_question(survey_round, response, found)


def _not_asked(survey_round: SurveyRound, response: Response, found: Any) -> Any:
    """A redirect to the right page when ``found`` is not asked of this child now (its
    show_if gate does not hold: a stale tab, or Back after changing an earlier answer)."""
    shown = services.applicable_questions(_qs(survey_round), _answers(response))
    if found.key in {q.key for q in shown}:
        return None
    later = next((q for q in shown if q.position > found.position), None)
    if later is None and response.status is ResponseStatus.SUBMITTED:
        return redirect(url_for(".thanks", round_id=survey_round.id))
    return redirect(_question_url(survey_round, later))


def _token_refused() -> bool:
    """The form's CSRF token is missing, expired, or from a session the phone lost."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return True
    return False


def _stale_page() -> str:
    return _("This page was open a long time. Your answer is still here: tap it again to send.")


# The page checks its own token: a page left open past the token's time limit, or a phone
# that lost its session cookie, comes back with the child's answer and a fresh token.
@bp.post("/survey/<int:round_id>/q/<int:position>")
@csrf.exempt
@child_required
def answer(round_id: int, position: int) -> Any:
    """Save this answer (every page saves), then go to the next question."""
    loaded = _load(round_id, position)
    if not isinstance(loaded, tuple):
        return loaded
    survey_round, response, found = loaded
    if not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    hidden = _not_asked(survey_round, response, found)
    if hidden is not None:
        return hidden
    action = request.form.get("action", "next")
    sent = {"choice": request.form.get("choice", ""), "text": request.form.get("text", "")}
    if _token_refused():
        if response.status is ResponseStatus.SUBMITTED:
            return _change_form(survey_round, response, found, sent, _stale_page(), 400)
        return _render_question(
            survey_round, response, found, error=_stale_page(), status=400, sent=sent
        )
    if response.status is ResponseStatus.SUBMITTED:
        # Sent already (Back, then Next with another choice): nothing changes silently.
        # The child sees what they sent and may confirm the change.
        return _confirm_or_change(survey_round, response, found, action, sent, status=409)
    # Checked, triaged and tagged outside any transaction: on SQLite this request's
    # transaction holds the write lock from its first read, and reading a child's words can
    # take a while; the answer is saved in a new transaction (save_answer locks and reloads).
    db.session.commit()
    try:
        prepared = services.prepare_answer(found, action, sent["choice"] or None, sent["text"])
    except services.SurveyError as error:
        return _render_question(
            survey_round, response, found, error=ERRORS[str(error)](), status=422, sent=sent
        )
    participant = _child()
    # If the database cannot be reached, here or while loading the child and the round above,
    # database_unreachable() answers with the child's words kept in the form.
    try:
        saved, alert = services.save_answer(db.session, response, prepared, participant, None)
    except services.AnswerSent:  # sent in another tab a moment ago
        db.session.rollback()
        return redirect(_question_url(survey_round, found))
    response = saved.response
    answers = _answers(response)
    following = _following(survey_round, answers, found)
    response.current_position = following.position if following else found.position + 1
    db.session.commit()
    next_url = _question_url(survey_round, following)
    if risk_of(found, prepared.choice) is not None:
        # Straight to help; the child's place is kept (Carry on goes to the next question).
        return redirect(url_for(".help_step", round_id=round_id, position=position))
    if alert is not None:
        return redirect(url_for("safeguarding.child_help", alert_id=alert.id, next=next_url))
    return redirect(next_url)


def _change_form(
    survey_round: SurveyRound,
    response: Response,
    found: Any,
    sent: dict[str, str] | None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The question again, to change an answer that was sent (the change is confirmed next)."""
    return _render_question(
        survey_round,
        response,
        found,
        error=error,
        status=status,
        sent=sent,
        action_url=url_for(".change", round_id=survey_round.id, position=found.position),
    )


def _confirm_or_change(
    survey_round: SurveyRound,
    response: Response,
    found: Any,
    action: str,
    sent: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    """Check the new answer; show it beside the one sent and ask the child to confirm."""
    try:
        prepared = services.prepare_answer(found, action, sent["choice"] or None, sent["text"])
    except services.SurveyError as error:
        return _change_form(survey_round, response, found, sent, ERRORS[str(error)](), 422)
    saved = _answers(response).get(found.key)
    qs = _qs(survey_round)
    lang = response.language if response.language in qs.languages else "en"
    return render_template(
        "surveys/confirm_change.html",
        survey_round=survey_round,
        question=found,
        qs=qs,
        lang=lang,
        band=qs.age_band.value,
        before=_said(
            found, saved.status.value if saved else None, saved and saved.choice, qs, lang
        ),
        before_text=saved.text if saved else None,
        after=_said(found, prepared.status.value, prepared.choice, qs, lang),
        after_text=prepared.text,
        action=action,
        choice=prepared.choice or "",
        text=prepared.text or "",
        unchanged=saved is not None
        and (saved.status, saved.choice, saved.text)
        == (prepared.status, prepared.choice, prepared.text),
    ), status


def _said(question: Any, status: str | None, choice: Any, qs: Any, lang: str) -> str:
    """An answer in the child's words: the choice's label, or what Skip and "I don't want to
    say" mean, or that there was none."""
    if status is None:
        return _("No answer")
    if status == "skipped":
        return _("Skipped")
    if status == "prefer_not":
        return _("I don't want to say")
    for option in question.choices:
        if option["value"] == choice:
            return str(qs.local(option["label"], lang))
    return _("What you wrote")


@bp.route("/survey/<int:round_id>/q/<int:position>/change", methods=["GET", "POST"])
@csrf.exempt
@child_required
def change(round_id: int, position: int) -> Any:
    """Change an answer after sending, while the round is open: a confirmed amendment.

    The first send shows the new answer beside the one sent; "Yes, change it" saves it,
    moves the counts once, and is recorded. Sending the same change again changes nothing.
    """
    loaded = _load(round_id, position)
    if not isinstance(loaded, tuple):
        return loaded
    survey_round, response, found = loaded
    action = request.form.get("action", "next")
    if action not in ACTION_LABELS:
        action = "next"
    sent = {"choice": request.form.get("choice", ""), "text": request.form.get("text", "")}
    if request.method == "POST" and _token_refused():
        if response.status is ResponseStatus.SUBMITTED:
            return _change_form(survey_round, response, found, sent, _stale_page(), 400)
        return _render_question(
            survey_round, response, found, error=_stale_page(), status=400, sent=sent
        )
    if response.status is not ResponseStatus.SUBMITTED:
        return redirect(_question_url(survey_round, found))
    if not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    hidden = _not_asked(survey_round, response, found)
    if hidden is not None:
        return hidden
    if request.method == "GET":
        return _change_form(survey_round, response, found, None)
    if request.form.get("confirm") != "yes":
        return _confirm_or_change(survey_round, response, found, action, sent)
    db.session.commit()  # read the words outside the write lock (see answer())
    try:
        prepared = services.prepare_answer(found, action, sent["choice"] or None, sent["text"])
    except services.SurveyError as error:
        return _change_form(survey_round, response, found, sent, ERRORS[str(error)](), 422)
    saved, alert = services.save_answer(db.session, response, prepared, _child(), None, amend=True)
    db.session.commit()
    flash(_("Your answer is changed."), "success")
    answers = _answers(saved.response)
    # A question the change opened, not answered yet, comes next; else the answer as sent.
    opened = next(
        (
            q
            for q in services.applicable_questions(_qs(survey_round), answers)
            if q.key not in answers
        ),
        None,
    )
    next_url = (
        url_for(".change", round_id=round_id, position=opened.position)
        if opened is not None
        else _question_url(survey_round, found)
    )
    if risk_of(found, prepared.choice) is not None:
        return redirect(url_for(".help_step", round_id=round_id, position=position))
    if alert is not None:
        return redirect(url_for("safeguarding.child_help", alert_id=alert.id, next=next_url))
    return redirect(next_url)


def _following(survey_round: SurveyRound, answers: dict[str, Answer], found: Any) -> Any:
    """The question after ``found`` for this child (given their answers), or None at the end."""
    shown = services.applicable_questions(_qs(survey_round), answers)
    index = next((i for i, q in enumerate(shown) if q.key == found.key), None)
    if index is None:
        return next((q for q in shown if q.position > found.position), None)
    return shown[index + 1] if index + 1 < len(shown) else None


# Checks its own token: a child who taps "Yes" on a page left open too long is asked to
# tap again on the same page, never shown an error page that drops the request.
@bp.route("/survey/<int:round_id>/q/<int:position>/help", methods=["GET", "POST"])
@csrf.exempt
@child_required
def help_step(round_id: int, position: int) -> Any:
    """After a risk answer: "Would you like someone to talk to you?", Childline and 999.

    A yes stores the alert in its own transaction (or marks the one the answer raised).
    Open whatever the state of the round: help never waits for a survey to be open.
    """
    loaded = _load(round_id, position)
    if not isinstance(loaded, tuple):
        return loaded
    survey_round, response, found = loaded
    answers = _answers(response)
    saved = answers.get(found.key)
    risk = risk_of(found, saved.choice) if saved is not None else None
    next_url = _question_url(survey_round, _following(survey_round, answers, found))
    stale = request.method == "POST" and _token_refused()
    if saved is None or risk is None:
        if stale:  # nothing to keep: refused as every form with a bad token is
            raise CSRFError("The CSRF token is missing, expired or not this session's.")
        return redirect(next_url)  # changed since: nothing to offer here
    if request.method == "POST" and not stale:
        if request.form.get("want") != "yes":
            return redirect(next_url)  # Not now
        services.ask_for_help(db.session, response, found, _child())
        db.session.commit()
        return redirect(url_for(".help_step", round_id=round_id, position=position))
    alert = services.risk_alert_for(db.session, saved.id)
    qs = _qs(survey_round)
    return render_template(
        "surveys/help_step.html",
        survey_round=survey_round,
        qs=qs,
        words=risk.help_step,
        lang=response.language if response.language in qs.languages else "en",
        band=qs.age_band.value,
        alerted=alert is not None and risk.strength is RiskStrength.ALERT,
        told=alert is not None and WANTS_TO_TALK in alert.reasons,
        alert=alert,
        read_within=format_timedelta(URGENT_RESPONSE, threshold=1, add_direction=False),
        next_url=next_url,
        stale=stale,
    ), (400 if stale else 200)


ACTION_LABELS = {
    "next": lambda: _("Next"),
    "prefer_not": lambda: _("I don't want to say"),
    "skip": lambda: _("Skip"),
}


@bp.errorhandler(OperationalError)
def database_unreachable(error: OperationalError) -> Any:
    """The database is down or unreachable: say the answer is not saved yet, and keep it.

    Built from the request alone (no query), because loading the child, the round or the
    question fails too while the database is down. Other survey pages get the 503 page.
    """
    with suppress(SQLAlchemyError):
        db.session.rollback()
    current_app.logger.error("database unreachable on %s", request.endpoint, exc_info=error)
    if request.endpoint != "surveys.answer" or request.method != "POST":
        return render_error(503)
    action = request.form.get("action", "next")
    if action not in ACTION_LABELS:
        action = "next"
    text = request.form.get("text")
    return render_template(
        "surveys/not_saved.html",
        action=action,
        button=ACTION_LABELS[action](),
        choice=request.form.get("choice", "")[:64],
        text=None if text is None else text[: services.MAX_TEXT],
    ), 503


@bp.get("/survey/<int:round_id>/end")
@child_required
def end(round_id: int) -> Any:
    """The last page: send the answers."""
    survey_round = _round_or_404(round_id)
    response = services.find_response(db.session, survey_round, _child())
    if response is None:
        return redirect(url_for(".welcome", round_id=round_id))
    if response.status is ResponseStatus.SUBMITTED:
        return redirect(url_for(".thanks", round_id=round_id))
    if not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    shown = services.applicable_questions(_qs(survey_round), _answers(response))
    return render_template(
        "surveys/end.html",
        survey_round=survey_round,
        back_url=_question_url(survey_round, shown[-1])
        if shown
        else url_for(".welcome", round_id=round_id),
    )


@bp.post("/survey/<int:round_id>/submit")
@child_required
def submit(round_id: int) -> Any:
    """Send the answers; sending twice is the same as once."""
    survey_round = _round_or_404(round_id)
    response = services.find_response(db.session, survey_round, _child())
    if response is None:
        return redirect(url_for(".welcome", round_id=round_id))
    if response.status is not ResponseStatus.SUBMITTED and not survey_round.is_open(utcnow()):
        return _closed_page(survey_round)
    services.submit(db.session, response)
    db.session.commit()
    return redirect(url_for(".thanks", round_id=round_id))


@bp.get("/survey/<int:round_id>/thanks")
@child_required
def thanks(round_id: int) -> str:
    """Thank you, and where to see what changes."""
    survey_round = _round_or_404(round_id)
    response = services.find_response(db.session, survey_round, _child())
    first_url = None
    if response is not None and response.status is ResponseStatus.SUBMITTED:
        shown = services.applicable_questions(_qs(survey_round), _answers(response))
        first_url = _question_url(survey_round, shown[0]) if shown else None
    return render_template("surveys/thanks.html", survey_round=survey_round, first_url=first_url)


# Staff ---------------------------------------------------------------------------------


def _local_midnight(day: Any, end_of_day: bool = False) -> datetime:
    moment = datetime.combine(
        day + timedelta(days=1) if end_of_day else day, time(0), tzinfo=LONDON
    )
    return moment.astimezone(UTC)


@bp.get("/staff/rounds")
@role_required(*STAFF)
def rounds() -> str:
    """Survey rounds of this council, newest first, with how many children took part."""
    counts = (
        select(
            Response.round_id,
            func.count(Response.id).label("started"),
            func.count(Response.submitted_at).label("sent"),
        )
        .where(Response.council_id == current_user.council_id)
        .group_by(Response.round_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            SurveyRound,
            func.coalesce(counts.c.started, 0),
            func.coalesce(counts.c.sent, 0),
        )
        .outerjoin(counts, counts.c.round_id == SurveyRound.id)
        .where(SurveyRound.council_id == current_user.council_id)
        .order_by(SurveyRound.opens_at.desc())
    ).all()
    return render_template("surveys/rounds.html", rows=rows, now=utcnow())


@bp.route("/staff/rounds/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_round() -> Any:
    """Open a question set for some groups, with dates."""
    form = RoundForm()
    sets = latest_versions(db.session)
    groups = groups_for_staff(db.session, current_user)
    form.question_set.choices = choices(
        [(str(s.id), f"{s.title['en']} (v{s.version})") for s in sets]
    )
    form.groups.choices = choices([(str(g.id), f"{g.name} ({g.age_band.label})") for g in groups])
    if form.validate_on_submit():
        chosen_set = next(s for s in sets if str(s.id) == form.question_set.data)
        chosen_groups = [g for g in groups if str(g.id) in (form.groups.data or [])]
        try:
            created = services.open_round(
                db.session,
                current_user.council,
                name=form.name.data or "",
                question_set=chosen_set,
                groups=chosen_groups,
                opens_at=_local_midnight(form.opens_on.data),
                closes_at=_local_midnight(form.closes_on.data, end_of_day=True),
                by=current_user._get_current_object(),
                override_age_band=bool(form.override_age_band.data),
            )
        except services.SurveyError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Round opened."), "success")
            return redirect(url_for(".round_detail", round_id=created.id))
    status = 422 if request.method == "POST" else 200
    return render_template("surveys/new_round.html", form=form), status


def _round_for_staff(round_id: int) -> SurveyRound:
    """The round if it is the staff member's council's; otherwise a 404."""
    found = db.session.scalar(
        select(SurveyRound).where(
            SurveyRound.id == round_id, SurveyRound.council_id == current_user.council_id
        )
    )
    if found is None:
        abort(404)
    return found


@bp.get("/staff/rounds/<int:round_id>")
@role_required(*STAFF)
def round_detail(round_id: int) -> Any:
    """A round: dates, and for each group its join link and QR code."""
    return _render_round(_round_for_staff(round_id))


def _render_round(
    found: SurveyRound, dates_form: RoundDatesForm | None = None, status: int = 200
) -> Any:
    if dates_form is None:
        dates_form = RoundDatesForm(
            opens_on=found.opens_at.astimezone(LONDON).date(),
            closes_on=(found.closes_at.astimezone(LONDON) - timedelta(seconds=1)).date(),
        )
    counts = dict(
        db.session.execute(
            select(Response.group_id, func.count(Response.id))
            .where(Response.round_id == found.id)
            .group_by(Response.group_id)
        )
        .tuples()
        .all()
    )
    sent = services.sent_per_group(db.session, found)
    entries = []
    for round_group in sorted(found.round_groups, key=lambda rg: rg.group.name):
        group: Group = round_group.group
        code = group.current_join_code
        link, qr = join_link_and_qr(code, scale=5)
        entries.append(
            {
                "group": group,
                "code": code,
                "link": link,
                "qr": qr,
                "responses": counts.get(group.id, 0),
                "sent": sent.get(group.id, 0),
                "round_group": round_group,
            }
        )
    return render_template(
        "surveys/round.html",
        survey_round=found,
        entries=entries,
        now=utcnow(),
        dates_form=dates_form,
    ), status


@bp.post("/staff/rounds/<int:round_id>/dates")
@role_required(*STAFF)
def round_dates(round_id: int) -> Any:
    """Change a round's dates (extend it, or correct them)."""
    found = _round_for_staff(round_id)
    form = RoundDatesForm()
    if not form.validate_on_submit():
        return _render_round(found, form, 422)
    try:
        services.change_round_dates(
            db.session,
            found,
            opens_at=_local_midnight(form.opens_on.data),
            closes_at=_local_midnight(form.closes_on.data, end_of_day=True),
            by=current_user._get_current_object(),
        )
    except services.SurveyError as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _render_round(_round_for_staff(round_id), form, 422)
    db.session.commit()
    flash(_("Dates saved."), "success")
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.post("/staff/rounds/<int:round_id>/close")
@role_required(*STAFF)
def close_round(round_id: int) -> Any:
    """Close a round now, before its closing date; what children gave is kept."""
    from participation.accounts.forms import ConfirmForm

    found = _round_for_staff(round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.close_round_now(db.session, found, by=current_user._get_current_object())
    except services.SurveyError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Round closed. Children can no longer answer it."), "success")
    return redirect(url_for(".round_detail", round_id=round_id))


@bp.post("/staff/rounds/<int:round_id>/sizes")
@role_required(*STAFF)
def group_sizes(round_id: int) -> Any:
    """Record how many children each group has, for response rates."""
    from participation.accounts.forms import ConfirmForm

    found = _round_for_staff(round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    problems = []
    too_small = []
    sent = services.sent_per_group(db.session, found)
    for round_group in found.round_groups:
        raw = request.form.get(f"size-{round_group.id}", "").strip()
        if raw == "":
            round_group.expected_size = None
        elif EXPECTED_SIZE.fullmatch(raw) and int(raw) <= 100_000:
            if int(raw) < sent.get(round_group.group_id, 0):
                too_small.append((round_group.group.name, sent[round_group.group_id]))
                continue
            round_group.expected_size = int(raw)
            # The group's size as last recorded: joins beyond it wait for the worker.
            round_group.group.recorded_size = int(raw)
        else:
            problems.append(round_group.group.name)
    if problems or too_small:
        db.session.rollback()
        if problems:
            flash(
                _("Enter a whole number of children for: %(groups)s", groups=", ".join(problems)),
                "error",
            )
        for name, count in too_small:
            flash(
                _(
                    "%(group)s has already sent %(count)s answers, so it has at least "
                    "%(count)s children. Enter %(count)s or more.",
                    group=name,
                    count=count,
                ),
                "error",
            )
    else:
        db.session.commit()
        flash(_("Group sizes saved."), "success")
    return redirect(url_for(".round_detail", round_id=round_id))


def register(app: Any) -> None:
    """Add the blueprint and the child's start-page section."""
    from surveys import my_answers  # noqa: F401 (its routes join this blueprint)
    from surveys.cli import retention_cli, rounds_cli, surveys_cli

    app.register_blueprint(bp)
    app.extensions.setdefault("child_home_sections", []).append(child_home_section)
    app.cli.add_command(surveys_cli)
    app.cli.add_command(rounds_cli)
    app.cli.add_command(retention_cli)


__all__ = ["RoundGroup", "bp", "register"]

"""The survey as a child meets it, through HTTP, without JavaScript."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participation.db import utcnow
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType
from surveys.models import Answer, AnswerStatus, Response, ResponseStatus


@pytest.fixture()
def child(client, post, group):
    """A child who joined the group on this phone."""
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    return client


def _q(survey_round, position):
    return f"/survey/{survey_round.id}/q/{position}"


def _answer(post, survey_round, position, **data):
    data.setdefault("action", "next")
    return post(_q(survey_round, position), data, page=_q(survey_round, position))


def _start(post, survey_round):
    return post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")


def _answers(db_tx):
    db_tx.expire_all()
    return {a.question_key: a for a in db_tx.scalars(select(Answer))}


def test_the_child_finds_the_survey_and_reads_who_sees_it(child, survey_round):
    home = child.get("/me").get_data(as_text=True)
    assert "Test survey" in home and f"/survey/{survey_round.id}" in home
    welcome = child.get(f"/survey/{survey_round.id}").get_data(as_text=True)
    assert "Only the people who run your group see your answers." in welcome
    assert "You can skip any question." in welcome


def test_one_question_a_page_with_progress_and_every_way_out(child, post, survey_round):
    response = _start(post, survey_round)
    assert response.headers["Location"] == _q(survey_round, 1)
    page = child.get(_q(survey_round, 1)).get_data(as_text=True)
    assert "Do you feel safe where you live?" in page
    assert "1 of 3" in page  # the interpreter question is not asked unless it applies
    for words in ("Next", "want to say", "Skip", "Back"):
        assert words in page
    assert 'type="radio"' in page and "😀" in page


def test_every_page_saves_and_show_if_adds_questions(child, post, survey_round, db_tx):
    _start(post, survey_round)
    assert _answer(post, survey_round, 1, choice="yes").headers["Location"] == _q(survey_round, 2)
    assert _answer(post, survey_round, 2, choice="yes").headers["Location"] == _q(survey_round, 3)
    page = child.get(_q(survey_round, 3)).get_data(as_text=True)
    assert "interpreter" in page and "3 of 4" in page
    answers = _answers(db_tx)
    assert answers["feel_safe"].choice == "yes" and answers["came_alone"].choice == "yes"


def test_skip_and_i_dont_want_to_say_are_kept_apart(child, post, survey_round, db_tx):
    _start(post, survey_round)
    _answer(post, survey_round, 1, action="skip")
    _answer(post, survey_round, 2, action="prefer_not")
    answers = _answers(db_tx)
    assert (
        answers["feel_safe"].status is AnswerStatus.SKIPPED and answers["feel_safe"].choice is None
    )
    assert answers["came_alone"].status is AnswerStatus.PREFER_NOT


def test_an_invalid_choice_gets_a_clear_message_and_keeps_other_answers(
    child, post, survey_round, db_tx
):
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="sometimes")
    response = _answer(post, survey_round, 2, choice="maybe-not-a-choice")
    assert response.status_code == 422
    assert "That answer is not one of the choices" in response.get_data(as_text=True)
    missing = _answer(post, survey_round, 2)
    assert missing.status_code == 422 and "Choose an answer, or tap Skip." in missing.get_data(
        as_text=True
    )
    assert _answers(db_tx)["feel_safe"].choice == "sometimes"


def test_double_submit_and_back_and_resubmit_make_one_response(child, post, survey_round, db_tx):
    _start(post, survey_round)
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="no")
    _answer(post, survey_round, 1, choice="no")
    _answer(post, survey_round, 1, choice="yes")  # went back and changed it
    assert db_tx.scalar(select(func.count()).select_from(Response)) == 1
    answers = db_tx.scalars(select(Answer)).all()
    assert len(answers) == 1 and answers[0].choice == "yes"


def test_coming_back_later_resumes_where_the_child_was(app, child, post, post_as, survey_round):
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="yes")
    _answer(post, survey_round, 2, choice="no")
    # The phone was closed; the cookie is all that remains.
    token = child.get_cookie(app.config["CHILD_COOKIE_NAME"]).value
    later = app.test_client()
    later.set_cookie(app.config["CHILD_COOKIE_NAME"], token)
    assert "Carry on" in later.get("/me").get_data(as_text=True)
    resumed = post_as(
        later, f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}"
    )
    assert resumed.headers["Location"] == _q(survey_round, 4)
    page = later.get(_q(survey_round, 4)).get_data(as_text=True)
    assert "3 of 3" in page


def test_free_text_that_worries_us_shows_help_at_once(child, post, survey_round, db_tx):
    _start(post, survey_round)
    words = "school is ok but my foster carers son hits me and i dont feel safe at home"
    response = _answer(post, survey_round, 4, text=words)
    location = response.headers["Location"]
    assert location.startswith("/help/")
    assert f"next=/survey/{survey_round.id}/end" in location.replace("%2F", "/")
    help_page = child.get(location).get_data(as_text=True)
    assert "Thank you for telling us" in help_page and "0800 1111" in help_page
    answer = _answers(db_tx)["school_words"]
    alert = db_tx.scalar(select(SafeguardingAlert))
    assert alert.subject_type is SubjectType.SURVEY_ANSWER and alert.subject_id == answer.id
    assert alert.text == words and alert.participant_id is not None
    # Sending the same words again does not raise a second alert.
    _answer(post, survey_round, 4, text=words)
    assert db_tx.scalar(select(func.count()).select_from(SafeguardingAlert)) == 1


def test_free_text_is_tagged_for_a_worker_to_confirm(child, post, survey_round, db_tx):
    _start(post, survey_round)
    response = _answer(
        post, survey_round, 4, text="my social worker keeps changing, i had 4 this year"
    )
    assert response.headers["Location"] == f"/survey/{survey_round.id}/end"
    answer = _answers(db_tx)["school_words"]
    tags = db_tx.scalars(
        select(EvidenceTag).where(
            EvidenceTag.subject_type == SubjectType.SURVEY_ANSWER,
            EvidenceTag.subject_id == answer.id,
        )
    ).all()
    assert {t.recommendation.code for t in tags} == {"WORKER-STABILITY"}
    assert all(t.status is TagStatus.PENDING for t in tags)


def test_empty_free_text_asks_again_or_skip(child, post, survey_round):
    _start(post, survey_round)
    response = _answer(post, survey_round, 4, text="   ")
    assert response.status_code == 422 and "Write something, or tap Skip." in response.get_data(
        as_text=True
    )


def test_sending_twice_is_one_submission(child, post, survey_round, db_tx):
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="yes")
    end = f"/survey/{survey_round.id}/end"
    first = post(f"/survey/{survey_round.id}/submit", {}, page=end)
    assert first.headers["Location"] == f"/survey/{survey_round.id}/thanks"
    second = post(f"/survey/{survey_round.id}/submit", {}, page="/me")
    assert second.headers["Location"] == f"/survey/{survey_round.id}/thanks"
    stored = db_tx.scalars(select(Response)).all()
    assert len(stored) == 1 and stored[0].status is ResponseStatus.SUBMITTED
    thanks = child.get(f"/survey/{survey_round.id}/thanks").get_data(as_text=True)
    assert "Thank you!" in thanks and 'href="/you-said-we-did"' in thanks
    # Going back shows the answer as sent, closed to changes, with a way to change it.
    sent = child.get(_q(survey_round, 1)).get_data(as_text=True)
    assert "You sent this answer" in sent and f"{_q(survey_round, 1)}/change" in sent
    assert 'name="choice"' not in sent


def test_a_closed_round_says_so_and_keeps_what_was_given(child, post, survey_round, db_tx):
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="yes")
    survey_round.closes_at = utcnow() - timedelta(minutes=1)
    survey_round.opens_at = utcnow() - timedelta(days=2)
    db_tx.flush()
    page = child.get(f"/survey/{survey_round.id}")
    assert page.status_code == 410 and "This survey is closed" in page.get_data(as_text=True)
    late = _answer(
        post,
        survey_round,
        2,
        choice="no",
    )
    assert late.status_code == 410
    assert set(_answers(db_tx)) == {"feel_safe"}


def test_a_child_of_another_group_cannot_open_the_round(client, post, survey_round, db_tx, council):
    from participation.councils.models import AgeBand, GroupKind
    from participation.councils.services import create_group

    other = create_group(
        db_tx,
        council,
        name="Seniors",
        age_band=AgeBand.AGES_11_17,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    post("/join", {"code": other.current_join_code.display})
    assert client.get(f"/survey/{survey_round.id}").status_code == 404


def test_arabic_pages_run_right_to_left_with_the_arabic_questions(child, post, survey_round, csrf):
    child.post("/language", data={"language": "ar", "next": "/me", "csrf_token": csrf()})
    _start(post, survey_round)
    page = child.get(_q(survey_round, 1)).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "هل تشعر بالأمان حيث تعيش؟" in page and "نعم" in page


def test_the_pages_need_no_javascript(child, post, survey_round):
    _start(post, survey_round)
    page = child.get(_q(survey_round, 1)).get_data(as_text=True)
    assert '<form method="post"' in page and page.count("<script") == 1  # only the optional app.js
    assert 'type="submit" name="action" value="skip"' in page


def test_a_question_page_with_its_assets_stays_small(child, post, survey_round):
    import re

    _start(post, survey_round)
    page = child.get(_q(survey_round, 1))
    html = page.get_data(as_text=True)
    assets = sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html)))
    total = len(page.data)
    for asset in assets:
        with child.get(asset) as response:  # static files are streamed: close them
            total += len(response.data)
    assert assets and total <= 30 * 1024
    # Nothing loads from elsewhere; the one way off the site is the quick exit, a link.
    html_without_exit = re.sub(r'<a class="quick-exit" href="https://[^"]+"', "", html)
    assert not re.search(r'(?:href|src|action)="(?:https?:)?//', html_without_exit)
    assert "plotly" not in html.lower()


def test_answers_record_whether_they_count_as_favourable(child, post, survey_round, db_tx):
    _start(post, survey_round)
    _answer(post, survey_round, 1, choice="sometimes")
    _answer(post, survey_round, 2, choice="yes")
    answers = _answers(db_tx)
    assert answers["feel_safe"].favourable is False  # only "yes" is favourable
    assert answers["came_alone"].favourable is None  # neither answer is good or bad
    _answer(post, survey_round, 1, choice="yes")
    assert _answers(db_tx)["feel_safe"].favourable is True

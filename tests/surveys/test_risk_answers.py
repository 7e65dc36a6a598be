"""A tap counts: risk answers, the help step after them and the alerts they raise.

Through HTTP as a child meets it, without JavaScript (the test client runs none), on the
real question sets: the youngest children's for the help step and a yes, the care leavers'
for an answer that alerts on its own.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from participation.accounts.models import Role, StaffUser
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group
from participation.db import utcnow
from participation.outbox import OutboxEmail
from participation.safeguarding.models import AlertLevel, AlertSource, SafeguardingAlert
from participation.subjects import SubjectType
from surveys.models import Answer, AnswerTally
from surveys.question_sets import (
    QUESTION_SETS_DIR,
    QuestionSetError,
    load_question_set,
    read_question_set,
)
from surveys.risk import RiskStrength, risk_of
from surveys.services import open_round

YOUNGEST = QUESTION_SETS_DIR / "ages-4-7.yaml"
LEAVERS = QUESTION_SETS_DIR / "care-leavers-16-25.yaml"


# Load-time checks ---------------------------------------------------------------------


def _broken(tmp_path: Path, change: Any, source: Path = YOUNGEST) -> Path:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _feel_safe(data: dict[str, Any]) -> dict[str, Any]:
    return next(q for q in data["questions"] if q["key"] == "feel_safe")


@pytest.mark.parametrize(
    "breakage, message",
    [
        (
            lambda d: _feel_safe(d)["risk"].update({"never": {"strength": "offer_help"}}),
            r"feel_safe risk names answers that are not its choices: \['never'\]",
        ),
        (
            # Unquoted no in YAML is a boolean, not the answer "no".
            lambda d: _feel_safe(d).update(risk={False: {"strength": "offer_help"}}),
            r"not its choices: \[False\].*quote yes and no",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(strength="tell_everyone"),
            r"unknown strength 'tell_everyone' \(use one of \['offer_help', 'alert'\]\)",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(level="soon"),
            r"unknown level 'soon'",
        ),
        (
            lambda d: _feel_safe(d)["risk"]["no"].update(colour="red"),
            r"unknown fields \['colour'\]",
        ),
        (lambda d: _feel_safe(d)["risk"]["no"].pop("reason"), r"needs a reason"),
        (
            lambda d: _feel_safe(d)["risk"].update({"yes": {"strength": "alert", "reason": "x"}}),
            r"'yes' is both favourable and a risk",
        ),
        (
            lambda d: d["questions"][-1].update(risk={"no": {"strength": "alert"}}),
            r"anything_else marks risk answers, but only choices can",
        ),
        (lambda d: d.pop("help_step"), r"risk answers need a help_step"),
        (lambda d: d["help_step"].pop("ask"), r"help_step ask needs English words"),
        (lambda d: d["help_step"].update(jokes={"en": "x"}), r"unknown fields \['jokes'\]"),
        (
            lambda d: d["help_step"]["phones"].pop(),
            r"phones must include 999 and 0800 1111",
        ),
        (
            lambda d: d["help_step"]["phones"][0]["text"].update(ar="اتصل"),
            r"phone '999' in ar must say \{number\} once",
        ),
        (
            # An answer that alerts needs the words that say a person is being told now.
            lambda d: _feel_safe(d)["risk"]["no"].update(strength="alert"),
            r"help_step alerted needs English words",
        ),
    ],
)
def test_a_question_set_with_broken_risk_marks_does_not_load(tmp_path, breakage, message):
    with pytest.raises(QuestionSetError, match=message):
        read_question_set(_broken(tmp_path, breakage))


def test_the_loaded_version_keeps_each_mark_with_its_answer(db_tx):
    loaded, _new = load_question_set(db_tx, read_question_set(LEAVERS))
    questions = {q.key: q for q in loaded.questions}
    at_home = risk_of(questions["feel_safe"], "no")
    assert at_home is not None and at_home.strength is RiskStrength.OFFER_HELP
    # Not safe where they live, and yes to someone to talk to: as urgent as the same words
    # typed, or the help page's request.
    assert (at_home.reason, at_home.level) == ("unsafe_at_home", AlertLevel.URGENT)
    tonight = risk_of(questions["safe_tonight"], "no")
    assert tonight is not None and tonight.strength is RiskStrength.ALERT
    assert tonight.level is AlertLevel.URGENT
    assert tonight.help_step["ask"]["en"] == "Would you like someone to talk to you?"
    assert risk_of(questions["feel_safe"], "yes") is None
    assert risk_of(questions["feel_safe"], None) is None


def test_changing_a_risk_mark_makes_a_new_version(db_tx):
    data = read_question_set(YOUNGEST)
    first, _new = load_question_set(db_tx, data)
    changed = copy.deepcopy(data)
    _feel_safe(changed)["risk"]["no"]["level"] = "concern"
    second, new = load_question_set(db_tx, changed)
    assert new and second.version == first.version + 1
    assert risk_of(first.questions[0], "no").level is AlertLevel.URGENT
    assert risk_of(second.questions[0], "no").level is AlertLevel.CONCERN


# Through the pages ----------------------------------------------------------------------


def _round_of(db_tx, council, path: Path, band: AgeBand, name: str) -> Any:
    question_set, _new = load_question_set(db_tx, read_question_set(path))
    group = create_group(
        db_tx,
        council,
        name=name,
        age_band=band,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    return open_round(
        db_tx, council, name="Annual", question_set=question_set, groups=[group],
        opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10),
    ), group  # fmt: skip


@pytest.fixture()
def lead(make_user):
    return make_user(Role.SAFEGUARDING_LEAD, email="lead@test.example")


@pytest.fixture()
def little(db_tx, council, client, post, lead):
    """A 4-7 child who joined their group and started the survey on this phone."""
    survey_round, group = _round_of(db_tx, council, YOUNGEST, AgeBand.AGES_4_7, "Little Voices")
    post("/join", {"code": group.current_join_code.display})
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    return survey_round


@pytest.fixture()
def leaver(db_tx, council, client, post, lead):
    """A care leaver who joined their group and started the survey on this phone."""
    survey_round, group = _round_of(db_tx, council, LEAVERS, AgeBand.CARE_LEAVERS_16_25, "Leavers")
    post("/join", {"code": group.current_join_code.display})
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    return survey_round


def _q(survey_round, key: str) -> str:
    question = next(q for q in survey_round.question_set.questions if q.key == key)
    return f"/survey/{survey_round.id}/q/{question.position}"


def _answer(post, survey_round, key: str, choice: str) -> Any:
    path = _q(survey_round, key)
    return post(path, {"action": "next", "choice": choice}, page=path)


def _say(post, survey_round, key: str, want: str, page: str | None = None) -> Any:
    path = _q(survey_round, key) + "/help"
    return post(path, {"want": want}, page=page or path)


def _alerts(db_tx) -> list[SafeguardingAlert]:
    db_tx.expire_all()
    return list(db_tx.scalars(select(SafeguardingAlert).order_by(SafeguardingAlert.id)))


def _answer_row(db_tx, key: str) -> Answer:
    db_tx.expire_all()
    return db_tx.scalars(select(Answer).where(Answer.question_key == key)).one()


def _lead_emails(db_tx) -> int:
    return db_tx.scalar(
        select(func.count(OutboxEmail.id)).where(OutboxEmail.to_address == "lead@test.example")
    )


def test_a_young_child_who_taps_not_safe_is_taken_straight_to_help(client, post, little, db_tx):
    tapped = _answer(post, little, "feel_safe", "no")
    assert tapped.status_code == 302
    assert tapped.headers["Location"] == _q(little, "feel_safe") + "/help"
    page = client.get(tapped.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for words in (
        "Thank you for telling us.",
        "You are not in trouble.",
        "Would you like someone to talk to you?",
        "If you say yes, we will tell a grown-up who keeps children safe.",
    ):
        assert words in html
    # Pictures and two big answers; Childline and 999 a tap away.
    assert re.search(
        r'name="want" value="yes"[^>]*>\s*<span class="emoji" aria-hidden="true">👍', html
    )
    assert re.search(r'name="want" value="not_now"[^>]*>\s*<span class="emoji"', html)
    assert 'href="tel:08001111"' in html and 'href="tel:999"' in html
    # The answer is kept and counted as usual; nobody is told until the child says yes.
    assert _answer_row(db_tx, "feel_safe").choice == "no"
    assert _alerts(db_tx) == []
    assert _lead_emails(db_tx) == 0


def test_yes_stores_one_alert_with_the_question_and_answer_the_child_saw(
    client, post, little, db_tx
):
    _answer(post, little, "feel_safe", "no")
    said = _say(post, little, "feel_safe", "yes")
    assert said.headers["Location"] == _q(little, "feel_safe") + "/help"
    page = client.get(said.headers["Location"]).get_data(as_text=True)
    assert "Thank you. We will tell a grown-up who keeps children safe." in page
    assert 'name="want"' not in page  # not asked again
    assert f'href="{_q(little, "trusted_adult")}"' in page  # Carry on: the next question
    [alert] = _alerts(db_tx)
    answer = _answer_row(db_tx, "feel_safe")
    assert alert.source is AlertSource.RISK_ANSWER
    assert (alert.subject_type, alert.subject_id) == (SubjectType.SURVEY_ANSWER, answer.id)
    assert alert.level is AlertLevel.URGENT
    assert alert.due_at - alert.created_at == timedelta(hours=1)
    assert alert.reasons == ["unsafe_at_home", "wants_to_talk"]
    assert "within 1 hour, day or night" in page and 'href="tel:999"' in page
    assert f"/help/{alert.id}?next=" in page  # how to reach them, then back to the survey
    assert alert.evidence == ["Do you feel safe where you live?", "No"]
    assert alert.text == "Do you feel safe where you live? — No"
    assert alert.participant_id is not None and alert.group_id is not None
    assert _lead_emails(db_tx) == 1


def test_not_now_carries_on_with_the_next_question_and_tells_nobody(client, post, little, db_tx):
    _answer(post, little, "feel_safe", "no")
    carried = _say(post, little, "feel_safe", "not_now")
    assert carried.headers["Location"] == _q(little, "trusted_adult")
    assert _alerts(db_tx) == []
    # Coming back later starts where the child was, not at the help step.
    again = post(f"/survey/{little.id}/start", {}, page=f"/survey/{little.id}")
    assert again.headers["Location"] == _q(little, "trusted_adult")


def test_double_taps_resends_back_and_changed_answers_make_one_alert_which_stays(
    client, post, little, db_tx
):
    for _ in range(2):
        _answer(post, little, "feel_safe", "no")
    for _ in range(3):
        _say(post, little, "feel_safe", "yes")
    _answer(post, little, "feel_safe", "no")  # Back, and the same answer again
    _answer(post, little, "feel_safe", "sometimes")  # another answer...
    _answer(post, little, "feel_safe", "no")  # ...and back
    _say(post, little, "feel_safe", "yes")
    _answer(post, little, "feel_safe", "yes")  # a changed answer never takes the alert away
    [alert] = _alerts(db_tx)
    assert alert.reasons == ["unsafe_at_home", "wants_to_talk"]
    assert _answer_row(db_tx, "feel_safe").choice == "yes"
    assert _lead_emails(db_tx) == 1
    # Now the answer is not a risk: the help step just carries on, and a yes sent from an
    # old page raises nothing more.
    help_page = client.get(_q(little, "feel_safe") + "/help")
    assert help_page.status_code == 302
    assert help_page.headers["Location"] == _q(little, "trusted_adult")
    _say(post, little, "feel_safe", "yes", page=_q(little, "feel_safe"))
    assert len(_alerts(db_tx)) == 1


def test_each_risk_answer_raises_its_own_alert(client, post, little, db_tx):
    _answer(post, little, "feel_safe", "no")
    _say(post, little, "feel_safe", "yes")
    _answer(post, little, "trusted_adult", "no")
    _say(post, little, "trusted_adult", "yes")
    alerts = _alerts(db_tx)
    assert [a.reasons[0] for a in alerts] == ["unsafe_at_home", "no_trusted_adult"]
    assert alerts[1].evidence == ["Is there a grown-up you can talk to?", "No"]


def test_an_answer_marked_alert_stores_it_with_the_answer_and_still_offers_help(
    client, post, leaver, db_tx
):
    _answer(post, leaver, "home_settled", "no_home")
    tapped = _answer(post, leaver, "safe_tonight", "no")
    assert tapped.headers["Location"] == _q(leaver, "safe_tonight") + "/help"
    [alert] = _alerts(db_tx)  # no yes needed
    answer = _answer_row(db_tx, "safe_tonight")
    assert alert.subject_id == answer.id and alert.source is AlertSource.RISK_ANSWER
    assert alert.level is AlertLevel.URGENT
    assert alert.reasons == ["nowhere_safe_tonight"]
    assert alert.evidence == ["Do you have somewhere safe to sleep tonight?", "No"]
    assert alert.due_at - alert.created_at == timedelta(hours=1)
    assert _lead_emails(db_tx) == 1
    page = client.get(tapped.headers["Location"]).get_data(as_text=True)
    assert "A person who keeps young people safe is being told now." in page
    assert "Would you like someone to talk to you?" in page
    assert 'href="tel:08088004444"' in page and 'href="tel:116123"' in page
    # A resend, then a yes: still one alert and one email; the lead sees the child asked.
    _answer(post, leaver, "safe_tonight", "no")
    _say(post, leaver, "safe_tonight", "yes")
    [alert] = _alerts(db_tx)
    assert alert.reasons == ["nowhere_safe_tonight", "wants_to_talk"]
    assert _lead_emails(db_tx) == 1
    page = client.get(_q(leaver, "safe_tonight") + "/help").get_data(as_text=True)
    assert "Thank you. A person who keeps young people safe will be told." in page


def test_the_alert_is_kept_or_lost_with_the_answer_in_one_transaction(
    app, client, post, leaver, db_tx, monkeypatch
):
    from participation.safeguarding import services as safeguarding

    _answer(post, leaver, "home_settled", "no_home")

    def mail_fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(safeguarding, "_notify_leads", mail_fails)
    assert _answer(post, leaver, "safe_tonight", "no").status_code == 500
    db_tx.expire_all()
    assert db_tx.scalars(select(Answer).where(Answer.question_key == "safe_tonight")).all() == []
    assert _alerts(db_tx) == []


def test_the_yes_and_its_alert_are_one_transaction(client, post, little, db_tx, monkeypatch):
    from participation.safeguarding import services as safeguarding

    _answer(post, little, "feel_safe", "no")

    def mail_fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(safeguarding, "_notify_leads", mail_fails)
    assert _say(post, little, "feel_safe", "yes").status_code == 500
    assert _alerts(db_tx) == []
    monkeypatch.undo()
    _say(post, little, "feel_safe", "yes")
    assert len(_alerts(db_tx)) == 1 and _lead_emails(db_tx) == 1


def test_the_help_step_leaves_the_tallies_as_the_answer_made_them(client, post, little, db_tx):
    _answer(post, little, "feel_safe", "no")
    db_tx.expire_all()
    counted = [
        (t.question_key, t.answered, t.favourable) for t in db_tx.scalars(select(AnswerTally))
    ]
    assert counted == []  # not sent yet: nothing counts
    _say(post, little, "feel_safe", "yes")
    _say(post, little, "feel_safe", "yes")
    client.get(_q(little, "feel_safe") + "/help")
    _say(post, little, "feel_safe", "not_now")
    db_tx.expire_all()
    after = [(t.question_key, t.answered, t.favourable) for t in db_tx.scalars(select(AnswerTally))]
    assert after == counted
    assert db_tx.scalar(select(func.count(Answer.id))) == 1


def test_the_help_step_works_without_javascript(client, post, little, db_tx):
    _answer(post, little, "feel_safe", "no")
    html = client.get(_q(little, "feel_safe") + "/help").get_data(as_text=True)
    form = re.search(r'<form method="post"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None  # posts back to this page: no script, no other address
    assert "action=" not in form.group(0).split(">")[0]
    assert 'name="csrf_token"' in form.group(1)
    assert re.findall(r'<button type="submit" name="want" value="(\w+)"', form.group(1)) == [
        "yes",
        "not_now",
    ]
    assert "onclick" not in html and "javascript:" not in html


def test_a_yes_without_the_page_token_is_refused(client, little, post, db_tx):
    _answer(post, little, "feel_safe", "no")
    refused = client.post(_q(little, "feel_safe") + "/help", data={"want": "yes"})
    assert refused.status_code == 400
    assert _alerts(db_tx) == []


def test_a_yes_on_a_help_step_left_open_too_long_asks_again_on_the_same_page(
    client, little, post, db_tx
):
    _answer(post, little, "feel_safe", "no")
    stale = client.post(
        _q(little, "feel_safe") + "/help", data={"want": "yes", "csrf_token": "expired"}
    )
    assert stale.status_code == 400
    html = stale.get_data(as_text=True)
    assert "open a long time" in html and 'value="yes"' in html and 'name="csrf_token"' in html
    assert _alerts(db_tx) == [] or all("wants_to_talk" not in a.reasons for a in _alerts(db_tx))
    again = post(
        _q(little, "feel_safe") + "/help", {"want": "yes"}, page=_q(little, "feel_safe") + "/help"
    )
    assert again.status_code == 302
    assert any("wants_to_talk" in a.reasons for a in _alerts(db_tx))


def test_another_child_cannot_open_or_answer_this_help_step(
    app, client, post, post_as, little, db_tx
):
    _answer(post, little, "feel_safe", "no")
    other = app.test_client()
    group = little.round_groups[0].group
    post_as(other, "/join", {"code": group.current_join_code.display})
    # Not started: sent to the welcome page; their own answers hold no risk.
    assert (
        other.get(_q(little, "feel_safe") + "/help")
        .headers["Location"]
        .endswith(f"/survey/{little.id}")
    )
    post_as(other, f"/survey/{little.id}/start", {}, page=f"/survey/{little.id}")
    path = _q(little, "feel_safe") + "/help"
    said = post_as(other, path, {"want": "yes"}, page=f"/survey/{little.id}")
    assert said.status_code == 302
    assert _alerts(db_tx) == []
    assert client.get(f"/survey/{little.id + 1000}/q/1/help").status_code == 404


def test_in_arabic_the_help_step_and_the_evidence_are_as_the_child_saw_them(
    db_tx, council, client, post, csrf, lead
):
    survey_round, group = _round_of(db_tx, council, YOUNGEST, AgeBand.AGES_4_7, "Little Voices")
    post("/join", {"code": group.current_join_code.display})
    client.post("/language", data={"language": "ar", "next": "/me", "csrf_token": csrf()})
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    _answer(post, survey_round, "feel_safe", "no")
    html = client.get(_q(survey_round, "feel_safe") + "/help").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "هل تريد أن يتحدث معك أحد؟" in html and "ليس الآن" in html
    assert '<bdi dir="ltr"><a href="tel:08001111">0800 1111</a></bdi>' in html
    _say(post, survey_round, "feel_safe", "yes")
    [alert] = _alerts(db_tx)
    assert alert.evidence == ["هل تشعر بالأمان في المكان الذي تعيش فيه؟", "لا"]
    assert alert.text.endswith("(English: Do you feel safe where you live? — No)")


SETS = sorted(QUESTION_SETS_DIR.glob("*.yaml"))


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_in_every_band_not_feeling_safe_where_you_live_leads_to_help(
    db_tx, council, client, post, lead, path
):
    data = read_question_set(path)
    survey_round, group = _round_of(db_tx, council, path, AgeBand(data["age_band"]), "Group")
    post("/join", {"code": group.current_join_code.display})
    welcome = client.get(f"/survey/{survey_round.id}").get_data(as_text=True)
    # The survey's start page makes the promise the risk marks keep.
    promises = [
        line
        for line in data["welcome"]["en"]
        if "someone to talk to you" in line or "will be told" in line
    ]
    assert len(promises) >= 2 and all(line in welcome for line in promises)
    post(f"/survey/{survey_round.id}/start", {}, page=f"/survey/{survey_round.id}")
    tapped = _answer(post, survey_round, "feel_safe", "no")
    assert tapped.headers["Location"].endswith("/help")
    assert "Would you like someone to talk to you?" in client.get(
        tapped.headers["Location"]
    ).get_data(as_text=True)
    _say(post, survey_round, "feel_safe", "yes")
    [alert] = _alerts(db_tx)
    assert alert.reasons[0] == "unsafe_at_home"
    assert alert.evidence == ["Do you feel safe where you live?", "No"]


def test_a_more_serious_answer_makes_the_same_alert_urgent_and_tells_the_lead_again(
    client, post, leaver, db_tx
):
    _answer(post, leaver, "home_settled", "no_home")
    _answer(post, leaver, "safe_tonight", "not_sure")  # offers help, tells nobody yet
    assert _alerts(db_tx) == []
    _say(post, leaver, "safe_tonight", "yes")
    [alert] = _alerts(db_tx)
    assert alert.level is AlertLevel.CONCERN and _lead_emails(db_tx) == 1
    _answer(post, leaver, "safe_tonight", "no")  # Back: nowhere safe tonight after all
    _answer(post, leaver, "safe_tonight", "no")  # and a resend
    [alert] = _alerts(db_tx)
    assert alert.level is AlertLevel.URGENT
    assert alert.due_at - utcnow() <= timedelta(hours=1)
    assert alert.evidence == [
        "Do you have somewhere safe to sleep tonight?",
        "I'm not sure",
        "Do you have somewhere safe to sleep tonight?",
        "No",
    ]
    assert "wants_to_talk" in alert.reasons
    assert _lead_emails(db_tx) == 2  # the urgent news is a new email


def test_news_after_the_lead_closed_the_alert_starts_a_new_one(client, post, leaver, db_tx):
    from participation.safeguarding import services as safeguarding

    _answer(post, leaver, "home_settled", "no_home")
    _answer(post, leaver, "safe_tonight", "not_sure")
    _say(post, leaver, "safe_tonight", "yes")
    [first] = _alerts(db_tx)
    lead = db_tx.scalars(select(StaffUser).where(StaffUser.email == "lead@test.example")).one()
    safeguarding.record_action(db_tx, first, "Spoke to the young person", lead)
    safeguarding.close(db_tx, first, "Staying with a friend, safe", lead)
    db_tx.flush()
    _answer(post, leaver, "safe_tonight", "not_sure")  # the same answer again: nothing new
    _say(post, leaver, "safe_tonight", "yes")  # already asked: nothing new
    assert len(_alerts(db_tx)) == 1
    _answer(post, leaver, "safe_tonight", "no")  # worse: the closed alert cannot hold it
    _answer(post, leaver, "safe_tonight", "no")
    closed, new = _alerts(db_tx)
    assert closed.id == first.id and closed.level is AlertLevel.CONCERN
    assert new.level is AlertLevel.URGENT and new.status.value == "new"
    assert new.subject_id == closed.subject_id

"""The auditor, and every differencing attack from issue 13 as a named case.

The data: a council with two years of two rounds each for the 11-17 set (three groups of
very different sizes, children who came alone answering three conditional questions),
an 8-11 round, recorded group sizes, answers saved but never sent, challenge cards at
every stage with two private "about me" cards, and tags on free text. The auditor
collects every figure ``panel.published`` gives a page, pack or API answer for every
filter combination and proves, exactly, that no hidden count is in their span.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from panel.audit import audit
from panel.dashboards.queries import Filters
from panel.models import PublishedFigure
from panel.published import published
from panel.release import make_release
from participation.accounts.models import Role
from participation.councils.models import AgeBand, GroupKind, Participant
from participation.councils.services import create_group, join_group
from participation.db import utcnow
from participation.recommendations.services import add_tag
from participation.subjects import SubjectType

THRESHOLD = 10
CONDITIONAL = ("interpreter_when_needed", "immigration_help", "english_lessons")
# (year, season) -> children sending per group; the last group is small throughout.
ROUNDS = {
    (2025, "spring"): (24, 15, 4),
    (2025, "autumn"): (31, 11, 0),
    (2026, "spring"): (18, 26, 7),
    (2026, "autumn"): (27, 9, 3),
}
CAME_ALONE = {"Oak": 3, "Ash": 0, "Elm": 1}  # children who came alone, per round and group


def _insert_responses(session, council, survey_round, group, sent, came_alone, rng, unsent=0):
    """``sent`` children of ``group`` send the round; ``unsent`` more save answers only."""
    from surveys.models import Answer, AnswerStatus, QuestionKind, Response, ResponseStatus

    total = sent + unsent
    if not total:
        return
    ids = session.scalars(
        insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
        [
            {"council_id": council.id, "group_id": group.id, "token_hash": secrets.token_hex(32)}
            for _ in range(total)
        ],
    ).all()
    when = survey_round.opens_at + timedelta(days=3)
    responses = session.scalars(
        insert(Response).returning(Response.id, sort_by_parameter_order=True),
        [
            {
                "council_id": council.id,
                "round_id": survey_round.id,
                "group_id": group.id,
                "participant_id": pid,
                "question_set_id": survey_round.question_set_id,
                "language": "en",
                "current_position": 99,
                "status": ResponseStatus.SUBMITTED if n < sent else ResponseStatus.IN_PROGRESS,
                "started_at": when,
                "updated_at": when,
                "submitted_at": when if n < sent else None,
            }
            for n, pid in enumerate(ids)
        ],
    ).all()
    rows = []
    for n, response_id in enumerate(responses):
        alone = n < came_alone
        for question in survey_round.question_set.questions:
            if question.kind is not QuestionKind.CHOICE:
                continue
            if question.key in CONDITIONAL and not alone:
                continue  # not asked: show_if came_alone
            if question.key == "came_alone":
                choice, favourable = ("yes" if alone else "no"), None
            elif question.favourable:
                good = rng.random() < 0.7
                values = question.choice_values
                pool = [v for v in values if (v in question.favourable) == good] or values
                choice = rng.choice(pool)
                favourable = choice in question.favourable
            else:
                choice, favourable = question.choice_values[0], None
            rows.append(
                {
                    "council_id": council.id,
                    "response_id": response_id,
                    "question_id": question.id,
                    "question_key": question.key,
                    "status": AnswerStatus.ANSWERED,
                    "choice": choice,
                    "favourable": favourable,
                    "text": None,
                    "created_at": when,
                    "updated_at": when,
                }
            )
    session.execute(insert(Answer), rows)


@pytest.fixture()
def history(db_tx, council, make_user, question_set):
    """The council described at the top, with a release made as the worker would."""
    from challenge_cards.models import CardStatus, Service
    from challenge_cards.services import prepare, raise_card
    from surveys.models import RoundGroup
    from surveys.question_sets import latest_versions, load_all
    from surveys.services import open_round

    rng = random.Random(13)
    load_all(db_tx)
    sets = {s.age_band: s for s in latest_versions(db_tx)}
    groups = [
        create_group(
            db_tx,
            council,
            name=name,
            age_band=AgeBand.AGES_11_17,
            kind=GroupKind.CHILDREN_IN_CARE,
            recorded_size=1000,
        )
        for name in CAME_ALONE
    ]
    rounds = {}
    for (year, season), sizes in ROUNDS.items():
        month = 3 if season == "spring" else 9
        survey_round = open_round(
            db_tx,
            council,
            name=f"{season.title()} {year}",
            question_set=sets[AgeBand.AGES_11_17],
            groups=groups,
            opens_at=datetime(year, month, 1, tzinfo=UTC),
            closes_at=datetime(year, month + 2, 1, tzinfo=UTC),
        )
        rounds[(year, season)] = survey_round
        for group, sent in zip(groups, sizes, strict=True):
            alone = min(CAME_ALONE[group.name], sent)
            _insert_responses(db_tx, council, survey_round, group, sent, alone, rng, unsent=2)
    # Recorded group sizes: one rate shown, one with few not sent, one not recorded.
    spring = rounds[(2026, "spring")]
    sizes = {groups[0].id: 40, groups[1].id: 30, groups[2].id: None}
    for rg in db_tx.scalars(select(RoundGroup).where(RoundGroup.round_id == spring.id)):
        rg.expected_size = sizes[rg.group_id]
    younger = create_group(
        db_tx,
        council,
        name="Juniors",
        age_band=AgeBand.AGES_8_11,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    junior_round = open_round(
        db_tx,
        council,
        name="Juniors 2026",
        question_set=question_set,
        groups=[younger],
        opens_at=datetime(2026, 5, 1, tzinfo=UTC),
        closes_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    _insert_responses(db_tx, council, junior_round, younger, 16, 0, rng)

    worker = make_user(Role.PARTICIPATION_WORKER)
    service = Service(council_id=council.id, name="Housing")
    db_tx.add(service)
    db_tx.flush()
    statuses = (
        [CardStatus.NEW] * 3
        + [CardStatus.SENT] * 12
        + [CardStatus.RESPONDED] * 11
        + [CardStatus.CLOSED] * 10
    )
    for number, status in enumerate(statuses):
        card, _alert = raise_card(
            db_tx,
            prepare(f"Better buses to the youth club, idea {number}", "We miss things"),
            group=groups[number % 3],
            service=service,
            about_me=False,
            by=worker,
        )
        card.status = status
        if status is not CardStatus.NEW:
            card.responder_id = worker.id
            card.public_text = f"Better buses, idea {number}"
            card.sent_at = utcnow() - timedelta(days=40)
            card.due_at = utcnow() + timedelta(days=(-3 if number % 2 else 10))
        if status in (CardStatus.RESPONDED, CardStatus.CLOSED):
            card.answered_at = card.sent_at + timedelta(days=9)
        add_tag(
            db_tx,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=card.id,
            code="VOICE-ACTED-ON",
            by=worker,
        )
    for _ in range(2):
        child, _token = join_group(db_tx, groups[0])
        private, _alert = raise_card(
            db_tx,
            prepare("My carer takes my phone at night", "It is not fair"),
            group=groups[0],
            service=service,
            about_me=True,
            participant=child,
        )
        add_tag(
            db_tx,
            subject_type=SubjectType.CHALLENGE_CARD,
            subject_id=private.id,
            code="VOICE-ACTED-ON",
            by=worker,
        )
    db_tx.flush()
    release = make_release(
        db_tx, council.id, utcnow(), threshold=THRESHOLD, min_new=THRESHOLD, reason="test"
    )
    db_tx.flush()
    return {"rounds": rounds, "groups": groups, "release": release, "junior": junior_round}


def _api(client, token_for, council, path, **query):
    response = client.get(
        path, headers={"Authorization": f"Bearer {token_for(council)}"}, query_string=query
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture()
def token_for(db_tx, make_user):
    from panel.api import services as api_services

    def make(council):
        admin = make_user(Role.ADMIN, council_id=council.id)
        return api_services.create_token(db_tx, council, "BI", by=admin)[1]

    return make


# The auditor -----------------------------------------------------------------------------


def test_the_auditor_proves_no_hidden_count_can_be_worked_out(db_tx, council, history):
    report = audit(db_tx, council.id)
    assert report.ok, report.format()
    # It saw a real table: many combinations, shown and hidden figures of every kind.
    assert report.combinations > 60
    assert report.figures_shown > 1000 and report.hidden_checked > 200
    assert report.rank > 50


def test_the_audit_command_says_so_and_exits_0(app, db_tx, council, history):
    result = app.test_cli_runner().invoke(args=["panel", "audit", "--council", council.slug])
    assert result.exit_code == 0, result.output
    assert "no hidden count can be worked out" in result.output


def test_the_auditor_catches_a_figure_shown_that_gives_a_hidden_count_away(db_tx, council, history):
    """The auditor is no rubber stamp: show the small group's spring 2026 base (7), which
    the release hid, and it reports that count (and what the shown figures then give)."""
    _oak, _ash, elm = history["groups"]
    spring = history["rounds"][(2026, "spring")]
    key = f"y-.r{spring.id}.b-.g{elm.id}"
    db_tx.execute(
        update(PublishedFigure)
        .where(
            PublishedFigure.release_id == history["release"].id,
            PublishedFigure.filter_key == key,
            PublishedFigure.item == "feel_safe",
        )
        .values(base_shown=True)
    )
    report = audit(db_tx, council.id, splits=False)
    assert not report.ok
    assert any(f"feel_safe@{key} answered" in f.what and f.value == 7 for f in report.findings)


# Every attack in the issue, as a named case ----------------------------------------------


def test_attack_year_minus_round(db_tx, council, history, client, token_for):
    """A year's figure minus its shown rounds' figures never gives a small hidden count:
    where exactly one round of the year is hidden, the year's figure is hidden too or the
    round's count is not small (it was hidden to protect others, which the auditor checks)."""
    from panel.release import counts_of

    counts = counts_of(db_tx, history["release"].id)
    rounds = [*history["rounds"].values(), history["junior"]]
    for group in [None, *history["groups"]]:
        extra = {"group": group.id} if group else {}
        for year in (2025, 2026):
            whole = _api(client, token_for, council, "/api/v1/indicators", year=year, **extra)
            in_year = [r for r in rounds if r.opens_at.year == year]
            parts = {
                r.id: {
                    row["key"]: row
                    for row in _api(
                        client, token_for, council, "/api/v1/indicators", round=r.id, **extra
                    )["data"]
                }
                for r in in_year
            }
            for row in whole["data"]:
                if row["base"] is None:
                    continue
                hidden = [
                    rid for rid, p in parts.items() if p.get(row["key"], {}).get("base", 0) is None
                ]
                if len(hidden) == 1:
                    true = sum(
                        a
                        for (rid, gid, key), (a, _f) in counts.items()
                        if rid == hidden[0] and key == row["key"] and (not group or gid == group.id)
                    )
                    assert true >= THRESHOLD, (year, group, row["key"], true)


def test_attack_evidence_row_minus_questions(db_tx, council, history, client, token_for):
    """An evidence row shows a figure only when every question it sums shows it, so the
    row minus its shown questions never leaves a hidden one (WORKER-STABILITY), and the
    questions only children who came alone answer never show through UASC-SUPPORT."""
    for group in [None, *history["groups"]]:
        extra = {"group": group.id} if group else {}
        evidence = _api(client, token_for, council, "/api/v1/evidence", **extra)["data"]
        rows = {row["code"]: row for row in evidence}
        questions = {
            row["key"]: row
            for row in _api(client, token_for, council, "/api/v1/indicators", **extra)["data"]
        }
        for code, keys in (
            ("WORKER-STABILITY", ("social_worker_contact", "social_worker_changes")),
            ("UASC-SUPPORT", CONDITIONAL),
        ):
            present = [questions[k] for k in keys if k in questions]
            if rows[code]["base"] is not None:
                assert all(q["base"] is not None for q in present), (code, group)
            if rows[code]["share"] is not None:
                assert all(q["share"] is not None for q in present), (code, group)
        if any(questions[k]["base"] is None for k in CONDITIONAL if k in questions):
            assert rows["UASC-SUPPORT"]["base"] is None, group
    # In one round, at most three children came alone: hidden in the row as in the questions.
    spring = history["rounds"][(2026, "spring")]
    one_round = _api(client, token_for, council, "/api/v1/evidence", round=spring.id)["data"]
    assert next(r for r in one_round if r["code"] == "UASC-SUPPORT")["base"] is None


def test_attack_parts_of_a_hidden_rate(db_tx, council, history, client, token_for):
    """A hidden response rate is hidden with its parts: 'sent 27, group size 30' would
    give the 3 who did not send."""
    rows = _api(client, token_for, council, "/api/v1/response-rates")["data"]
    assert rows, "the round groups are listed"
    for row in rows:
        if row["rate"] is None:
            assert row["sent"] is None and row["expected"] is None, row
    oak, ash, _elm = history["groups"]
    spring = history["rounds"][(2026, "spring")]
    by_key = {row["key"]: row for row in rows}
    assert by_key[f"rate:r{spring.id}.g{oak.id}"]["rate"] == 45  # 18 of 40: both sides >= 10
    assert by_key[f"rate:r{spring.id}.g{ash.id}"]["sent"] is None  # 26 of 30: 4 not sent


def test_attack_card_funnel_with_private_cards(db_tx, council, history, client, token_for):
    """Private 'about me' cards are in no count, and no difference of two shown stages
    is a small number of cards (raised 38, sent 35 would give the 3 new ones away)."""
    data = _api(client, token_for, council, "/api/v1/cards")["data"]
    counts = {s["key"]: s["count"] for s in data["stages"]}
    true = history["release"].fixed["cards"]["true"]
    assert true["raised"] == 36  # 3 new, 12 sent, 11 responded, 10 closed: no private card
    shown = {k: true[k] for k, v in counts.items() if v is not None}
    for first in shown:
        for second in shown:
            difference = shown[first] - shown[second]
            assert not 0 < difference < THRESHOLD, (first, second, difference)
    rows = {r["code"]: r for r in _api(client, token_for, council, "/api/v1/evidence")["data"]}
    assert history["release"].fixed["evidence"]["VOICE-ACTED-ON"]["cards_true"] == {
        "cards_raised": 36,
        "cards_answered": 21,
        "cards_changed": 10,
    }
    assert rows["VOICE-ACTED-ON"]["cards_raised"] in (None, 35)


def test_attack_row_presence(db_tx, council, history, client, token_for):
    """Under a group filter the rows are the questions the group's rounds ask, whether or
    not a child of the group answered them: the conditional questions are there (hidden)
    for the group where no child came alone as for the others."""
    keys = {}
    for group in history["groups"]:
        body = _api(client, token_for, council, "/api/v1/indicators", group=group.id)
        keys[group.name] = [row["key"] for row in body["data"]]
    assert keys["Ash"] == keys["Oak"] == keys["Elm"]
    assert set(CONDITIONAL) <= set(keys["Ash"])
    year_split = _api(client, token_for, council, "/api/v1/indicators/interpreter_when_needed")
    assert [row["key"] for row in year_split["data"]["splits"]["year"]] == ["2025", "2026"]


def test_attack_before_and_after(app, db_tx, council, group, survey_round, client, token_for):
    """Two reads around one child's answer, or one child's send, are the same: figures
    move only in a release, and a release of an open round needs ten new sent responses."""
    from surveys import services as surveys

    question = survey_round.question_set.questions[0]

    def child_answers(choice, send):
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", choice, None), participant, 2
        )
        if send:
            surveys.submit(db_tx, response)
        db_tx.flush()

    for choice in ["yes"] * 14 + ["no"] * 12:
        child_answers(choice, send=True)
    now = utcnow()
    first = make_release(db_tx, council.id, now, threshold=THRESHOLD, min_new=THRESHOLD)
    assert first is not None

    def read():
        return _api(client, token_for, council, "/api/v1/indicators")["data"]

    before = read()
    child_answers("no", send=False)  # saved, never sent
    assert read() == before
    child_answers("no", send=True)  # sent: still the same until a release
    assert read() == before
    # The worker's schedule: nine new sent responses are not enough for a release.
    for _ in range(8):
        child_answers("yes", send=True)
    assert make_release(db_tx, council.id, now, threshold=THRESHOLD, min_new=THRESHOLD) is None
    assert read() == before
    child_answers("yes", send=True)  # the tenth
    assert make_release(db_tx, council.id, now, threshold=THRESHOLD, min_new=THRESHOLD)
    after = {row["key"]: row for row in read()}
    assert after["feel_safe"]["base"] == 35  # 36 sent: the unsent answer is not counted


def test_attack_fake_joins(db_tx, council, group, survey_round, client, token_for, publish):
    """Joining again and again with one code adds nothing to any figure: only sent
    responses count (and, at merge, only confirmed memberships: surveys.reads)."""
    from surveys import services as surveys

    question = survey_round.question_set.questions[0]
    for choice in ["yes"] * 12 + ["no"] * 11:
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", choice, None), participant, 2
        )
        surveys.submit(db_tx, response)
    publish(council)
    before = _api(client, token_for, council, "/api/v1/indicators")["data"]
    for _ in range(6):
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", "no", None), participant, 2
        )
    db_tx.flush()
    publish(council)
    assert _api(client, token_for, council, "/api/v1/indicators")["data"] == before


def test_attack_packs_hold_the_filtered_figures(
    app, db_tx, council, history, client, login_as, csrf
):
    """A pack asked for with a group filter holds that group's figures, not the whole
    council's; and an expired file is refused."""
    from participation.jobs import BackgroundJob

    login_as(Role.PANEL_MEMBER)
    oak = history["groups"][0]
    token = csrf("/panel/pack")
    response = client.post(
        "/panel/pack/exports", data={"format": "csv", "group": str(oak.id), "csrf_token": token}
    )
    assert response.status_code == 302
    result = app.test_cli_runner().invoke(args=["jobs", "work"])
    assert result.exit_code == 0, result.output
    job = db_tx.scalar(select(BackgroundJob).order_by(BackgroundJob.id.desc()))
    download = client.get(f"/panel/exports/{job.id}")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    answers = {
        r["row"].split(" / ")[0]: r["value"]
        for r in rows
        if r["table"] == "indicators" and r["measure"] == "answers"
    }
    expected = published(db_tx, council.id, Filters(group_id=oak.id)).indicators
    whole = published(db_tx, council.id, Filters()).indicators
    assert [r.base for r in expected] != [r.base for r in whole]
    assert answers == {r.item: "*" if r.base is None else str(r.base) for r in expected}
    job.expires_at = utcnow() - timedelta(minutes=1)
    db_tx.flush()
    assert client.get(f"/panel/exports/{job.id}").status_code == 410


def test_percentages_are_rounded_the_same_on_page_pack_and_api(
    db_tx, council, group, survey_round, client, login_as, token_for, publish
):
    """62.5% is 63 on the page, in the pack and in the API (once: 62, 62 and 62.5)."""
    from surveys import services as surveys

    question = survey_round.question_set.questions[0]
    for choice in ["yes"] * 25 + ["no"] * 15:
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", choice, None), participant, 2
        )
        surveys.submit(db_tx, response)
    publish(council)
    api = _api(client, token_for, council, "/api/v1/indicators")["data"]
    assert next(r for r in api if r["key"] == "feel_safe")["share"] == 63
    login_as(Role.PANEL_MEMBER)
    for path in ("/panel", "/panel/pack"):
        page = client.get(path).get_data(as_text=True)
        assert '<td class="share">63</td>' in page, path
        assert ">62<" not in page and "62.5" not in page


def test_age_bands_in_age_order_and_a_hidden_year_shown_as_hidden(
    db_tx, council, history, client, token_for, login_as
):
    """Bands sort by age (4-7, 8-11, 11-17, 16-25), never as text ("11-17" first); a
    year whose figure is hidden is on the trend as hidden, not left out."""
    elm = history["groups"][2]
    splits = _api(client, token_for, council, "/api/v1/indicators/feel_safe")["data"]["splits"]
    assert [row["key"] for row in splits["age_band"]] == ["8-11", "11-17"]
    by_year = _api(client, token_for, council, "/api/v1/indicators/feel_safe", group=elm.id)
    years = by_year["data"]["splits"]["year"]
    assert [row["key"] for row in years] == ["2025", "2026"]
    assert all(row["base"] is None for row in years)  # Elm's years are small: hidden, there
    login_as(Role.PANEL_MEMBER)
    page = client.get(f"/panel/indicators/feel_safe?group={elm.id}").get_data(as_text=True)
    assert "<td>2025</td>" in page and "<td>2026</td>" in page


def test_pages_pack_and_api_show_what_the_one_function_returns(
    db_tx, council, history, client, login_as, token_for
):
    """The proof that the auditor's source is what users get: for several filters the API
    answer, the page and the pack carry exactly the rows ``published`` returns."""
    oak = history["groups"][0]
    spring = history["rounds"][(2026, "spring")]
    login_as(Role.PANEL_MEMBER)
    for filters, query in (
        (Filters(), {}),
        (Filters(year=2026), {"year": 2026}),
        (Filters(group_id=oak.id), {"group": oak.id}),
        (Filters(round_id=spring.id, group_id=oak.id), {"round": spring.id, "group": oak.id}),
    ):
        figures = published(db_tx, council.id, filters)
        api = _api(client, token_for, council, "/api/v1/indicators", **query)["data"]
        assert [(r["figure_key"], r["base"], r["share"]) for r in api] == [
            (r.key, r.base, r.share) for r in figures.indicators
        ]
        evidence = _api(client, token_for, council, "/api/v1/evidence", **query)["data"]
        assert [(r["figure_key"], r["base"], r["share"]) for r in evidence] == [
            (r.key, r.base, r.share) for r in figures.evidence
        ]
        for path in ("/panel", "/panel/pack"):
            page = client.get(path, query_string=query).get_data(as_text=True)
            for row in figures.indicators:
                base = "*" if row.base is None else str(row.base)
                share = "*" if row.share is None else str(row.share)
                assert f'>{base}</td><td class="share">{share}</td>' in page.replace(
                    "\n    ", ""
                ), (path, query, row)

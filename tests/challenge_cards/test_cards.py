"""Challenge cards through HTTP: every step, every role, deadlines, concurrency, privacy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from challenge_cards.models import CardEventKind, CardStatus, ChallengeCard, Service
from challenge_cards.services import remind_overdue
from participation.accounts.models import Role
from participation.db import utcnow
from participation.outbox import OutboxEmail
from participation.recommendations.models import EvidenceTag, TagStatus
from participation.workdays import add_working_days

PRIVATE_WORDS = "My name is Jade Okafor, call me on 07700 900123, I go to Oakwood Academy"
CARD_TEXT = f"We want free bus passes for college. {PRIVATE_WORDS}"
PUBLIC_TEXT = "We want free bus passes for college for care leavers."
PII = ["Jade", "Okafor", "07700 900123", "Oakwood"]


@pytest.fixture()
def service(db_tx, council):
    found = Service(council_id=council.id, name="Transport")
    db_tx.add(found)
    db_tx.flush()
    return found


def _card(db_tx, card_id=None):
    db_tx.expire_all()
    query = select(ChallengeCard).order_by(ChallengeCard.id.desc())
    if card_id:
        query = query.where(ChallengeCard.id == card_id)
    return db_tx.scalars(query).first()


def _raise(post, service, text=CARD_TEXT, **extra):
    data = {
        "what_change": text,
        "why_matters": "It costs too much",
        "service": str(service.id),
        **extra,
    }
    return post("/cards/new", data)


def _version(browser, path):
    return re.search(
        r'name="version" type="hidden" value="(\d+)"', browser.get(path).get_data(as_text=True)
    ).group(1)


def _do(post_as, browser, card, step, data, page=None):
    page = page or f"/staff/cards/{card.id}"
    data = {"version": _version(browser, page), **data}
    return post_as(browser, f"{page}/{step}", data, page=page)


def _send(post_as, worker, card, service, responder, public_text=PUBLIC_TEXT, **extra):
    return _do(
        post_as,
        worker[0],
        card,
        "send",
        {
            "public_text": public_text,
            "service": str(service.id),
            "responder": str(responder[1].id),
            **extra,
        },
    )


def test_a_child_raises_a_card_and_sees_where_it_is(child, post, service, db_tx):
    response = _raise(post, service)
    card = _card(db_tx)
    assert response.headers["Location"] == f"/cards/mine/{card.id}"
    assert card.status is CardStatus.NEW and card.participant_id and not card.about_me
    assert [e.kind for e in card.events] == [CardEventKind.RAISED]
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert "We have got your card" in page
    tags = db_tx.scalars(select(EvidenceTag)).all()
    assert all(t.status is TagStatus.PENDING for t in tags)


def test_an_empty_card_keeps_what_was_typed(child, post, service):
    response = post("/cards/new", {"what_change": " ", "why_matters": "kept words", "service": ""})
    assert response.status_code == 422 and "kept words" in response.get_data(as_text=True)


def test_the_whole_journey_to_you_said_we_did(
    child, post, post_as, service, worker, responder, db_tx
):
    _raise(post, service)
    card = _card(db_tx)
    page = worker[0].get(f"/staff/cards/{card.id}").get_data(as_text=True)
    assert '<mark class="pii' in page and "07700 900123" in page  # marked for the worker
    assert _send(post_as, worker, card, service, responder).status_code == 302
    card = _card(db_tx, card.id)
    assert card.status is CardStatus.SENT and card.public_text == PUBLIC_TEXT
    assert card.due_at == add_working_days(card.sent_at, 20)
    email = db_tx.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == responder[1].email)
    ).one()
    assert PUBLIC_TEXT in email.body and "07700" not in email.body

    respond_page = responder[0].get(f"/staff/responses/{card.id}").get_data(as_text=True)
    assert PUBLIC_TEXT in respond_page and "Jade" not in respond_page
    _do(
        post_as,
        responder[0],
        card,
        "answer",
        {"kind": "will_do", "text": "From January care leavers travel free."},
        page=f"/staff/responses/{card.id}",
    )
    assert _card(db_tx, card.id).status is CardStatus.ANSWERED
    assert "travel free" not in child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert "travel free" not in child.get("/you-said-we-did").get_data(as_text=True)

    _do(post_as, worker[0], card, "approve", {})
    board = child.get("/you-said-we-did").get_data(as_text=True)
    assert PUBLIC_TEXT in board and "travel free" in board
    _do(
        post_as,
        responder[0],
        card,
        "close",
        {"what_changed": "Free bus passes since 6 January."},
        page=f"/staff/responses/{card.id}",
    )
    assert "Free bus passes since 6 January." in child.get("/you-said-we-did").get_data(
        as_text=True
    )
    response = post(
        f"/cards/mine/{card.id}/feedback", {"feedback": "fixed"}, page=f"/cards/mine/{card.id}"
    )
    assert response.status_code == 302
    card = _card(db_tx, card.id)
    assert card.status is CardStatus.CLOSED and card.child_feedback.value == "fixed"
    assert [e.kind for e in card.events] == [
        CardEventKind.RAISED,
        CardEventKind.SENT,
        CardEventKind.ANSWERED,
        CardEventKind.ANSWER_APPROVED,
        CardEventKind.CLOSED,
        CardEventKind.CHILD_FEEDBACK,
    ]
    assert all(e.created_at for e in card.events)
    assert {e.actor_id for e in card.events if e.kind is CardEventKind.SENT} == {worker[1].id}


def test_public_text_with_personal_details_is_refused(
    child, post, post_as, service, worker, responder, db_tx
):
    _raise(post, service)
    card = _card(db_tx)
    response = _send(
        post_as,
        worker,
        card,
        service,
        responder,
        public_text="Call Jade on 07700 900123 about buses",
    )
    assert response.status_code == 422
    assert "still has personal details" in response.get_data(as_text=True)
    assert "Call Jade on 07700 900123 about buses" in response.get_data(
        as_text=True
    )  # kept to edit
    assert _card(db_tx, card.id).status is CardStatus.NEW


def test_a_card_about_me_stays_private(child, post, post_as, service, worker, responder, db_tx):
    _raise(post, service, text="I want to see my brother more", about_me="y")
    card = _card(db_tx)
    assert card.status is CardStatus.PRIVATE and card.about_me
    assert _send(post_as, worker, card, service, responder).status_code in (409, 422)
    assert (
        _do(
            post_as, worker[0], card, "follow-up", {"note": "Talked with her social worker"}
        ).status_code
        == 302
    )
    assert _card(db_tx, card.id).status is CardStatus.CLOSED
    assert "brother" not in child.get("/you-said-we-did").get_data(as_text=True)


def test_the_database_refuses_a_public_text_on_a_private_card(db_tx, group):
    from sqlalchemy.exc import IntegrityError

    card = ChallengeCard(
        council_id=group.council_id,
        group_id=group.id,
        raised_by_id=None,
        participant_id=None,
        what_change="x",
        about_me=True,
        public_text="y",
    )
    with pytest.raises(IntegrityError), db_tx.begin_nested():
        db_tx.add(card)
        db_tx.flush()


def test_return_with_a_question_and_the_child_replies(child, post, post_as, service, worker, db_tx):
    _raise(post, service)
    card = _card(db_tx)
    _do(post_as, worker[0], card, "return", {"note": "Which bus route do you mean?"})
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert "We have a question for you" in page and "Which bus route do you mean?" in page
    post(
        f"/cards/mine/{card.id}/reply",
        {"what_change": "Free buses to college", "why_matters": "The 23"},
        page=f"/cards/mine/{card.id}",
    )
    card = _card(db_tx, card.id)
    assert card.status is CardStatus.NEW and card.why_matters == "The 23"
    assert [e.kind for e in card.events][-1] is CardEventKind.REPLIED and card.events[-1].by_child


def test_decline_gives_the_child_a_reason(child, post, post_as, service, worker, db_tx):
    _raise(post, service)
    card = _card(db_tx)
    _do(
        post_as,
        worker[0],
        card,
        "decline",
        {"note": "The council does not run the buses, but we asked."},
    )
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert "We cannot take this card further" in page and "does not run the buses" in page


def test_merge_with_a_duplicate(child, post, post_as, service, worker, db_tx):
    _raise(post, service, text="Free buses please")
    first = _card(db_tx)
    _raise(post, service, text="Buses should be free")
    second = _card(db_tx)
    _do(post_as, worker[0], second, "merge", {"into": f"#{first.id}"})
    assert _card(db_tx, second.id).status is CardStatus.MERGED
    assert _card(db_tx, first.id).events[-1].note == f"Card #{second.id} joined this card"
    refused = _do(post_as, worker[0], first, "merge", {"into": str(first.id)})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    "role, step",
    [
        (Role.SERVICE_RESPONDER, "send"),
        (Role.PANEL_MEMBER, "approve"),
        (Role.SAFEGUARDING_LEAD, "decline"),
        (Role.ADMIN, "return"),
    ],
)
def test_steps_are_refused_to_the_wrong_role(
    child, post, staff_client, service, db_tx, role, step, csrf
):
    _raise(post, service)
    card = _card(db_tx)
    browser, _user = staff_client(role)
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/staff").get_data(as_text=True)
    ).group(1)
    response = browser.post(
        f"/staff/cards/{card.id}/{step}", data={"csrf_token": token, "version": "1"}
    )
    assert response.status_code == 403
    assert _card(db_tx, card.id).status is CardStatus.NEW


def test_steps_are_refused_from_the_wrong_state(
    child, post, post_as, service, worker, responder, staff_client, db_tx
):
    _raise(post, service)
    card = _card(db_tx)
    refused = _do(post_as, worker[0], card, "approve", {})
    assert refused.status_code == 422 and "not possible now" in refused.get_data(as_text=True)
    _send(post_as, worker, card, service, responder)
    other = staff_client(Role.SERVICE_RESPONDER)
    assert other[0].get(f"/staff/responses/{card.id}").status_code == 404  # sent to someone else
    early = _do(
        post_as,
        responder[0],
        card,
        "close",
        {"what_changed": "x"},
        page=f"/staff/responses/{card.id}",
    )
    assert early.status_code == 422


def test_two_workers_at_once_the_second_is_told_and_keeps_the_words(
    child, post, post_as, service, worker, staff_client, db_tx
):
    _raise(post, service)
    card = _card(db_tx)
    second = staff_client(Role.PARTICIPATION_WORKER)
    stale = _version(second[0], f"/staff/cards/{card.id}")
    _do(post_as, worker[0], card, "return", {"note": "First worker's question"})
    response = post_as(
        second[0],
        f"/staff/cards/{card.id}/decline",
        {"version": stale, "note": "Second worker's reason"},
        page=f"/staff/cards/{card.id}",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "Someone else changed this card" in text
    assert "Second worker&#39;s reason" in text or "Second worker's reason" in text
    card = _card(db_tx, card.id)
    assert card.status is CardStatus.RETURNED and card.return_question == "First worker's question"


def test_overdue_cards_are_flagged_and_emailed_once_a_day(
    child, post, post_as, service, worker, responder, db_tx
):
    _raise(post, service)
    card = _card(db_tx)
    _send(post_as, worker, card, service, responder)
    card = _card(db_tx, card.id)
    later = card.due_at + timedelta(hours=1)
    assert card.is_overdue(later)
    assert remind_overdue(db_tx, now=later) == 1
    assert remind_overdue(db_tx, now=later + timedelta(minutes=5)) == 0
    subjects = db_tx.scalars(
        select(OutboxEmail.subject).where(OutboxEmail.subject.like("Overdue%"))
    ).all()
    assert len(subjects) == 2  # the responder and the worker
    card.due_at = utcnow() - timedelta(days=1)
    db_tx.flush()
    assert "Overdue" in responder[0].get("/staff/responses").get_data(as_text=True)


def test_the_moderation_queue_pages_and_filters(child, post, service, worker, db_tx):
    for number in range(27):
        _raise(post, service, text=f"Idea number {number}")
    first = worker[0].get("/staff/cards").get_data(as_text=True)
    assert "27 cards" in first and "Page 1 of 2" in first and first.count("<tr") == 26
    second = worker[0].get("/staff/cards?page=2").get_data(as_text=True)
    assert second.count("<tr") == 3
    assert "0 cards" in worker[0].get("/staff/cards?status=closed").get_data(as_text=True)


def test_a_worker_raises_a_card_for_a_group_meeting(post_as, worker, group, service, db_tx):
    response = post_as(
        worker[0],
        "/staff/cards/new",
        {"group": str(group.id), "what_change": "A bigger room for group", "service": ""},
    )
    assert response.status_code == 302
    card = _card(db_tx)
    assert card.raised_by_id == worker[1].id and card.participant_id is None


def test_admins_keep_the_list_of_services(staff_client, post_as, db_tx, council):
    admin = staff_client(Role.ADMIN)
    post_as(admin[0], "/staff/services", {"name": "Housing"})
    assert (
        db_tx.scalar(select(func.count()).select_from(Service).where(Service.name == "Housing"))
        == 1
    )
    again = post_as(admin[0], "/staff/services", {"name": "Housing"})
    assert again.status_code == 422


def test_nothing_private_leaks(
    app, child, post, post_as, service, worker, responder, staff_client, db_tx, group, csrf
):
    """Cards full of personal details, taken all the way; every page others can see is searched."""
    _raise(post, service)
    card = _card(db_tx)
    _send(post_as, worker, card, service, responder)
    _do(
        post_as,
        responder[0],
        card,
        "answer",
        {"kind": "cannot_do", "text": "Buses are run by the county."},
        page=f"/staff/responses/{card.id}",
    )
    _do(post_as, worker[0], card, "approve", {})
    _raise(post, service, text=f"About me: {PRIVATE_WORDS}", about_me="y")

    other_child = app.test_client()
    post_as(other_child, "/join", {"code": group.current_join_code.display})
    panel, _ = staff_client(Role.PANEL_MEMBER)
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - {"card_id"} or rule.endpoint == "static":
            continue
        with app.test_request_context():
            url = app.url_for(
                rule.endpoint, **({"card_id": card.id} if "card_id" in rule.arguments else {})
            )
        for browser in (other_child, panel, app.test_client()):
            pages.append((url, browser.get(url).get_data(as_text=True)))
    assert len(pages) > 30
    for url, page in pages:
        for secret in PII:
            assert secret not in page, (url, secret)

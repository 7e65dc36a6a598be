"""One disclosure, one alert: a double tap, a resend or two requests at once make one card.

The card form carries a key made when it is first shown; the key is unique in the database,
so the second request with it lands on the card the first one made: one card, one alert,
one email to the lead. Runs on SQLite and PostgreSQL; the two-threads test needs PostgreSQL.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from challenge_cards import services
from challenge_cards.models import CardEventKind, CardStatus, ChallengeCard
from participation.accounts.models import Role, StaffRole, StaffUser
from participation.db import Base, db
from participation.outbox import OutboxEmail
from participation.safeguarding.models import SafeguardingAlert
from participation.subjects import SubjectType

DISCLOSURE = "he touches me when mum is out"
_KEY_RE = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture()
def lead(make_user):
    return make_user(Role.SAFEGUARDING_LEAD, email="lead@test.example")


def _form(browser, path="/cards/new"):
    page = browser.get(path).get_data(as_text=True)
    return _CSRF_RE.search(page).group(1), _KEY_RE.search(page).group(1)


def _card_data(csrf, key, what=DISCLOSURE):
    return {
        "csrf_token": csrf,
        "submission_key": key,
        "what_change": what,
        "why_matters": "",
        "service": "",
    }


def _counts(session, council_id):
    session.expire_all()
    cards = session.scalar(
        select(func.count())
        .select_from(ChallengeCard)
        .where(ChallengeCard.council_id == council_id)
    )
    alerts = session.scalar(
        select(func.count())
        .select_from(SafeguardingAlert)
        .where(
            SafeguardingAlert.council_id == council_id,
            SafeguardingAlert.subject_type == SubjectType.CHALLENGE_CARD,
        )
    )
    emails = session.scalar(
        select(func.count())
        .select_from(OutboxEmail)
        .where(OutboxEmail.council_id == council_id, OutboxEmail.to_address == "lead@test.example")
    )
    return cards, alerts, emails


def test_a_double_tap_makes_one_card_one_alert_one_email(child, lead, db_tx, council):
    csrf, key = _form(child)
    first = child.post("/cards/new", data=_card_data(csrf, key))
    second = child.post("/cards/new", data=_card_data(csrf, key))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same card's help
    assert first.headers["Location"].startswith("/help/")
    assert _counts(db_tx, council.id) == (1, 1, 1)
    card = db_tx.scalars(select(ChallengeCard)).one()
    assert card.submission_key == key
    assert [e.kind for e in card.events] == [CardEventKind.RAISED]


def test_back_and_resend_lands_on_the_same_card(child, db_tx, council):
    csrf, key = _form(child)
    what = "We want free buses to college"
    first = child.post("/cards/new", data=_card_data(csrf, key, what))
    child.get(first.headers["Location"])
    again = child.post("/cards/new", data=_card_data(csrf, key, what))
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert _counts(db_tx, council.id)[0] == 1
    # The browser's back button shows the form again with a new key but the same words.
    csrf, other_key = _form(child)
    assert other_key != key
    resent = child.post("/cards/new", data=_card_data(csrf, other_key, what))
    assert resent.headers["Location"] == first.headers["Location"]
    assert _counts(db_tx, council.id)[0] == 1
    # Other words are another card; the same words an hour later are too.
    csrf, key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, key, "Free buses on Sundays too"))
    assert _counts(db_tx, council.id)[0] == 2
    for card in db_tx.scalars(select(ChallengeCard)):
        card.created_at -= timedelta(hours=2)
    db_tx.flush()
    csrf, key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, key, what))
    assert _counts(db_tx, council.id)[0] == 3


def test_a_resent_disclosure_with_a_new_form_is_one_alert(child, lead, db_tx, council):
    csrf, key = _form(child)
    first = child.post("/cards/new", data=_card_data(csrf, key))
    csrf, key = _form(child)
    again = child.post("/cards/new", data=_card_data(csrf, key))
    assert again.headers["Location"] == first.headers["Location"]
    assert _counts(db_tx, council.id) == (1, 1, 1)


def test_the_key_is_kept_through_a_validation_error(child, db_tx, council):
    csrf, key = _form(child)
    refused = child.post("/cards/new", data=_card_data(csrf, key, what=" "))
    assert refused.status_code == 422
    assert _KEY_RE.search(refused.get_data(as_text=True)).group(1) == key
    child.post("/cards/new", data=_card_data(csrf, key, "Free buses"))
    child.post("/cards/new", data=_card_data(csrf, key, "Free buses"))
    assert _counts(db_tx, council.id)[0] == 1


def test_the_key_is_kept_through_not_sent_yet(child, db_tx, council, monkeypatch):
    csrf, key = _form(child)
    real = services.raise_card
    calls = {"n": 0}

    def down_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "raise_card", down_once)
    down = child.post("/cards/new", data=_card_data(csrf, key, "Free buses"))
    page = down.get_data(as_text=True)
    assert down.status_code == 503 and "Not sent yet" in page
    assert _KEY_RE.search(page).group(1) == key and "Free buses" in page
    assert child.post("/cards/new", data=_card_data(csrf, key, "Free buses")).status_code == 302
    assert child.post("/cards/new", data=_card_data(csrf, key, "Free buses")).status_code == 302
    assert _counts(db_tx, council.id)[0] == 1


def test_another_childs_key_is_refused(app, child, post_as, group, db_tx, council):
    csrf, key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, key, "Free buses"))
    other = app.test_client()
    post_as(other, "/join", {"code": group.current_join_code.display})
    other_csrf, _own_key = _form(other)
    refused = other.post("/cards/new", data=_card_data(other_csrf, key, "Mine, not theirs"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "already used" in page
    fresh = _KEY_RE.search(page).group(1)
    assert fresh != key  # sending again works, as a new card
    assert other.post("/cards/new", data=_card_data(other_csrf, fresh, "Mine")).status_code == 302
    cards = db_tx.scalars(select(ChallengeCard).order_by(ChallengeCard.id)).all()
    assert [c.what_change for c in cards] == ["Free buses", "Mine"]
    assert cards[0].participant_id != cards[1].participant_id


def test_a_made_up_key_is_replaced(child, db_tx, council):
    csrf, _key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, "<script>", "Free buses"))
    card = db_tx.scalars(select(ChallengeCard)).one()
    assert card.submission_key and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", card.submission_key)


def test_a_worker_double_tap_makes_one_group_card(staff_client, group, db_tx, council):
    worker, _user = staff_client(Role.PARTICIPATION_WORKER)
    csrf, key = _form(worker, "/staff/cards/new")
    data = {**_card_data(csrf, key, "The group wants a budget"), "group": str(group.id)}
    first = worker.post("/staff/cards/new", data=data)
    second = worker.post("/staff/cards/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _counts(db_tx, council.id)[0] == 1


def test_a_request_that_loses_the_race_gets_the_card_of_the_one_that_won(db_tx, group, monkeypatch):
    """The unique key is caught in a savepoint: the transaction carries on, with that card."""
    from participation.councils.models import Participant

    participant = Participant(council_id=group.council_id, group_id=group.id, token_hash="x" * 64)
    db_tx.add(participant)
    db_tx.flush()
    prepared = services.prepare(DISCLOSURE, "")
    won, won_alert = services.raise_card(
        db_tx,
        prepared,
        group=group,
        service=None,
        about_me=False,
        participant=participant,
        submission_key="k" * 32,
    )
    assert won_alert is not None
    # The losing request looked before the winner committed, so it saw no card.
    real = services.card_for_submission
    looks: list[str] = []

    def first_look_sees_nothing(session: Any, key: str) -> Any:
        looks.append(key)
        return None if len(looks) == 1 else real(session, key)

    monkeypatch.setattr(services, "card_for_submission", first_look_sees_nothing)
    monkeypatch.setattr(services, "_same_words_lately", lambda *args, **kwargs: None)
    lost, lost_alert = services.raise_card(
        db_tx,
        prepared,
        group=group,
        service=None,
        about_me=False,
        participant=participant,
        submission_key="k" * 32,
    )
    assert len(looks) == 2  # looked, hit the unique key, looked again
    assert lost.id == won.id and lost_alert is not None and lost_alert.id == won_alert.id
    assert db_tx.scalar(select(func.count()).select_from(ChallengeCard)) == 1
    assert db_tx.scalar(select(func.count()).select_from(SafeguardingAlert)) == 1


# The child's reply to a returned card ------------------------------------------------------


def _returned_card(child, staff_client, db_tx):
    csrf, key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, key, "Free buses"))
    card = db_tx.scalars(select(ChallengeCard)).one()
    worker, _user = staff_client(Role.PARTICIPATION_WORKER)
    page = worker.get(f"/staff/cards/{card.id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = worker.post(
        f"/staff/cards/{card.id}/return",
        data={
            "csrf_token": _CSRF_RE.search(page).group(1),
            "version": version,
            "note": "Which bus?",
        },
    )
    assert response.status_code == 302
    return card


def test_a_double_tapped_reply_is_one_reply_and_one_alert(
    child, staff_client, lead, db_tx, council
):
    card = _returned_card(child, staff_client, db_tx)
    mine = f"/cards/mine/{card.id}"
    page = child.get(mine).get_data(as_text=True)
    data = {
        "csrf_token": _CSRF_RE.search(page).group(1),
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1),
        "what_change": "Free buses",
        "why_matters": DISCLOSURE,
    }
    first = child.post(f"{mine}/reply", data=data)
    second = child.post(f"{mine}/reply", data=data)
    assert first.status_code == 302 and first.headers["Location"].startswith("/help/")
    assert second.status_code == 302 and second.headers["Location"] == mine
    assert "We have your answer" in child.get(mine).get_data(as_text=True)
    db_tx.expire_all()
    card = db_tx.get(ChallengeCard, card.id)
    assert [e.kind for e in card.events].count(CardEventKind.REPLIED) == 1
    assert card.status is CardStatus.NEW
    assert _counts(db_tx, council.id) == (1, 1, 1)


# Two requests at once, on PostgreSQL, with real commits --------------------------------------

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def _remove_council(council_id: int) -> None:
    with Session(db.engine) as session:
        users = select(StaffUser.id).where(StaffUser.council_id == council_id)
        session.execute(delete(StaffRole).where(StaffRole.user_id.in_(users)))
        for table in reversed(Base.metadata.sorted_tables):
            if "council_id" in table.c:
                session.execute(delete(table).where(table.c.council_id == council_id))
        session.execute(
            delete(Base.metadata.tables["council"]).where(
                Base.metadata.tables["council"].c.id == council_id
            )
        )
        session.commit()


@pytest.mark.skipif(not ON_POSTGRES, reason="two connections writing at once need PostgreSQL")
def test_two_requests_at_once_make_one_card_one_alert_one_email(app):
    from participation.councils import services as council_services
    from participation.councils.models import AgeBand, GroupKind

    with Session(db.engine) as session:
        council = council_services.create_council(session, "Race Council", f"race-{time.time_ns()}")
        group = council_services.create_group(
            session,
            council,
            name="Race group",
            age_band=AgeBand.AGES_11_17,
            kind=GroupKind.CHILDREN_IN_CARE,
            recorded_size=1000,
        )
        lead = StaffUser(
            council_id=council.id,
            email="lead@test.example",
            display_name="Lead",
            password_hash="x",
        )
        lead.role_rows = [StaffRole(role=Role.SAFEGUARDING_LEAD)]
        session.add(lead)
        session.commit()
        council_id, join_code = council.id, group.current_join_code.display
    try:
        phone = app.test_client()
        page = phone.get("/join").get_data(as_text=True)
        phone.post("/join", data={"code": join_code, "csrf_token": _CSRF_RE.search(page).group(1)})
        csrf, key = _form(phone)
        # Two taps from one phone: two connections, the same cookies and form.
        taps = [phone, app.test_client()]
        for cookie in phone._cookies.values():
            taps[1].set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]

        def tap(index: int) -> None:
            barrier.wait()
            results[index] = taps[index].post("/cards/new", data=_card_data(csrf, key))

        threads = [threading.Thread(target=tap, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert [r.status_code for r in results] == [302, 302]
        assert results[0].headers["Location"] == results[1].headers["Location"]
        with Session(db.engine) as session:
            assert _counts(session, council_id) == (1, 1, 1)
    finally:
        _remove_council(council_id)


def test_back_and_ticking_about_me_makes_the_same_card_private(child, db_tx, council):
    # Found by an outside tester: the resend landed on the first card, which could still
    # be published, and the tick was ignored without a word.
    csrf, key = _form(child)
    what = "We want free buses to college"
    child.post("/cards/new", data=_card_data(csrf, key, what))
    csrf, other_key = _form(child)
    child.post("/cards/new", data={**_card_data(csrf, other_key, what), "about_me": "y"})
    card = db_tx.scalars(select(ChallengeCard)).one()
    db_tx.refresh(card)
    assert card.about_me and card.status is CardStatus.PRIVATE and card.public_text is None
    assert CardEventKind.ROUTED_PRIVATELY in [e.kind for e in card.events]
    # Never the other way: a private card stays private when sent again without the tick.
    csrf, third_key = _form(child)
    child.post("/cards/new", data=_card_data(csrf, third_key, what))
    db_tx.refresh(card)
    assert card.about_me and card.status is CardStatus.PRIVATE

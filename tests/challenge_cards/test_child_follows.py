"""A child follows a merged card to its answer; "Did this fix it?" starts empty; a card
form left open too long keeps the child's words."""

from __future__ import annotations

import re

from sqlalchemy import select

from challenge_cards.models import CardStatus, ChallengeCard, Service
from tests.challenge_cards.test_cards import PUBLIC_TEXT, _card, _do, _raise, _send
from tests.conftest import post_form

ANSWER = "From January care leavers travel free."


def _service(db_tx, council):
    found = Service(council_id=council.id, name="Transport")
    db_tx.add(found)
    db_tx.flush()
    return found


def _answered(post_as, worker, responder, card, service):
    assert _send(post_as, worker, card, service, responder).status_code == 302
    _do(post_as, responder[0], card, "answer", {"kind": "will_do", "text": ANSWER},
        page=f"/staff/responses/{card.id}")  # fmt: skip
    _do(post_as, worker[0], card, "approve", {})


def test_the_child_of_a_merged_card_follows_the_other_card_to_its_answer(
    app, child, post, post_as, worker, responder, group, council, db_tx
):
    service = _service(db_tx, council)
    other_phone = app.test_client()
    post_form(other_phone, "/join", {"code": group.current_join_code.display})
    post_form(
        other_phone,
        "/cards/new",
        {"what_change": "Free buses please, I am Jade", "why_matters": "", "service": ""},
    )
    carried = _card(db_tx)
    _raise(post, service, text="Buses should be free")
    mine = _card(db_tx)
    _do(post_as, worker[0], mine, "merge", {"into": f"#{carried.id}"})
    assert _card(db_tx, mine.id).status is CardStatus.MERGED
    page = child.get(f"/cards/mine/{mine.id}").get_data(as_text=True)
    assert "The card we joined yours with" in page
    assert "Jade" not in page  # never the other child's own words
    _answered(post_as, worker, responder, _card(db_tx, carried.id), service)
    page = child.get(f"/cards/mine/{mine.id}").get_data(as_text=True)
    assert PUBLIC_TEXT in page and ANSWER in page and "They have answered" in page


def test_did_this_fix_it_starts_with_nothing_chosen(
    child, post, post_as, worker, responder, council, db_tx
):
    service = _service(db_tx, council)
    _raise(post, service)
    card = _card(db_tx)
    _answered(post_as, worker, responder, card, service)
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    assert '="None"' not in page
    radios = re.findall(r'<input[^>]*name="feedback"[^>]*>', page)
    assert len(radios) == 3 and not any("checked" in r for r in radios)
    # "Tell them" without a choice records nothing and asks for one.
    empty = post(f"/cards/mine/{card.id}/feedback", {}, page=f"/cards/mine/{card.id}")
    assert empty.status_code == 422 and "Choose an answer" in empty.get_data(as_text=True)
    assert _card(db_tx, card.id).child_feedback is None
    post(f"/cards/mine/{card.id}/feedback", {"feedback": "partly"}, page=f"/cards/mine/{card.id}")
    page = child.get(f"/cards/mine/{card.id}").get_data(as_text=True)
    chosen = [r for r in re.findall(r'<input[^>]*name="feedback"[^>]*>', page) if "checked" in r]
    assert len(chosen) == 1 and 'value="partly"' in chosen[0]


def test_a_card_form_left_open_too_long_keeps_the_words(app, child, council, db_tx):
    service = _service(db_tx, council)
    page = child.get("/cards/new").get_data(as_text=True)
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', page).group(1)
    words = {"what_change": "Wifi where we live", "why_matters": "For homework",
             "service": str(service.id), "submission_key": key}  # fmt: skip
    for token in ("expired-or-from-a-lost-session", None):
        data = dict(words) if token is None else {**words, "csrf_token": token}
        stale = child.post("/cards/new", data=data)
        assert stale.status_code == 400
        html = stale.get_data(as_text=True)
        assert "Wifi where we live" in html and "For homework" in html
        assert "open a long time" in html
        assert db_tx.scalar(select(ChallengeCard)) is None
    fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    sent = child.post("/cards/new", data={**words, "csrf_token": fresh})
    assert sent.status_code == 302
    assert _card(db_tx).what_change == "Wifi where we live"
    # The phone lost its session cookie: the page still comes back with the words.
    child.delete_cookie("cv_session", domain="localhost")
    again = child.post("/cards/new", data={**words, "csrf_token": fresh})
    assert again.status_code == 400 and "Wifi where we live" in again.get_data(as_text=True)
    assert len(db_tx.scalars(select(ChallengeCard)).all()) == 1  # one key, one card


def test_the_child_of_a_merged_card_says_whether_the_answer_fixed_it(
    app, child, post, post_as, worker, responder, group, council, db_tx
):
    service = _service(db_tx, council)
    other_phone = app.test_client()
    post_form(other_phone, "/join", {"code": group.current_join_code.display})
    post_form(
        other_phone, "/cards/new", {"what_change": "Free buses", "why_matters": "", "service": ""}
    )
    carried = _card(db_tx)
    _raise(post, service, text="Buses should be free")
    mine = _card(db_tx)
    _do(post_as, worker[0], mine, "merge", {"into": f"#{carried.id}"})
    _answered(post_as, worker, responder, _card(db_tx, carried.id), service)
    page = child.get(f"/cards/mine/{mine.id}").get_data(as_text=True)
    assert "Did this fix it?" in page
    done = post(
        f"/cards/mine/{mine.id}/feedback", {"feedback": "fixed"}, page=f"/cards/mine/{mine.id}"
    )
    assert done.status_code == 302
    assert _card(db_tx, mine.id).child_feedback is not None
    assert "Thank you for telling us" in child.get(f"/cards/mine/{mine.id}").get_data(as_text=True)


def test_did_this_fix_it_left_open_too_long_keeps_the_choice(
    child, post, post_as, worker, responder, council, db_tx
):
    service = _service(db_tx, council)
    _raise(post, service)
    card = _card(db_tx)
    _answered(post_as, worker, responder, card, service)
    for token in ("expired-or-from-a-lost-session", None):
        data = (
            {"feedback": "partly"} if token is None else {"feedback": "partly", "csrf_token": token}
        )
        stale = child.post(f"/cards/mine/{card.id}/feedback", data=data)
        assert stale.status_code == 400
        html = stale.get_data(as_text=True)
        assert "open a long time" in html
        chosen = [
            r for r in re.findall(r'<input[^>]*name="feedback"[^>]*>', html) if "checked" in r
        ]
        assert len(chosen) == 1 and 'value="partly"' in chosen[0]
        assert 'name="csrf_token"' in html
        assert _card(db_tx, card.id).child_feedback is None
    again = post(
        f"/cards/mine/{card.id}/feedback", {"feedback": "partly"}, page=f"/cards/mine/{card.id}"
    )
    assert again.status_code == 302 and _card(db_tx, card.id).child_feedback is not None

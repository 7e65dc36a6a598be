"""Children join a group with a code and are known only by a random token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.councils import services
from participation.councils.models import Participant


def _count(db_tx):
    return db_tx.scalar(select(func.count()).select_from(Participant))


@pytest.mark.parametrize("_", range(20))
def test_join_codes_avoid_characters_that_are_easy_to_mix_up(_):
    code = services.generate_join_code()
    assert len(code) == 8
    assert not set(code) & set("0O1IL2Z5S8B")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("acde-fghj", "ACDEFGHJ"),
        (" ACDE FGHJ ", "ACDEFGHJ"),
        ("ACDE0GHJ", None),
        ("ACD", None),
        ("", None),
    ],
)
def test_typed_codes_are_normalised(typed, expected):
    assert services.normalise_join_code(typed) == expected


def test_a_child_joins_with_the_code_and_gets_only_a_token(app, client, post, group, db_tx):
    code = group.current_join_code.display
    response = post("/join", {"code": code.lower()})
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    cookie = client.get_cookie(app.config["CHILD_COOKIE_NAME"])
    assert cookie is not None and cookie.http_only and len(cookie.value) >= 40
    participant = db_tx.scalar(select(Participant))
    assert participant.group_id == group.id and participant.council_id == group.council_id
    assert participant.token_hash == services.hash_token(cookie.value)
    assert cookie.value not in participant.token_hash
    page = client.get("/me").get_data(as_text=True)
    assert "You are in Voices 8 to 11" in page


def test_tapping_join_twice_makes_one_child(client, post, group, db_tx):
    code = group.current_join_code.display
    post("/join", {"code": code})
    post("/join", {"code": code})
    assert _count(db_tx) == 1


def test_a_wrong_code_gets_a_clear_message(post, group, db_tx):
    response = post("/join", {"code": "AAAA-AAAA"})
    assert response.status_code == 404
    assert "We could not find that code" in response.get_data(as_text=True)
    assert _count(db_tx) == 0


def test_an_empty_code_keeps_the_child_on_the_page(post, db_tx):
    response = post("/join", {"code": "   "})
    assert response.status_code == 422
    assert "Type the code your worker gave you" in response.get_data(as_text=True)


def test_a_rotated_code_stops_working_but_children_stay_in(
    client, post, group, db_tx, login_as, csrf
):
    old = group.current_join_code.display
    post("/join", {"code": old})
    login_as(Role.PARTICIPATION_WORKER)
    response = client.post(f"/staff/groups/{group.id}/rotate-code", data={"csrf_token": csrf()})
    assert response.status_code == 302
    db_tx.expire_all()
    new = group.current_join_code.display
    assert new != old
    assert client.get("/me").status_code == 200  # the child who joined is still in
    again = post("/join", {"code": old})
    assert again.status_code == 410
    assert "This code has changed" in again.get_data(as_text=True)


def test_the_join_link_asks_before_joining(client, group, db_tx):
    response = client.get(f"/j/{group.current_join_code.code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Join Voices 8 to 11" in page and group.current_join_code.display in page
    assert _count(db_tx) == 0


def test_a_child_without_a_cookie_is_sent_to_join(client):
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"] == "/join"


def test_join_attempts_are_rate_limited(post, group, rate_limits):
    answers = [post("/join", {"code": "AAAA-AAAA"}).status_code for _ in range(11)]
    assert answers[:10] == [404] * 10
    assert answers[10] == 429


def test_forgetting_the_device_removes_the_cookie(app, client, post, group):
    post("/join", {"code": group.current_join_code.display})
    response = post("/me/forget", {}, page="/me")
    assert response.status_code == 302
    assert client.get_cookie(app.config["CHILD_COOKIE_NAME"]) is None
    assert client.get("/me").status_code == 302


def test_only_one_live_code_per_group_is_kept_by_the_database(db_tx, group):
    from sqlalchemy.exc import IntegrityError

    from participation.councils.models import JoinCode

    with pytest.raises(IntegrityError), db_tx.begin_nested():
        db_tx.add(JoinCode(council_id=group.council_id, group_id=group.id, code="ACDEFGHJ"))
        db_tx.flush()


def test_worker_creates_a_group_and_sees_its_code(client, post, login_as, db_tx):
    login_as(Role.PARTICIPATION_WORKER)
    response = post(
        "/staff/groups/new", {"name": "Care Leavers", "age_band": "16-25", "kind": "care_leavers"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Care leavers, 16 to 25" in page
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn on the server


def test_a_group_name_is_unique_within_a_council(post, login_as, group):
    login_as(Role.PARTICIPATION_WORKER)
    response = post(
        "/staff/groups/new", {"name": group.name, "age_band": "8-11", "kind": "children_in_care"}
    )
    assert response.status_code == 422
    assert "already has a group with that name" in response.get_data(as_text=True)


def test_staff_see_only_their_own_councils_groups(client, login_as, group, other_council, db_tx):
    services.create_group(
        db_tx,
        other_council,
        name="Elsewhere",
        age_band=group.age_band,
        kind=group.kind,
        recorded_size=1000,
    )
    login_as(Role.PARTICIPATION_WORKER)
    page = client.get("/staff/groups").get_data(as_text=True)
    assert group.name in page and "Elsewhere" not in page


def test_a_room_of_children_on_one_address_can_all_join(client, post, group, rate_limits):
    """Successful joins do not count against the limit: only wrong codes do."""
    from flask.testing import FlaskClient

    app = client.application
    for _ in range(25):
        phone = FlaskClient(app, app.response_class, use_cookies=True)
        page = phone.get("/join").get_data(as_text=True)
        token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        response = phone.post(
            "/join", data={"code": group.current_join_code.display, "csrf_token": token}
        )
        assert response.status_code == 302


def test_a_join_page_left_open_too_long_keeps_the_code(client, group, db_tx):
    code = group.current_join_code.display
    for token in ("expired-or-from-a-lost-session", None):
        data = {"code": code} if token is None else {"code": code, "csrf_token": token}
        stale = client.post("/join", data=data)
        assert stale.status_code == 400
        html = stale.get_data(as_text=True)
        assert "open a long time" in html and code in html
        assert client.get_cookie("cv_child") is None

"""One phone in several groups: one child, one token, nothing lost, counted once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from participation.accounts.models import Role
from participation.councils.models import (
    AgeBand,
    GroupKind,
    Membership,
    Participant,
    awaiting_confirmation,
)
from participation.councils.services import create_group
from participation.db import utcnow
from surveys import services as surveys
from surveys.models import Response, ResponseStatus


def _second_group(db_tx, council, name="Second voices", band=AgeBand.AGES_8_11):
    return create_group(
        db_tx,
        council,
        name=name,
        age_band=band,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )


def test_joining_a_second_group_keeps_the_child_and_their_half_done_survey(
    app, client, post, group, council, survey_round, db_tx
):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302
    token = client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value
    base = f"/survey/{survey_round.id}"
    post(f"{base}/start", {}, page=base)
    post(f"{base}/q/1", {"action": "next", "choice": "yes"}, page=f"{base}/q/1")
    other = _second_group(db_tx, council)
    joined = post("/join", {"code": other.current_join_code.display}, page="/join")
    assert joined.status_code == 302
    # The same child: the same token, one participant, two groups.
    assert client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value == token
    assert db_tx.scalar(select(func.count(Participant.id))) == 1
    assert db_tx.scalar(select(func.count(Membership.id))) == 2
    home = client.get("/me").get_data(as_text=True)
    assert group.name in home and other.name in home
    assert f"/survey/{survey_round.id}" in home  # the first group's survey is still there
    page = client.get(f"{base}/q/1").get_data(as_text=True)
    assert 'value="yes" checked' in page  # nothing lost
    # Joining again changes nothing.
    post("/join", {"code": other.current_join_code.display}, page="/join")
    assert db_tx.scalar(select(func.count(Membership.id))) == 2


def test_a_round_open_to_both_groups_counts_the_child_once(
    client, post, group, council, question_set, db_tx
):
    other = _second_group(db_tx, council)
    both = surveys.open_round(
        db_tx, council, name="Both", question_set=question_set, groups=[group, other],
        opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=3),
    )  # fmt: skip
    post("/join", {"code": group.current_join_code.display})
    post("/join", {"code": other.current_join_code.display}, page="/join")
    home = client.get("/me").get_data(as_text=True)
    assert home.count(f'href="/survey/{both.id}"') == 1
    base = f"/survey/{both.id}"
    for _ in range(2):  # the second time: sent already, nothing new
        post(f"{base}/start", {}, page="/me")
        post(f"{base}/q/1", {"action": "next", "choice": "yes"}, page="/me")
        post(f"{base}/submit", {}, page="/me")
    responses = db_tx.scalars(select(Response).where(Response.round_id == both.id)).all()
    assert len(responses) == 1 and responses[0].status is ResponseStatus.SUBMITTED
    assert responses[0].group_id == group.id  # the group the child joined first


def test_another_councils_code_does_not_replace_the_child(
    app, client, post, group, other_council, db_tx
):
    post("/join", {"code": group.current_join_code.display})
    token = client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value
    elsewhere = _second_group(db_tx, other_council, name="Elsewhere")
    refused = post("/join", {"code": elsewhere.current_join_code.display}, page="/join")
    assert refused.status_code == 409
    assert "another council" in refused.get_data(as_text=True)
    assert client.get_cookie(app.config["CHILD_COOKIE_NAME"]).value == token


def test_joins_beyond_the_recorded_size_wait_for_the_worker(
    app, client, post, login_as, group, db_tx
):
    group.recorded_size = 1
    db_tx.flush()
    phones = [app.test_client() for _ in range(3)]
    from tests.conftest import post_form

    for phone in phones:
        assert (
            post_form(phone, "/join", {"code": group.current_join_code.display}).status_code == 302
        )
    held = db_tx.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.beyond_size)
    ).all()
    assert len(held) == 2  # the first fits the recorded size of 1
    waiting = db_tx.scalar(
        select(func.count(Participant.id)).where(awaiting_confirmation(Participant.id, group.id))
    )
    assert waiting == 2
    login_as(Role.PARTICIPATION_WORKER)
    page = client.get(f"/staff/groups/{group.id}").get_data(as_text=True)
    assert "2 joins" in page and "Confirm" in page
    done = post(
        f"/staff/groups/{group.id}/confirm-joins",
        {"membership": [str(m.id) for m in held]},
        page=f"/staff/groups/{group.id}",
    )
    assert done.status_code == 302
    db_tx.expire_all()
    assert (
        db_tx.scalar(
            select(func.count(Participant.id)).where(
                awaiting_confirmation(Participant.id, group.id)
            )
        )
        == 0
    )


def test_with_no_recorded_size_no_join_is_counted_on_trust(
    app, client, post, login_as, group, db_tx
):
    # The attack an outside tester made: twenty made-up children joined with the group's
    # code and sent fixed answers, so the shown percentage gave away one real child's.
    from tests.conftest import post_form

    group.recorded_size = None
    db_tx.flush()
    for _ in range(3):
        phone = app.test_client()
        assert (
            post_form(phone, "/join", {"code": group.current_join_code.display}).status_code == 302
        )
    waiting = db_tx.scalar(
        select(func.count(Participant.id)).where(awaiting_confirmation(Participant.id, group.id))
    )
    assert waiting == 3
    login_as(Role.PARTICIPATION_WORKER)
    page = client.get(f"/staff/groups/{group.id}").get_data(as_text=True)
    assert "3 joins to confirm" in page and "No group size is recorded" in page

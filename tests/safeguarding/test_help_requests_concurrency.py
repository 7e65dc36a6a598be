"""Two help requests with one submission key at the same moment: one request, one alert.

These commit for real (each request is its own transaction, as in production), so they run
on PostgreSQL only, in a council of their own that is deleted afterwards.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from participation.accounts.models import Role, StaffRole, StaffUser
from participation.councils import services as council_services
from participation.councils.models import AgeBand, GroupKind, Participant
from participation.db import Base, db
from participation.outbox import OutboxEmail
from participation.safeguarding import help_requests
from participation.safeguarding.models import HelpRequest, SafeguardingAlert
from tests.conftest import post_form


@dataclass
class World:
    engine: Engine
    council_id: int
    group_id: int
    join_code: str
    participant_id: int


@pytest.fixture()
def committed_world(app: Any) -> Iterator[World]:
    """A council with a group, a lead and a child, committed; everything deleted after."""
    engine = db.engine
    assert engine is not None
    if engine.dialect.name != "postgresql":
        pytest.skip("two writers racing on one unique key need PostgreSQL")
    tag = uuid.uuid4().hex[:10]
    with app.app_context(), Session(engine) as session:
        council = council_services.create_council(session, f"Race {tag}", f"race-{tag}")
        group = council_services.create_group(
            session,
            council,
            name="Racers",
            age_band=AgeBand.AGES_11_17,
            kind=GroupKind.CHILDREN_IN_CARE,
            recorded_size=1000,
        )
        lead = StaffUser(
            council_id=council.id,
            email=f"lead-{tag}@race.example",
            display_name="Lead",
            password_hash="x",
        )
        lead.role_rows = [StaffRole(role=Role.SAFEGUARDING_LEAD)]
        session.add(lead)
        participant, _token = council_services.join_group(session, group)
        session.commit()
        world = World(
            engine,
            council.id,
            group.id,
            group.current_join_code.code,  # type: ignore[union-attr]
            participant.id,
        )
    yield world
    with engine.begin() as connection:
        users = select(StaffUser.id).where(StaffUser.council_id == world.council_id)
        connection.execute(delete(StaffRole).where(StaffRole.user_id.in_(users)))
        for table in reversed(Base.metadata.sorted_tables):
            if "council_id" in table.c and table.name != "council":
                connection.execute(delete(table).where(table.c.council_id == world.council_id))
        connection.execute(text("DELETE FROM council WHERE id = :id"), {"id": world.council_id})


def _counts(world: World) -> tuple[int, int, int]:
    with Session(world.engine) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(
                select(func.count()).select_from(model).where(model.council_id == world.council_id)
            )
            for model in (HelpRequest, SafeguardingAlert, OutboxEmail)
        )


def test_a_racing_second_insert_waits_then_returns_the_first_request(app, committed_world):
    world = committed_world
    key = f"race-{uuid.uuid4().hex}"
    results: dict[str, Any] = {}
    with app.app_context(), Session(world.engine) as first:
        child = first.get(Participant, world.participant_id)
        assert child is not None
        winner = help_requests.request_help(first, child, submission_key=key, words="help")

        def second_tap() -> None:
            with app.app_context(), Session(world.engine) as second:
                same_child = second.get(Participant, world.participant_id)
                assert same_child is not None
                asked = help_requests.request_help(
                    second, same_child, submission_key=key, words="help"
                )
                results["asked"] = (asked.request.id, asked.alert.id, asked.created)
                second.commit()

        racer = threading.Thread(target=second_tap)
        racer.start()
        # Wait until the second insert is blocked on the first's uncommitted key, so the
        # savepoint-and-unique-violation path is the one taken.
        with world.engine.connect() as probe:
            deadline = time.monotonic() + 10
            while not probe.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                assert time.monotonic() < deadline, "the second insert never waited"
                time.sleep(0.02)
                probe.rollback()
        first.commit()
        racer.join(timeout=10)
        assert (winner.request.id, winner.alert.id, True) == (
            results["asked"][0],
            results["asked"][1],
            not results["asked"][2],
        )
    assert _counts(world) == (1, 1, 1)


_KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


def test_two_taps_through_http_at_once_make_one_request_one_alert_one_email(app, committed_world):
    world = committed_world
    phone = app.test_client()
    assert post_form(phone, "/join", {"code": world.join_code}).status_code == 302
    page = phone.get("/help").get_data(as_text=True)
    key = _KEY.search(page).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    names = (app.config["CHILD_COOKIE_NAME"], app.config["SESSION_COOKIE_NAME"])
    cookies = {name: phone.get_cookie(name).value for name in names}  # type: ignore[union-attr]

    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def tap() -> None:
        browser = app.test_client()
        for name, value in cookies.items():
            browser.set_cookie(name, value, domain="localhost")
        start.wait()
        response = browser.post(
            "/help", data={"csrf_token": token, "submission_key": key, "words": "now pls"}
        )
        answers.append((response.status_code, response.headers.get("Location", "")))

    taps = [threading.Thread(target=tap) for _ in range(2)]
    for t in taps:
        t.start()
    for t in taps:
        t.join(timeout=30)
    assert len(answers) == 2 and {status for status, _ in answers} == {302}
    assert answers[0][1] == answers[1][1]
    assert _counts(world) == (1, 1, 1)

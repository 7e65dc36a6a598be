"""A TOTP code is accepted once, atomically: two sessions sending the same fresh code at
the same moment get one sign-in between them.

These commit for real (each request is its own transaction, as in production), so they
run on PostgreSQL only, in a council of their own that is deleted afterwards.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from participation.accounts import crypto, services
from participation.accounts.models import Role, StaffRole, StaffUser
from participation.councils import services as council_services
from participation.db import Base, db
from tests.conftest import _TEST_PASSWORD_HASH, TEST_PASSWORD, post_form

TRIALS = 8


@dataclass
class World:
    engine: Engine
    council_id: int
    user_id: int
    email: str
    secret: str


@pytest.fixture()
def committed_worker(app: Any) -> Iterator[World]:
    engine = db.engine
    assert engine is not None
    if engine.dialect.name != "postgresql":
        pytest.skip("two sessions racing for one row need PostgreSQL")
    tag = uuid.uuid4().hex[:10]
    secret = pyotp.random_base32()
    with app.app_context(), Session(engine) as session:
        council = council_services.create_council(session, f"Race {tag}", f"race-{tag}")
        user = StaffUser(
            council_id=council.id,
            email=f"worker-{tag}@race.example",
            display_name="Worker",
            password_hash=_TEST_PASSWORD_HASH,
            totp_secret=crypto.encrypt(secret),
        )
        user.role_rows = [StaffRole(role=Role.PARTICIPATION_WORKER)]
        session.add(user)
        session.commit()
        world = World(engine, council.id, user.id, user.email, secret)
    yield world
    with engine.begin() as connection:
        users = select(StaffUser.id).where(StaffUser.council_id == world.council_id)
        connection.execute(delete(StaffRole).where(StaffRole.user_id.in_(users)))
        for table in reversed(Base.metadata.sorted_tables):
            if "council_id" in table.c and table.name != "council":
                connection.execute(delete(table).where(table.c.council_id == world.council_id))
        connection.execute(text("DELETE FROM council WHERE id = :id"), {"id": world.council_id})


def _forget_last_step(world: World) -> None:
    with world.engine.begin() as connection:
        connection.execute(
            update(StaffUser).where(StaffUser.id == world.user_id).values(totp_last_step=None)
        )


def _race(work: list[Any]) -> list[Any]:
    """Run each callable in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_sessions_sending_the_same_fresh_code_get_one_sign_in(app, committed_worker):
    world = committed_worker
    for _trial in range(TRIALS):
        _forget_last_step(world)
        browsers = [app.test_client() for _ in range(2)]
        tokens = []
        for browser in browsers:
            signed = post_form(
                browser, "/sign-in", {"email": world.email, "password": TEST_PASSWORD}
            )
            assert signed.headers["Location"] == "/sign-in/code"
            page = browser.get("/sign-in/code").get_data(as_text=True)
            tokens.append(page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0])
        code = pyotp.TOTP(world.secret).now()
        statuses = _race(
            [
                (
                    lambda b=b, t=t, code=code: (
                        b.post("/sign-in/code", data={"code": code, "csrf_token": t}).status_code
                    )
                )
                for b, t in zip(browsers, tokens, strict=True)
            ]
        )
        assert sorted(statuses) == [302, 401], statuses
        signed_in = [b.get("/staff").status_code for b in browsers]
        assert sorted(signed_in) == [200, 302]


def test_the_step_is_claimed_by_one_conditional_update(app, committed_worker):
    # Below the views (no throttle row lock to queue them): the UPDATE alone decides.
    world = committed_worker
    for _trial in range(TRIALS):
        _forget_last_step(world)
        code = pyotp.TOTP(world.secret).now()

        def verify(code: str = code) -> bool:
            with app.app_context(), Session(world.engine) as session:
                user = session.get(StaffUser, world.user_id)
                assert user is not None
                accepted = services.verify_second_factor(session, user, code)
                session.commit()
                return accepted

        assert sorted(_race([verify, verify, verify])) == [False, False, True]

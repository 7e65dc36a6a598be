"""The people of the card tests: a child who has joined the group, a worker, a responder."""

from __future__ import annotations

import pytest

from participation.accounts.models import Role


@pytest.fixture()
def child(client, post, group):
    post("/join", {"code": group.current_join_code.display})
    return client


@pytest.fixture()
def worker(staff_client):
    return staff_client(Role.PARTICIPATION_WORKER)


@pytest.fixture()
def responder(staff_client):
    return staff_client(Role.SERVICE_RESPONDER)

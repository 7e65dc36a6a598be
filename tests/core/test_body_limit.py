"""Bodies over the limit are refused with 413, chunked or not; smaller chunked bodies work."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest

from tests.conftest import csrf_token

LIMIT = 1024 * 1024


def _chunked(client, path, body, terminated=True):
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        environ_overrides={"wsgi.input_terminated": terminated},
    )


@pytest.mark.parametrize("terminated", [True, False])
@pytest.mark.parametrize("path", ["/join", "/help", "/cards/new"])
def test_a_chunked_body_over_the_limit_is_refused(client, group, path, terminated):
    body = b"code=" + b"A" * (LIMIT + 10)
    response = _chunked(client, path, body, terminated)
    assert response.status_code == 413
    assert "too big" in response.get_data(as_text=True)


def test_a_declared_length_over_the_limit_is_refused(client):
    response = client.post("/join", data={"code": "A" * (LIMIT + 10)})
    assert response.status_code == 413


def test_a_chunked_body_within_the_limit_is_read_whole(client, group, db_tx):
    from participation.councils.models import Participant

    token = csrf_token(client, "/join")
    body = urlencode({"code": group.current_join_code.code, "csrf_token": token}).encode()
    response = _chunked(client, "/join", body)
    assert response.status_code == 302
    assert db_tx.query(Participant).count() == 1

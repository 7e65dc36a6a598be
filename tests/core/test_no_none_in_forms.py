# ruff: noqa: F811 (the fixtures imported from test_routes_access are used as arguments)
"""No page shows a Python None in a form: every GET page, for every role and for a child
(before and after sending the survey, with a card answered), is scanned for ``="None"``."""

from __future__ import annotations

import re

import pytest

from participation.accounts.models import Role
from tests.conftest import post_form
from tests.core.test_routes_access import (  # noqa: F401 (fixtures)
    _make_responder_of,
    _routes,
    _sample_args,
    _url,
    alert,
    card,
    export_job,
)

NONE_IN_HTML = re.compile(r'="None"|>None<|value=None\b')


def _scan(app, client, group, user, alert, survey_round, card, export_job):
    scanned = 0
    for rule in _routes(app):
        if "GET" not in rule.methods or rule.endpoint.startswith("api."):
            continue
        args = _sample_args(
            rule.endpoint, rule.arguments, group, user, alert.id, survey_round.id, card.id,
            card.service_id, export_job.id,
        )  # fmt: skip
        response = client.get(_url(app, rule.endpoint, **args))
        if response.status_code != 200 or "html" not in (response.content_type or ""):
            continue
        html = response.get_data(as_text=True)
        assert not NONE_IN_HTML.search(html), (rule.endpoint, NONE_IN_HTML.search(html))
        scanned += 1
    return scanned


@pytest.mark.parametrize("role", [*Role], ids=lambda r: r.value)
def test_no_staff_page_renders_none(
    app, client, login_as, group, alert, survey_round, card, export_job, db_tx, role
):
    user = login_as(role)
    _make_responder_of(db_tx, card, user)
    assert _scan(app, client, group, user, alert, survey_round, card, export_job) >= 3


def test_no_child_page_renders_none_before_or_after_sending(
    app, client, group, alert, survey_round, card, export_job, db_tx
):
    post_form(client, "/join", {"code": group.current_join_code.display})
    base = f"/survey/{survey_round.id}"
    post_form(client, f"{base}/start", {}, page=base)
    fresh = client.get(f"{base}/q/1").get_data(as_text=True)
    assert not re.search(r'<input[^>]*type="radio"[^>]*checked', fresh)  # nothing chosen yet
    assert _scan(app, client, group, None, alert, survey_round, card, export_job) >= 5
    post_form(client, f"{base}/q/1", {"action": "next", "choice": "yes"}, page="/me")
    post_form(client, f"{base}/submit", {}, page="/me")
    assert _scan(app, client, group, None, alert, survey_round, card, export_job) >= 5
    change = client.get(f"{base}/q/1/change").get_data(as_text=True)
    assert not NONE_IN_HTML.search(change)

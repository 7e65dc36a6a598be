"""The aggregate endpoints: the dashboards' figures as JSON, hidden values as null."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from participation.access import Audience, rule_for

# Numbers that are not counts of children or cards: everything else in an answer is
# treated as a count, so that a count added later is scanned without anyone listing it.
NOT_COUNTS = {
    "threshold",
    "key",
    "share",
    "rate",
    "median_days",
    "release_id",
    "round_id",
    "group_id",
}
SAMPLE_KEYS = ["feel_safe", "interpreter", "came_alone"]


def _api_rules(app):
    with app.test_request_context():
        return [
            rule
            for rule in app.url_map.iter_rules()
            if (access := rule_for(rule.endpoint)) is not None and access.audience is Audience.API
        ]


def _paths(app):
    """A URL for every API endpoint (and each sample key for a path with one)."""
    paths = []
    for rule in _api_rules(app):
        samples = {"key": SAMPLE_KEYS}
        combos = [{}]
        for name in sorted(rule.arguments):
            combos = [{**c, name: v} for c in combos for v in samples[name]]
        with app.test_request_context():
            paths.extend(app.url_for(rule.endpoint, **c) for c in combos)
    return paths


def _numbers(value, path=()):
    """Every number in a JSON answer with where it sits (dict keys only)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path, value


def _filter_combinations(answered):
    round_, group, tiny = answered["round"], answered["group"], answered["tiny"]
    year = round_.opens_at.year
    return [
        {},
        {"year": year},
        {"round": round_.id},
        {"age_band": "8-11"},
        {"age_band": "16-25"},
        {"group": tiny.id},
        {"group": group.id},
        {"age_band": "8-11", "group": tiny.id},
        {"year": year, "round": round_.id, "group": tiny.id},
        {"year": year - 1},
    ]


def test_no_api_answer_holds_a_small_count_or_a_childs_words(
    app, answered, council, token_for, api_get
):
    """The leak scan: every API endpoint in the URL map, with many filters."""
    token = token_for(council)
    threshold = app.config["SMALL_NUMBER_THRESHOLD"]
    paths = _paths(app)
    assert {p.split("?")[0] for p in paths} >= {
        "/api/v1/indicators",
        "/api/v1/indicators/feel_safe",
        "/api/v1/evidence",
        "/api/v1/response-rates",
        "/api/v1/cards",
    }
    shown = hidden = checked = 0
    for path in paths:
        for query in _filter_combinations(answered):
            response = api_get(path, token, **query)
            assert response.status_code == 200, (path, query, response.get_data(as_text=True))
            body = response.get_json()
            text = response.get_data(as_text=True)
            for words in answered["children_words"]:
                assert words not in text, (path, query, words)
            assert "School is fine" not in text
            for where, number in _numbers({k: v for k, v in body.items() if k != "council"}):
                if where[0] in ("filters", "threshold") or where[-1] in NOT_COUNTS:
                    continue
                assert not 0 < number < threshold, (path, query, where, number)
                shown += 1
            hidden += text.count("null")
            checked += 1
    assert checked == len(paths) * len(_filter_combinations(answered))
    assert shown > 20 and hidden > 20  # the scan saw both shown and hidden figures


def test_the_indicators_match_the_dashboard(answered, council, token_for, api_get, app):
    body = api_get("/api/v1/indicators", token_for(council)).get_json()
    assert body["threshold"] == app.config["SMALL_NUMBER_THRESHOLD"] == 10
    assert body["filters"] == {}
    assert datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00")).tzinfo
    assert "null" in body["note"] and "10" in body["note"]
    assert body["council"]["name"] == council.name
    safe = next(row for row in body["data"] if row["key"] == "feel_safe")
    # 22 of 35 across both groups, as /panel shows (63%): a whole number, as everywhere.
    assert safe == {
        "key": "feel_safe",
        "figure_key": "question:feel_safe@y-.r-.b-.g-",
        "text": "Do you feel safe where you live?",
        "base": 35,
        "share": 63,
    }


def test_a_small_group_is_hidden_and_the_filters_are_echoed(answered, council, token_for, api_get):
    tiny = answered["tiny"]
    response = api_get("/api/v1/indicators", token_for(council), group=tiny.id, age_band="8-11")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["filters"] == {"group": tiny.id, "age_band": "8-11"}
    safe = next(row for row in body["data"] if row["key"] == "feel_safe")
    assert safe["base"] is None and safe["share"] is None


def test_one_indicator_by_year_age_band_and_group(answered, council, token_for, api_get):
    body = api_get("/api/v1/indicators/feel_safe", token_for(council)).get_json()
    data = body["data"]
    assert data["key"] == "feel_safe" and data["text"] == "Do you feel safe where you live?"
    assert set(data["splits"]) == {"year", "age_band", "group"}
    year = answered["round"].opens_at.year
    assert data["splits"]["year"] == [
        {
            "key": str(year),
            "label": str(year),
            "figure_key": f"question:feel_safe@y{year}.r-.b-.g-",
            "base": 35,
            "share": 63,
        }
    ]
    by_group = {row["label"]: row for row in data["splits"]["group"]}
    # The whole (35) is shown, so showing 32 for one group would give away the tiny
    # group's 3: both parts are hidden. Keys are group ids, never names.
    voices, tiny = answered["group"].id, answered["tiny"].id
    assert by_group["Voices 8 to 11"] == {
        "key": str(voices),
        "label": "Voices 8 to 11",
        "figure_key": f"question:feel_safe@y-.r-.b-.g{voices}",
        "base": None,
        "share": None,
    }
    assert by_group["Tiny group"]["key"] == str(tiny)
    assert by_group["Tiny group"]["base"] is None and by_group["Tiny group"]["share"] is None


def test_an_unknown_indicator_is_a_json_404(council, token_for, api_get):
    response = api_get("/api/v1/indicators/no_such_question", token_for(council))
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "No survey question has that key.",
        "parameter": "key",
    }


def test_the_evidence_matrix(answered, council, token_for, api_get):
    rows = {
        row["code"]: row
        for row in api_get("/api/v1/evidence", token_for(council)).get_json()["data"]
    }
    assert len(rows) == 11
    acted_on = rows["VOICE-ACTED-ON"]
    assert acted_on["text_tags"] == 15  # 13 confirmed tags: shown, rounded to the nearest 5
    assert acted_on["cards_raised"] is None  # 2 cards: hidden
    assert rows["PEP-TARGETS"]["text_tags"] is None  # 3 tags: hidden
    assert set(acted_on) == {
        "code",
        "figure_key",
        "title",
        "base",
        "share",
        "text_tags",
        "cards_raised",
        "cards_answered",
        "cards_changed",
    }


def test_response_rates(answered, council, token_for, api_get):
    rows = {
        row["group"]: row
        for row in api_get("/api/v1/response-rates", token_for(council)).get_json()["data"]
    }
    # 32 of 40 sent: the rate would give away the 8 who did not answer, and so would its
    # parts (40 - 32): the rate is hidden with its parts.
    round_id, group_id = answered["round"].id, answered["group"].id
    assert rows["Voices 8 to 11"] == {
        "key": f"rate:r{round_id}.g{group_id}",
        "round_id": round_id,
        "round": "Annual survey",
        "group_id": group_id,
        "group": "Voices 8 to 11",
        "sent": None,
        "expected": None,
        "known": True,
        "rate": None,
    }
    assert rows["Tiny group"]["sent"] is None and rows["Tiny group"]["expected"] is None
    assert rows["Tiny group"]["known"] is True


def test_the_card_summary_hides_small_counts(answered, council, token_for, api_get):
    body = api_get("/api/v1/cards", token_for(council), year=2026).get_json()
    assert body["filters"] == {}  # checked, not applied: cards belong to no survey round
    data = body["data"]
    assert [stage["key"] for stage in data["stages"]] == ["raised", "sent", "answered", "changed"]
    assert all(stage["count"] is None for stage in data["stages"])
    assert data["overdue"] is None and data["median_days"] is None


def test_a_token_sees_only_its_own_councils_figures(
    answered, council, other_council, token_for, api_get
):
    theirs = token_for(other_council)
    assert api_get("/api/v1/indicators", theirs).get_json()["data"] == []
    assert api_get("/api/v1/response-rates", theirs).get_json()["data"] == []
    splits = api_get("/api/v1/indicators/feel_safe", theirs).get_json()["data"]["splits"]
    assert splits == {"year": [], "age_band": [], "group": []}
    for row in api_get("/api/v1/evidence", theirs).get_json()["data"]:
        assert [row[k] for k in ("base", "text_tags", "cards_raised")] == [None, None, None]
    cards = api_get("/api/v1/cards", theirs).get_json()["data"]
    assert [s["count"] for s in cards["stages"]] == [None] * 4
    body = api_get("/api/v1/indicators", theirs).get_json()
    assert body["council"]["name"] == other_council.name
    for name, value in (("group", answered["group"].id), ("round", answered["round"].id)):
        response = api_get("/api/v1/indicators", theirs, **{name: value})
        assert response.status_code == 404, name
        assert response.get_json()["parameter"] == name


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("year=abc", "year"),
        ("year=20266", "year"),
        ("year=0000", "year"),
        ("year=%D9%A2%D9%A0%D9%A2%D9%A6", "year"),  # Arabic-Indic digits
        ("year=2026&year=2025", "year"),
        ("round=abc", "round"),
        ("round=0", "round"),
        ("round=-1", "round"),
        ("round=1.5", "round"),
        ("group=99999999999999999999", "group"),
        ("group=0x10", "group"),
        ("age_band=xyz", "age_band"),
        ("age_band=8-11&age_band=11-17", "age_band"),
        ("agee_band=8-11", "agee_band"),
        ("page=2", "page"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/indicators", "/api/v1/cards"])
def test_malformed_filters_are_a_json_400(client, council, token_for, query, parameter, path):
    response = client.get(
        f"{path}?{query}", headers={"Authorization": f"Bearer {token_for(council)}"}
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "bad_parameter" and body["parameter"] == parameter
    assert body["message"]


def test_a_group_that_does_not_exist_is_a_404(council, token_for, api_get):
    response = api_get("/api/v1/evidence", token_for(council), group=2_000_000_000)
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "No such group.",
        "parameter": "group",
    }


def test_an_empty_filter_means_no_filter(answered, council, token_for, client):
    response = client.get(
        "/api/v1/indicators?year=&round=&age_band=&group=",
        headers={"Authorization": f"Bearer {token_for(council)}"},
    )
    assert response.status_code == 200
    assert response.get_json()["filters"] == {}


def test_the_api_answers_get_only(client, council, token_for):
    response = client.post(
        "/api/v1/indicators", headers={"Authorization": f"Bearer {token_for(council)}"}
    )
    assert response.status_code == 405
    assert re.search(r"\bGET\b", response.headers["Allow"])


def test_an_address_the_api_does_not_have_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "not_found"
    assert "Set-Cookie" not in response.headers


def test_a_failure_on_our_side_is_a_json_500_that_says_nothing_more(
    council, token_for, api_get, monkeypatch
):
    from panel.api import views

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "published", broken)
    response = api_get("/api/v1/indicators", token_for(council))
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side.",
    }

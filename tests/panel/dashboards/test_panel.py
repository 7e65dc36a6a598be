"""Panel dashboards through HTTP: aggregates shown, small numbers hidden, no child's words."""

from __future__ import annotations

import json
import re

import pytest

from panel.dashboards import figures
from panel.rules import shown_count, shown_percent
from participation.accounts.models import Role
from participation.councils.models import AgeBand, GroupKind
from participation.councils.services import create_group, join_group
from surveys import services as surveys

SECRET_WORDS = "my foster carers son Dylan shouts at me"
SAFE_ROW = (
    r"Do you feel safe where you live\?</a></td>\s*"
    r'<td class="count">VALUE</td><td class="share">VALUE</td>'
)


def _answer_many(db_tx, survey_round, group, choices, text=None):
    """Children of ``group`` answer feel_safe with each of ``choices`` (through the services)."""
    question = survey_round.question_set.questions[0]
    text_question = survey_round.question_set.questions[-1]
    for choice in choices:
        participant, _token = join_group(db_tx, group)
        response = surveys.start_response(db_tx, survey_round, participant, "en")
        surveys.save_answer(
            db_tx, response, surveys.prepare_answer(question, "next", choice, None), participant, 2
        )
        if text:
            prepared = surveys.prepare_answer(text_question, "next", None, text)
            surveys.save_answer(db_tx, response, prepared, participant, None)
        surveys.submit(db_tx, response)
    db_tx.flush()


@pytest.fixture()
def answered(db_tx, council, group, survey_round, publish):
    """32 children answered: 20 feel safe, 12 do not; one also wrote worrying words."""
    _answer_many(db_tx, survey_round, group, ["yes"] * 20 + ["no"] * 11)
    _answer_many(db_tx, survey_round, group, ["no"], text=SECRET_WORDS)
    small = create_group(
        db_tx,
        council,
        name="Tiny group",
        age_band=AgeBand.AGES_8_11,
        kind=GroupKind.CHILDREN_IN_CARE,
        recorded_size=1000,
    )
    survey_round.round_groups.append(
        type(survey_round.round_groups[0])(
            council_id=council.id, group_id=small.id, expected_size=6
        )
    )
    _answer_many(db_tx, survey_round, small, ["yes", "yes", "no"])
    publish(council)
    return survey_round


def test_counts_round_to_five_and_percentages_to_whole_numbers_halves_up():
    # Rules changed with the release model (issue 13): one rounding everywhere.
    assert [shown_count(v) for v in (10, 12, 13, 32, 35, 37, 38)] == [10, 10, 15, 30, 35, 35, 40]
    assert shown_percent(20, 32) == 63  # 62.5: the page once said 62 and the API 62.5
    assert shown_percent(1, 3) == 33 and shown_percent(2, 3) == 67
    assert shown_count(None) is None and shown_percent(None, 10) is None


def test_figures_are_pure_and_leave_hidden_values_out():
    fig = figures.share_bars("Test", [("Safe", 62.5), ("Hidden", None)])
    data = json.loads(figures.to_json(fig))
    # A hidden share is a row marked hidden with no bar: hidden, never missing.
    assert data["data"][0]["y"] == ["Safe", "Hidden"] and data["data"][0]["x"] == [62.5, None]
    assert data["data"][0]["text"] == ["62%", "hidden"] or data["data"][0]["text"][1] == "hidden"
    trend = json.loads(figures.to_json(figures.trend("T", [(2025, None), (2026, 50.0)])))
    assert trend["data"][0]["y"] == [None, 50.0]


def test_the_panel_sees_the_overview_with_a_chart_and_its_table(client, login_as, answered):
    login_as(Role.PANEL_MEMBER)
    page = client.get("/panel").get_data(as_text=True)
    assert "Do you feel safe where you live?" in page
    row = re.search(
        SAFE_ROW.replace("VALUE", r"(\d+)"),
        page,
    )
    assert row and row.groups() == ("35", "63")  # 22 of 35 across both groups
    assert 'data-figure="chart-indicators"' in page and "plotly-basic.min.js" in page
    assert "Bar chart of the share of favourable answers" in page


def test_every_link_on_the_overview_opens_its_page(client, login_as, answered):
    login_as(Role.PANEL_MEMBER)
    page = client.get("/panel").get_data(as_text=True)
    links = set(re.findall(r'href="(/panel/[^"#]*)"', page))
    assert any(link.startswith("/panel/indicators/") for link in links)
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link


def test_filters_are_in_the_address_and_a_small_group_is_hidden(client, login_as, answered, db_tx):
    login_as(Role.PANEL_MEMBER)
    tiny = next(rg.group for rg in answered.round_groups if rg.group.name == "Tiny group")
    page = client.get(f"/panel?group={tiny.id}").get_data(as_text=True)
    row = re.search(
        SAFE_ROW.replace("VALUE", r"([^<]+)"),
        page,
    )
    assert row.groups() == ("*", "*")
    rates = client.get("/panel/response-rates").get_data(as_text=True)
    assert (
        "Tiny group" in rates
        and '<td class="count">3</td>' not in rates
        and '<td class="count">6</td>' not in rates
    )


def _dashboard_pages(app, survey_round):
    """Every GET page of the dashboards (from the URL map, so none can be left out),
    each with no filter and with every kind of filter."""
    filters = ["", "?age_band=8-11", "?year=2026", f"?round={survey_round.id}", "?group=1"]
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("dashboards.") or "GET" not in rule.methods:
            continue
        if rule.arguments - {"key"}:
            continue  # downloads: scanned by the export tests
        with app.test_request_context():
            path = app.url_for(rule.endpoint, **({"key": "feel_safe"} if rule.arguments else {}))
        for query in filters:
            yield path + query


def test_no_dashboard_page_shows_a_small_count_or_a_childs_words(client, login_as, answered, app):
    login_as(Role.PANEL_MEMBER)
    threshold = app.config["SMALL_NUMBER_THRESHOLD"]
    scanned = set()
    for path in _dashboard_pages(app, answered):
        response = client.get(path)
        assert response.status_code == 200, path
        scanned.add(path.split("?")[0])
        page = response.get_data(as_text=True)
        for value in re.findall(r'class="(?:count|bar-value)">([^<]*)<', page):
            value = value.strip()
            if value.endswith("%"):
                continue  # a share, allowed only when both its sides are large enough
            assert value in ("*", "not recorded") or float(value) >= threshold, (path, value)
        assert "Dylan" not in page and "shouts" not in page
        for figure in re.findall(r'data-figure="[^"]+">(.*?)</script>', page, re.S):
            for trace in json.loads(figure)["data"]:
                if trace["type"] == "bar" and trace.get("orientation") != "h":
                    assert all(v is None or v >= threshold for v in trace["y"]), path
    assert {"/panel", "/panel/pack", "/panel/evidence", "/panel/response-rates"} <= scanned


def test_plotly_is_served_from_this_site_and_cached_as_immutable(client, login_as):
    login_as(Role.PANEL_MEMBER)
    page = client.get("/panel").get_data(as_text=True)
    src = re.search(r'src="(/static/vendor/plotly/[^"]+)"', page).group(1)
    with client.get(src) as response:
        assert response.status_code == 200 and b"plotly.js" in response.data[:200]
        assert "immutable" in response.headers["Cache-Control"]
    assert "plotly" not in client.get("/staff").get_data(as_text=True)


def test_children_cannot_open_the_dashboards(client, post, group):
    post("/join", {"code": group.current_join_code.display})
    assert client.get("/panel").status_code == 302


def test_no_figure_can_be_set_against_another_to_work_out_a_small_count(
    db_tx, council, group, answered, app
):
    """Differencing: the overview for all groups minus the overview for one group must not
    give away the tiny group's 3 answers, nor any split of the indicator page."""
    from panel.dashboards.queries import Filters
    from panel.published import published

    threshold = app.config["SMALL_NUMBER_THRESHOLD"]
    tiny = next(rg.group_id for rg in answered.round_groups if rg.group_id != group.id)

    def base(filters):
        rows = published(db_tx, council.id, filters).indicators
        return next(r.base for r in rows if r.item == "feel_safe")

    whole = base(Filters())
    parts = [base(Filters(group_id=group.id)), base(Filters(group_id=tiny))]
    assert whole == 35
    shown_parts = [p for p in parts if p is not None]
    # Either both parts are hidden, or what is hidden is not small.
    assert len(shown_parts) != 1 or not 0 < whole - shown_parts[0] < threshold
    splits = published(db_tx, council.id, Filters(), splits_for="feel_safe").splits
    group_bases = [r.base for r in splits["group"] if r.base is not None]
    assert not group_bases or not 0 < whole - sum(group_bases) < threshold

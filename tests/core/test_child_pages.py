"""Child pages on a shared phone: a quick exit, a neutral name and title set by the council."""

from __future__ import annotations

import re

from flask import Flask

from participation.accounts.models import Role
from participation.config import load_config

CHILD_PATHS = ("/", "/join", "/help", "/me", "/cards/mine", "/me/answers")


def _title(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found
    return found.group(1).strip()


def _join(post, group):
    assert post("/join", {"code": group.current_join_code.display}).status_code == 302


def test_the_quick_exit_is_a_plain_link_to_a_neutral_site_on_every_child_page(client, post, group):
    _join(post, group)
    for path in CHILD_PATHS:
        page = client.get(path).get_data(as_text=True)
        exit_link = re.search(r'<a class="quick-exit" href="([^"]+)" rel="noreferrer"', page)
        assert exit_link and exit_link.group(1) == "https://www.bbc.co.uk/weather", path
        # First thing after the skip link, before the header: the same place on every page.
        assert page.index('class="skip-link"') < page.index("quick-exit") < page.index("<header")


def test_the_exit_script_replaces_the_history_entry_and_listens_for_escape(client):
    with client.get("/static/js/app.js") as response:
        script = response.get_data(as_text=True)
    assert "location.replace(exit.href)" in script and '"Escape"' in script
    # Under the Content Security Policy: no inline script anywhere on a child page.
    page = client.get("/help").get_data(as_text=True)
    assert "<script>" not in page and "onclick" not in page


def test_a_council_sets_where_the_exit_goes_and_a_neutral_name_and_title(
    app, client, post, group, monkeypatch
):
    monkeypatch.setitem(app.config, "QUICK_EXIT_URL", "https://www.example.org/recipes")
    monkeypatch.setitem(app.config, "SITE_NAME", "Kent Youth Hub")
    monkeypatch.setitem(app.config, "CHILD_PAGE_TITLE", "Recipes")
    _join(post, group)
    for path in CHILD_PATHS:
        page = client.get(path).get_data(as_text=True)
        assert 'href="https://www.example.org/recipes"' in page, path
        assert _title(page) == "Recipes", path
        assert '<a class="brand" href="/">Kent Youth Hub</a>' in page, path
        assert "Child Voice" not in page, path


def test_without_a_neutral_title_each_page_has_its_own(client, post, group):
    _join(post, group)
    assert _title(client.get("/help").get_data(as_text=True)) == "Get help now – Child Voice"
    assert _title(client.get("/me").get_data(as_text=True)) == "Your group – Child Voice"


def test_staff_pages_keep_their_titles_and_have_no_quick_exit(app, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "CHILD_PAGE_TITLE", "Recipes")
    login_as(Role.SAFEGUARDING_LEAD)
    page = client.get("/safeguarding/alerts").get_data(as_text=True)
    assert _title(page) == "Safeguarding alerts – Child Voice"
    assert "data-quick-exit" not in page


def test_the_settings_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PARTICIPATION_QUICK_EXIT_URL", "https://www.example.org/football")
    monkeypatch.setenv("PARTICIPATION_SITE_NAME", "Youth Hub")
    monkeypatch.setenv("PARTICIPATION_CHILD_PAGE_TITLE", "Football")
    flask_app = Flask("settings_test", instance_path=str(tmp_path))
    load_config(
        flask_app,
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": "sqlite://",
            "PUBLIC_BASE_URL": "https://voice.example.gov.uk",
        },
    )
    assert flask_app.config["QUICK_EXIT_URL"] == "https://www.example.org/football"
    assert flask_app.config["SITE_NAME"] == "Youth Hub"
    assert flask_app.config["CHILD_PAGE_TITLE"] == "Football"

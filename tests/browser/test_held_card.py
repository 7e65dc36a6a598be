"""A disclosure on a card, on phones, in English and Arabic: never published; one tap, one card.

The child double-taps "send" on a card whose words are a disclosure, then goes back and sends
it again: one card is made (the form's key; the same words within the hour), and the child
sees help. The worker sees the card is held by the safeguarding lead and has no way to send
it; other children's "you said, we did" and the councillor's dashboards and pack never show
the words.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

DISCLOSURE = "he touches me when mum is out"


def _cards_with(live_server: Any, words: str) -> int:
    database = live_server.log.parent / "browser.sqlite3"
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM challenge_card WHERE what_change = ?", (words,)
        ).fetchone()
    return int(count)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_double_tapped_disclosure_is_one_card_and_never_published(
    open_phone: Callable[..., Any], live_server: Any, language: str
) -> None:
    words = f"{DISCLOSURE} ({language})"  # each run's own card
    child = open_phone("child")
    child.join("Young People's Council")
    if language == "ar":
        child.choose_language("ar")
        assert child.page.get_attribute("html", "dir") == "rtl"
    child.go("/cards/new")
    child.page.fill("#what_change", words)
    child.shot("card-form")

    # A double tap on "send my card": the phone sends the same form twice. A browser drops
    # the second tap while the page is leaving, so the second request is sent beside it
    # with the phone's own cookies and the very form the child filled in.
    form = {
        name: child.page.locator(f"main form [name={name}]").input_value()
        for name in ("csrf_token", "submission_key", "what_change", "why_matters", "service")
    }
    child.page.locator("main form button[type=submit]").click()
    child.page.wait_for_url(re.compile(r"/help/\d+"))
    first = child.path()
    card_id = int(parse_qs(urlsplit(child.page.url).query)["next"][0].rsplit("/", 1)[1])
    second = child.context.request.post(child.server.url + "/cards/new", form=form, max_redirects=0)
    assert second.status == 302 and second.headers["location"].startswith(first)
    child.page.wait_for_load_state()
    child.shot("help-after-card")
    assert _cards_with(live_server, words) == 1
    assert "0800 1111" in child.page.locator("main").inner_text()
    # Back to the form, the words still there, and "send" again: still the one card.
    child.page.go_back()
    child.page.wait_for_load_state()
    assert child.page.locator("#what_change").input_value() == words
    child.page.locator("main form button[type=submit]").click()
    child.page.wait_for_url(re.compile(r"/help/\d+"))
    assert child.path() == first
    assert _cards_with(live_server, words) == 1
    child.go("/cards/mine")
    assert child.page.locator("ul.card-list > li").count() == 1
    child.shot("my-cards")

    # The worker sees it is held, and has no way to send it on.
    worker = open_phone("worker")
    worker.sign_in("worker@demo.example")
    worker.go("/staff/cards")
    row = worker.page.locator("tr", has=worker.page.locator(f"a[href='/staff/cards/{card_id}']"))
    assert "held by the safeguarding lead" in row.inner_text()
    row.locator("a").first.click()
    main = worker.page.locator("main")
    assert "Held: the safeguarding lead is looking at it." in main.inner_text()
    assert worker.page.locator("#public_text").count() == 0
    worker.shot("held-card")

    # Another child's "you said, we did", and the councillor's dashboards and pack.
    other = open_phone("other-child")
    other.join("Young People's Council")
    if language == "ar":
        other.choose_language("ar")
    other.go("/you-said-we-did")
    other.shot("you-said-we-did")
    assert DISCLOSURE not in other.page.content()
    councillor = open_phone("councillor")
    councillor.sign_in("councillor@demo.example")
    if language == "ar":
        councillor.go("/panel")
        councillor.choose_language("ar")
    for path in ("/panel", "/panel/evidence", "/panel/response-rates", "/panel/pack"):
        councillor.go(path)
        assert DISCLOSURE not in councillor.page.content(), path
    councillor.shot("pack")

"""On a 360x740 phone, in English and Arabic: "Get help now", the quick exit, and words that
raised an alert folded on a shared phone. axe checks the help page and its confirmation."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import BLOCKING

pytestmark = pytest.mark.browser

GROUP = "Young People's Council"
EXIT = "https://www.bbc.co.uk/weather"
WORRYING = "he touches me when mum is out and I dont want to go home"


def _neutral_site(visitor: Any) -> None:
    """Stand in for the neutral site (no request may leave the machine), and let the one
    request the exit makes be the one that leaves the app's origin."""
    visitor.context.route(
        EXIT + "**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Weather</title><h1>Weather</h1>"
        ),
    )


def _forget_exit_requests(visitor: Any) -> None:
    visitor.requests[:] = [url for url in visitor.requests if not url.startswith(EXIT)]


def _start(open_phone: Callable[..., Any], name: str, language: str, **kw: Any) -> Any:
    visitor = open_phone(name, **kw)
    visitor.go("/")
    if language != "en":
        visitor.choose_language(language)
    visitor.join(GROUP)
    assert visitor.page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    return visitor


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _on_screen(box: dict[str, float]) -> bool:
    return (
        box["y"] >= 0
        and box["y"] + box["height"] <= PHONE["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= PHONE["width"]
    )


@pytest.mark.parametrize("language", ["en", "ar"])
def test_get_help_now_on_a_phone(
    open_phone: Callable[..., Any], axe: Callable[..., Any], language: str
) -> None:
    child = _start(open_phone, "child", language, bypass_csp=True)  # so that axe can run
    page = child.page
    page.click("a.help-now")  # from the child's start page, a plain link
    page.wait_for_url(re.compile(r"/help$"))
    child.shot("help")
    # 999 and Childline: big tel: buttons, both on screen at once without scrolling.
    for href in ("tel:999", "tel:08001111"):
        box = _box(page, f"a.call-button[href='{href}']")
        assert box["height"] >= 44 and _on_screen(box), (href, box)
    assert _box(page, "a.quick-exit")["height"] >= 44
    assert page.locator("a[href='tel:116123']").count() == 0  # adult lines: care leavers only

    # The phone box appears only once "a phone number" is chosen (CSS, no script needed).
    assert not page.locator("#phone").is_visible()
    page.click("label.choice:has(input[value=phone])")
    assert page.locator("#phone").is_visible()
    results = axe(page)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, blocking

    # Sent without a number: told what is missing, the choice and key kept.
    key = page.get_attribute("input[name=submission_key]", "value")
    page.click("section.ask-help button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".error-summary").is_visible()
    assert page.get_attribute("input[name=submission_key]", "value") == key
    assert page.locator("#phone").is_visible()
    child.shot("help-error")
    page.fill("#phone", "07700 900123")
    page.click("section.ask-help button[type=submit]")
    page.wait_for_url(re.compile(r"/help/sent/\d+$"))
    assert page.locator("h1").inner_text().strip()
    assert page.locator("a.call-button[href='tel:999']").is_visible()
    child.shot("help-sent")
    results = axe(page)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not blocking, blocking


def test_care_leavers_see_adult_helplines_too(open_phone: Callable[..., Any]) -> None:
    leaver = open_phone("leaver")
    leaver.join("Care Leavers' Forum")
    leaver.go("/help")
    for href in ("tel:999", "tel:08001111", "tel:116123", "sms:85258?&body=SHOUT"):
        assert leaver.page.locator(f"a.call-button[href='{href}']").is_visible(), href
    leaver.shot("help-care-leaver")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_child_who_has_not_joined_still_sees_the_numbers(
    open_phone: Callable[..., Any], language: str
) -> None:
    visitor = open_phone("visitor")
    visitor.go("/")
    if language != "en":
        visitor.choose_language(language)
    visitor.page.click("a.help-now")
    for href in ("tel:999", "tel:08001111"):
        box = _box(visitor.page, f"a.call-button[href='{href}']")
        assert box["height"] >= 44 and _on_screen(box)
    assert visitor.page.locator("section.ask-help").count() == 0
    assert visitor.page.locator("main a[href='/join']").is_visible()
    visitor.shot("help-not-joined")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_quick_exit_leaves_at_once_and_back_does_not_return(
    open_phone: Callable[..., Any], language: str
) -> None:
    child = _start(open_phone, "child", language)
    _neutral_site(child)
    page = child.page
    # The exit is in the same place, big enough to hit, on every child page.
    boxes = []
    for path in ("/me", "/help", "/me/answers", "/cards/mine"):
        child.go(path)
        box = _box(page, "a.quick-exit")
        assert box["height"] >= 44 and box["width"] >= 44 and _on_screen(box), path
        boxes.append((round(box["x"]), round(box["y"])))
    assert len(set(boxes)) == 1, boxes
    child.shot("before-exit")
    # Still there after scrolling down a long page.
    page.mouse.wheel(0, 2000)
    assert _on_screen(_box(page, "a.quick-exit"))
    page.click("a.quick-exit")
    page.wait_for_url(EXIT + "**")
    assert page.title() == "Weather"
    page.go_back()
    page.wait_for_load_state()
    # This page was replaced in the history: Back goes to the one before it.
    assert child.path() == "/me/answers"

    # Escape does the same, from any child page.
    child.go("/help")
    page.keyboard.press("Escape")
    page.wait_for_url(EXIT + "**")
    _forget_exit_requests(child)


def test_quick_exit_works_without_javascript(open_phone: Callable[..., Any]) -> None:
    child = open_phone("child-no-js", javascript=False)
    child.join(GROUP)
    _neutral_site(child)
    child.go("/cards/mine")
    child.page.click("a.quick-exit")
    child.page.wait_for_url(EXIT + "**")
    _forget_exit_requests(child)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_words_that_raised_an_alert_are_folded_on_a_shared_phone(
    open_phone: Callable[..., Any], language: str
) -> None:
    child = _start(open_phone, "child", language)
    page = child.page
    child.go("/cards/new")
    page.fill("#what_change", WORRYING)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/help/\d+"))
    # The help page after worrying words: the same big buttons.
    assert _on_screen(_box(page, "a.call-button[href='tel:999']"))
    child.shot("card-help")

    child.go("/cards/mine")
    assert WORRYING not in page.locator("main").inner_text()
    assert page.locator("main .card-list .hint").first.is_visible()
    child.shot("my-cards")
    page.click("main .card-list a")
    page.wait_for_url(re.compile(r"/cards/mine/\d+$"))
    assert WORRYING not in page.locator("main").inner_text()
    assert page.locator(".folded-words .sent-note").is_visible()
    child.shot("my-card-folded")
    page.click(".folded-words summary")  # a deliberate tap opens it
    assert WORRYING in page.locator(".folded-words details").inner_text()
    child.shot("my-card-opened")

"""On a 360x740 phone: a survey page and the card form left open past the token's time
limit, or after the phone lost its session cookie, come back with the child's words and
send on the next tap; after sending, Back shows the answer as sent, and a change is
confirmed first."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

GROUP = "Young People's Council"
WORDS = "My PEP meeting was in maths again and I missed the test"


def _lose_session(child: Any) -> None:
    """The phone dropped the session cookie (the child's own cookie stays)."""
    child.context.clear_cookies(name="cv_session")


def _to_first_text_question(page: Any) -> None:
    for _ in range(40):
        if page.locator("textarea[name=text]").count():
            return
        page.locator("input[name=choice]").first.check()
        page.click("button[name=action][value=next]")
        page.wait_for_load_state()
        if "/help" in page.url:  # a risk answer's help step: carry on
            page.locator("a.button, button[value=no]").first.click()
            page.wait_for_load_state()
    raise AssertionError("no free-text question found")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_survey_page_left_open_keeps_the_words(
    open_phone: Callable[..., Any], javascript: bool
) -> None:
    child = open_phone("child", javascript=javascript)
    page = child.page
    child.join(GROUP)
    page.click("main a[href^='/survey/']")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r"/q/\d+$"))
    _to_first_text_question(page)
    question = page.url
    page.fill("textarea[name=text]", WORDS)
    _lose_session(child)
    page.click("button[name=action][value=next]")
    page.wait_for_load_state()
    assert page.url == question
    assert page.input_value("textarea[name=text]") == WORDS
    assert "open a long time" in page.locator(".error-summary").inner_text()
    child.shot("stale-survey-page")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("button[name=action][value=next]")  # the next tap saves
    page.wait_for_load_state()
    assert page.url != question
    page.goto(question)
    assert page.input_value("textarea[name=text]") == WORDS


def test_a_sent_survey_shows_the_answer_and_confirms_a_change(
    open_phone: Callable[..., Any],
) -> None:
    child = open_phone("child")
    page = child.page
    child.join(GROUP)
    page.click("main a[href^='/survey/']")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r"/q/\d+$"))
    first = page.url
    page.locator("input[name=choice]").first.check()
    page.click("button[name=action][value=next]")
    page.wait_for_load_state()
    end = re.sub(r"/q/\d+$", "/end", first)
    page.goto(end)
    page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url(re.compile(r"/thanks$"))
    page.goto(first)
    assert "You sent this answer" in page.inner_text("main")
    assert page.locator("input[name=choice]").count() == 0
    child.shot("sent-answer")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("a[href$='/change']")
    page.locator("input[name=choice]").last.check()
    page.click("button[name=action][value=next]")
    page.wait_for_load_state()
    assert "Change your answer?" in page.inner_text("main")
    child.shot("confirm-change")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("button:has-text('Yes, change it')")
    page.wait_for_load_state()
    assert "Your answer is changed" in page.inner_text("body")


def test_the_card_form_left_open_keeps_the_words(open_phone: Callable[..., Any]) -> None:
    child = open_phone("child")
    page = child.page
    child.join(GROUP)
    child.go("/cards/new")
    page.fill("#what_change", "Wifi in every foster home")
    page.fill("#why_matters", "For homework")
    _lose_session(child)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.input_value("#what_change") == "Wifi in every foster home"
    assert page.input_value("#why_matters") == "For homework"
    assert "open a long time" in page.locator(".error-summary").inner_text()
    child.shot("stale-card-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/cards/mine/\d+$|/help/\d+"))

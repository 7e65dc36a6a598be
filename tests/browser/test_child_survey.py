"""A child answers the survey on a phone: with and without JavaScript, in English and Arabic."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0600-\u06ff]")


@pytest.mark.parametrize(
    ("language", "javascript", "group"),
    [
        pytest.param("en", True, "Voices 8 to 11", id="en-js"),
        pytest.param("en", False, "Little Voices", id="en-nojs"),
        pytest.param("ar", True, "Voices 8 to 11", id="ar-js"),
        pytest.param("ar", False, "Little Voices", id="ar-nojs"),
    ],
)
def test_a_child_completes_the_survey(
    open_phone: Callable[..., Any], language: str, javascript: bool, group: str
) -> None:
    child = open_phone("child", javascript=javascript)
    page = child.page
    child.go("/")
    if language != "en":
        child.choose_language(language)
    direction = "rtl" if language == "ar" else "ltr"
    assert page.get_attribute("html", "lang") == language
    assert page.get_attribute("html", "dir") == direction
    child.shot("start")

    child.join(group)
    child.shot("group-home")
    page.click("main a[href^='/survey/']")
    assert page.locator("main h1").is_visible()
    child.shot("welcome")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r"/q/\d+$"))

    # Next without an answer: a clear message, and (with JavaScript) focus on it.
    first_question = page.url
    page.click("button[name=action][value=next]")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.url == first_question
    if javascript:
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    child.shot("question-error")

    answered = 0
    while "/q/" in child.path():
        answered += 1
        assert answered < 40, "the survey never ended"
        assert page.get_attribute("html", "dir") == direction
        progress = page.locator(".progress span[aria-hidden]").inner_text()
        assert re.fullmatch(rf"{answered} \S+ \d+", progress), progress
        question_text = page.locator(".question-text").inner_text()
        if language == "ar":
            assert ARABIC.search(question_text), question_text
        if page.locator("input[name=choice]").count():
            page.locator("label.choice").first.click()
            assert page.locator("input[name=choice]").first.is_checked()
        else:
            page.fill("#text", "More trips out at the weekend please")
        child.shot(f"question-{answered:02d}")
        page.click("button[name=action][value=next]")
        page.wait_for_load_state()
    assert answered >= 5
    assert child.path().endswith("/end")
    child.shot("end")

    page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url(re.compile(r"/thanks$"))
    assert page.get_attribute("html", "dir") == direction
    assert page.locator("main a[href='/you-said-we-did']").is_visible()
    child.shot("thanks")

    # Coming back to the survey later shows that it is done, not a fresh start.
    child.go("/me")
    assert not page.locator("main a[href^='/survey/']").count()
    child.shot("home-after")

"""A 4-7 child taps "No" to feeling safe where they live, on a phone, in English and Arabic.

They see the help step at once, tap Yes, and carry on with the survey where they were; the
safeguarding lead finds the alert in the queue. With and without JavaScript; axe checks
the help step before and after the yes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ASK = {"en": "Would you like someone to talk to you?", "ar": "هل تريد أن يتحدث معك أحد؟"}
TOLD = {
    "en": "Thank you. We will tell a grown-up who keeps children safe.",
    "ar": "شكرًا لك. سنخبر شخصًا كبيرًا عمله حماية الأطفال.",
}
NEXT_QUESTION = {"en": "Is there a grown-up you can talk to?", "ar": "هل يوجد شخص كبير"}
BLOCKING = {"serious", "critical"}


def _no_blocking(axe: Callable[[Any], dict[str, Any]], page: Any) -> None:
    found = axe(page)["violations"]
    problems = [f"{v['impact']} {v['id']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]
    assert not problems, problems


@pytest.mark.parametrize(
    ("language", "javascript"),
    [
        pytest.param("en", True, id="en-js"),
        pytest.param("ar", True, id="ar-js"),
        pytest.param("en", False, id="en-nojs"),
        pytest.param("ar", False, id="ar-nojs"),
    ],
)
def test_a_young_child_who_is_not_safe_at_home_gets_help_and_carries_on(
    open_phone: Callable[..., Any], axe: Callable[..., Any], language: str, javascript: bool
) -> None:
    # axe is injected as a script, so its pages bypass the CSP (JavaScript runs for axe).
    child = open_phone("child", javascript=javascript, bypass_csp=javascript)
    page = child.page
    child.go("/")
    if language != "en":
        child.choose_language(language)
    direction = "rtl" if language == "ar" else "ltr"
    child.join("Little Voices")
    page.click("main a[href^='/survey/']")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r"/q/1$"))
    question_url = page.url
    child.shot("feel-safe")

    # The frowning picture: "No".
    page.locator("label.choice", has=page.locator("input[value=no]")).click()
    assert page.locator("input[value=no]").is_checked()
    page.click("button[name=action][value=next]")
    page.wait_for_url(re.compile(r"/q/1/help$"))
    assert page.get_attribute("html", "dir") == direction
    assert page.locator("#help-ask").inner_text() == ASK[language]
    yes = page.locator("button[name=want][value=yes]")
    not_now = page.locator("button[name=want][value=not_now]")
    assert yes.is_visible() and not_now.is_visible()
    assert yes.locator(".emoji").inner_text() == "👍"
    # Both answers fit the phone's width, and the big button is big enough to tap.
    box = yes.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] >= 0
    assert box["x"] + box["width"] <= 360
    assert page.locator("main a[href='tel:08001111']").is_visible()
    assert page.locator("main a[href='tel:999']").is_visible()
    child.shot("help-step")
    if javascript:
        _no_blocking(axe, page)

    yes.click()
    page.wait_for_load_state()
    assert page.url.endswith("/q/1/help")
    told = page.locator(".notice-success")
    assert told.is_visible() and TOLD[language] in told.inner_text()
    assert not page.locator("button[name=want]").count()
    if javascript:  # the message is announced and takes the focus
        assert page.evaluate("document.activeElement.classList.contains('notice-success')")
        _no_blocking(axe, page)
    child.shot("told")

    # Carry on: the next question, with the survey's place kept.
    page.click("main a.button:not([href*='/help/'])")
    page.wait_for_url(re.compile(r"/q/2$"))
    assert NEXT_QUESTION[language] in page.locator(".question-text").inner_text()
    assert re.fullmatch(r"2 \S+ \d+", page.locator(".progress span[aria-hidden]").inner_text())
    child.shot("next-question")
    page.locator("label.choice").first.click()
    page.click("button[name=action][value=next]")
    page.wait_for_url(re.compile(r"/q/3$"))

    # Back to the first question: the answer is still "No", and the help step does not ask
    # again, because the child already said yes.
    page.goto(question_url)
    assert page.locator("input[value=no]").is_checked()
    page.click("button[name=action][value=next]")
    page.wait_for_url(re.compile(r"/q/1/help$"))
    assert page.locator(".notice-success").is_visible()
    child.shot("help-step-again")

    lead = open_phone("lead")
    lead.sign_in("dsl@demo.example")
    lead.go("/safeguarding/alerts")
    assert "unsafe at home" in lead.page.locator("main").inner_text()
    lead.shot("queue")

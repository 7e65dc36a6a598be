"""A challenge card on phones, from the child to a service and back; the panel's charts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

WHAT = "We want wifi that works in every room where we live, so we can do homework"
WHY = "The wifi only works downstairs and the lounge is noisy"
PUBLIC = "Young people want wifi that works in every room where they live."
ANSWER = "We will put a wifi booster in every home we run by the end of March."


def test_a_card_goes_from_a_child_to_a_service_and_back(open_phone: Callable[..., Any]) -> None:
    # The child raises a card.
    child = open_phone("child")
    child.join("Young People's Council")
    child.shot("home")
    child.page.click("main a[href='/cards/new']")
    child.page.fill("#what_change", WHAT)
    child.page.fill("#why_matters", WHY)
    child.page.select_option("#service", label="Housing")
    child.shot("card-form")
    child.page.click("main form button[type=submit]")
    child.page.wait_for_url(re.compile(r"/cards/mine/\d+$"))
    card_id = int(child.path().rsplit("/", 1)[1])
    assert WHAT in child.page.locator("main blockquote").inner_text()
    child.shot("card-sent")

    # A participation worker moderates it and sends it to the housing service.
    worker = open_phone("worker")
    worker.sign_in("worker@demo.example")
    worker.shot("home")
    worker.page.click("nav.staff-nav a[href='/staff/cards']")
    worker.shot("queue")
    worker.page.click(f"main a[href='/staff/cards/{card_id}']")
    assert WHAT in worker.page.locator("blockquote.child-words").inner_text()
    worker.shot("moderate")
    worker.page.fill("#public_text", PUBLIC)
    worker.page.select_option("#service", label="Housing")
    worker.page.select_option("#responder", label="Hana Housing")
    worker.page.click("form[action$='/send'] button[type=submit]")
    worker.page.wait_for_load_state()
    assert worker.page.locator(".notice-success").is_visible()
    worker.shot("sent")

    # The housing responder sees only the public words, and answers.
    responder = open_phone("responder")
    responder.sign_in("housing@demo.example")
    responder.page.click("nav.staff-nav a[href='/staff/responses']")
    responder.shot("cards-for-me")
    responder.page.click(f"main a[href='/staff/responses/{card_id}']")
    assert PUBLIC in responder.page.locator("main").inner_text()
    assert WHAT not in responder.page.locator("main").inner_text()
    responder.page.check("#kind-0")
    responder.page.fill("#text", ANSWER)
    responder.shot("answer-form")
    responder.page.click("form[action$='/answer'] button[type=submit]")
    responder.page.wait_for_load_state()
    assert responder.page.locator(".notice-success").is_visible()
    responder.shot("answered")

    # Nothing reaches children until the worker approves the answer.
    child.go("/you-said-we-did")
    assert ANSWER not in child.page.locator("main").inner_text()
    worker.go(f"/staff/cards/{card_id}")
    assert ANSWER in worker.page.locator("main").inner_text()
    worker.shot("to-approve")
    worker.page.click("form[action$='/approve'] button[type=submit]")
    worker.page.wait_for_load_state()
    assert worker.page.locator(".notice-success").is_visible()
    worker.shot("approved")

    # The child sees it on "you said, we did" and on their own card, and says if it helped.
    child.go("/me")
    child.page.click("main a[href='/you-said-we-did']")
    board = child.page.locator("main").inner_text()
    assert PUBLIC in board
    assert ANSWER in board
    child.shot("you-said-we-did")
    child.go(f"/cards/mine/{card_id}")
    assert ANSWER in child.page.locator("main").inner_text()
    child.page.locator("label.choice").first.click()
    child.page.click("form[action$='/feedback'] button[type=submit]")
    child.page.wait_for_load_state()
    assert child.page.locator(".notice-success").is_visible()
    child.shot("feedback")


OUTSIDE_THE_CHART = """(id) => {
    const chart = document.getElementById(id).getBoundingClientRect();
    const outside = (r) => r.left < chart.left - 1 || r.right > chart.right + 1
        || r.top < chart.top - 1 || r.bottom > chart.bottom + 1;
    return [...document.querySelectorAll(`#${id} .gtitle, #${id} .ytick text, #${id} .xtick text`)]
        .filter((el) => outside(el.getBoundingClientRect())).map((el) => el.textContent);
}"""


def test_a_councillor_sees_charts_and_their_tables(open_phone: Callable[..., Any]) -> None:
    councillor = open_phone("councillor")
    councillor.sign_in("councillor@demo.example")
    councillor.page.click("nav.staff-nav a[href='/panel']")
    page = councillor.page
    for chart in ("#chart-indicators", "#chart-cards"):
        page.wait_for_selector(f"{chart}.chart-drawn svg.main-svg")
    # Bars, not only axes: the generated answers are enough to show most shares.
    assert page.locator("#chart-indicators g.trace.bars path").count() >= 10
    # On a phone, the title and every label stay on the chart (none cut off or spilling out).
    assert page.evaluate(OUTSIDE_THE_CHART, "chart-indicators") == []
    table = page.locator("table").first
    assert table.is_visible()
    # Enough generated answers that some shares are shown, not hidden as "*".
    shares = page.locator("table td.share").all_inner_texts()
    assert any(s.strip().isdigit() for s in shares), shares
    councillor.shot("overview")

    page.locator("table td a").first.click()
    for chart in ("#chart-trend", "#chart-bands"):
        page.wait_for_selector(f"{chart}.chart-drawn svg.main-svg")
        assert page.evaluate(OUTSIDE_THE_CHART, chart[1:]) == []
    assert page.locator("table").first.is_visible()
    councillor.shot("indicator")

    # Right to left, the charts still read left to right and fit.
    councillor.go("/panel")
    councillor.choose_language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    page.wait_for_selector("#chart-indicators.chart-drawn svg.main-svg")
    assert page.evaluate(OUTSIDE_THE_CHART, "chart-indicators") == []
    councillor.shot("overview-arabic")

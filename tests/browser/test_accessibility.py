"""axe-core on every kind of page, on a phone, in English and Arabic, errors included.

No violation with impact "serious" or "critical" may remain. Every violation found (of any
impact), and what axe could not decide by itself ("review"), is written to axe.json beside
the test's screenshots, for a person to read.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
WORRYING_CARD = "My name is Sam Jones from Hillside School and my foster dad hits me"


@dataclass
class Audit:
    """Runs axe on each page a visitor reaches, with a screenshot, and keeps the results."""

    visitor: Any
    axe: Callable[[Any], dict[str, list[dict[str, Any]]]]
    found: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    direction: str = "ltr"

    def check(self, label: str) -> None:
        page = self.visitor.page
        page.wait_for_load_state()
        assert page.get_attribute("html", "dir") == self.direction, label
        key = f"{self.visitor.name}/{label} {self.visitor.path()}"
        assert key not in self.found, f"{key} checked twice"
        self.found[key] = self.axe(page)
        self.visitor.shot(label)

    def blocking(self) -> list[str]:
        return [
            f"{page}: {v['impact']} {v['id']} ({v['help']})\n      " + "\n      ".join(v["nodes"])
            for page, results in self.found.items()
            for v in results["violations"]
            if v["impact"] in BLOCKING
        ]


@pytest.fixture()
def audit(
    axe: Callable[..., Any], open_phone: Callable[..., Any], shots_dir: Any
) -> Iterator[Callable[..., Audit]]:
    """audit(name): a phone whose pages axe checks (CSP bypassed so that axe can be added)."""
    audits: list[Audit] = []

    def make(name: str) -> Audit:
        audits.append(Audit(open_phone(name, bypass_csp=True), axe))
        return audits[-1]

    yield make
    report = {page: v for a in audits for page, v in a.found.items()}
    (shots_dir / "axe.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))


def assert_no_blocking(*audits: Audit) -> None:
    problems = [line for a in audits for line in a.blocking()]
    assert sum(len(a.found) for a in audits) >= 5
    assert not problems, "axe found serious or critical problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_child_pages(audit: Callable[..., Audit], language: str) -> None:
    group = "Little Voices"  # the shortest survey, with picture answers
    child = audit("child")
    v, page = child.visitor, child.visitor.page
    v.go("/")
    if language != "en":
        v.choose_language(language)
        child.direction = "rtl"
    child.check("start")
    v.go("/help")
    child.check("help")
    v.go("/join")
    child.check("join")
    page.click("main form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    child.check("join-error")
    v.go("/j/" + v.server.join_codes[group].replace("-", ""))
    child.check("join-link")
    v.join(group)
    child.check("home")

    # The survey: welcome, a question, a question sent without an answer, the end, thanks.
    page.click("main a[href^='/survey/']")
    child.check("survey-welcome")
    page.click("form[action$='/start'] button[type=submit]")
    page.wait_for_url(re.compile(r"/q/\d+$"))
    child.check("question")
    page.click("button[name=action][value=next]")
    assert page.locator(".error-summary").is_visible()
    child.check("question-error")
    page.locator("label.choice").first.click()
    page.click("button[name=action][value=next]")
    page.wait_for_load_state()
    text_checked = False
    for _ in range(40):
        if "/q/" not in v.path():
            break
        if not text_checked and page.locator("#text").count():
            child.check("question-text")
            text_checked = True
        page.click("button[name=action][value=skip]")
        page.wait_for_load_state()
    assert v.path().endswith("/end")
    child.check("survey-end")
    page.click("form[action$='/submit'] button[type=submit]")
    page.wait_for_url(re.compile(r"/thanks$"))
    child.check("survey-thanks")

    # Challenge cards: the form, the form with errors, help at once, my cards, the board.
    v.go("/cards/new")
    child.check("card-form")
    page.click("main form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    child.check("card-form-error")
    page.fill("#what_change", WORRYING_CARD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/help/\d+"))
    child.check("card-help")
    page.click("main form button[type=submit]")  # asks to be contacted, without saying how
    child.check("card-help-error")
    v.go("/cards/mine")
    child.check("my-cards")
    page.click("main .card-list a")
    child.check("my-card")
    v.go("/you-said-we-did")
    child.check("you-said-we-did")
    # Data rights: the child's own answers, the question before deleting, and after it.
    v.go("/me/answers")
    child.check("my-answers")
    page.click("main a[href$='/delete']")
    child.check("delete-answers")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/me/answers$"))
    child.check("answers-deleted")
    response = v.go("/no-such-page")
    assert response.status == 404
    child.check("not-found")
    assert_no_blocking(child)


def test_staff_pages(audit: Callable[..., Audit]) -> None:
    worker = audit("worker")
    w, page = worker.visitor, worker.visitor.page
    w.go("/sign-in")
    worker.check("sign-in")
    page.fill("#email", "worker@demo.example")
    page.fill("#password", "not the password")
    page.click("main form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    worker.check("sign-in-error")
    w.sign_in("worker@demo.example")
    worker.check("staff-home")

    # A card raised for a group meeting, moderated, sent (first with a mistake).
    w.go("/staff/cards")
    worker.check("card-queue")
    page.click("main a[href='/staff/cards/new']")
    worker.check("card-new")
    page.fill("#what_change", "Our group wants a say in who our new social workers are")
    page.select_option("#group", label="Young People's Council")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/cards/\d+$"))
    card_id = int(w.path().rsplit("/", 1)[1])
    worker.check("card-moderate")
    page.fill("#public_text", "")
    page.click("form[action$='/send'] button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    worker.check("card-moderate-error")
    page.fill("#public_text", "Young people want a say in who their social workers are.")
    page.select_option("#service", label="Housing")
    page.select_option("#responder", label="Hana Housing")
    page.click("form[action$='/send'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".notice-success").is_visible()

    w.go("/staff/rounds")
    worker.check("rounds")
    page.locator("main table a").first.click()
    worker.check("round")
    w.go("/staff/groups")
    worker.check("groups")
    response = w.go("/staff/cards/999999")
    assert response.status == 404
    worker.check("not-found")

    # The service responder answers (first with a mistake); the worker has it to approve.
    responder = audit("responder")
    r = responder.visitor
    r.sign_in("housing@demo.example")
    r.go("/staff/responses")
    responder.check("responses")
    r.go(f"/staff/responses/{card_id}")
    responder.check("respond")
    r.page.click("form[action$='/answer'] button[type=submit]")
    assert r.page.locator(".error-summary").is_visible()
    responder.check("respond-error")
    r.page.check("#kind-1")
    r.page.fill("#text", "We can't choose social workers with you yet, but we will ask.")
    r.page.click("form[action$='/answer'] button[type=submit]")
    r.page.wait_for_load_state()
    w.go(f"/staff/cards/{card_id}")
    worker.check("card-approve")

    # The panel's dashboards, with their charts drawn.
    councillor = audit("councillor")
    c = councillor.visitor
    c.sign_in("councillor@demo.example")
    c.go("/panel")
    c.page.wait_for_selector("#chart-indicators.chart-drawn svg.main-svg")
    councillor.check("panel")
    c.page.locator("main table td a").first.click()
    c.page.wait_for_selector("#chart-trend.chart-drawn svg.main-svg")
    councillor.check("indicator")
    c.go("/panel/evidence")
    councillor.check("evidence")
    c.go("/panel/response-rates")
    councillor.check("response-rates")
    c.go("/panel")
    c.choose_language("ar")
    councillor.direction = "rtl"
    c.page.wait_for_selector("#chart-indicators.chart-drawn svg.main-svg")
    councillor.check("panel-arabic")

    lead = audit("lead")
    lead.visitor.sign_in("dsl@demo.example")
    lead.visitor.go("/safeguarding/alerts")
    lead.check("alerts")
    assert_no_blocking(worker, responder, councillor, lead)


def _wait_until(page: Any, expression: str, seconds: float = 5.0) -> None:
    """Poll ``expression`` from outside the page: app.js moves focus once the page has
    loaded, and wait_for_function would evaluate a string inside it, which the CSP forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(50)


def test_focus_moves_to_the_error_summary(open_phone: Callable[..., Any]) -> None:
    """After a failed submit, keyboard focus is on the error summary (app.js, under the CSP)."""
    focused = "document.activeElement && document.activeElement.classList.contains('error-summary')"
    child = open_phone("child")
    child.go("/join")
    child.page.click("main form button[type=submit]")
    child.page.wait_for_selector(".error-summary")
    _wait_until(child.page, focused)
    assert child.page.get_attribute(".error-summary", "tabindex") == "-1"
    child.shot("join-error")
    # Tab from the summary goes to its first link, which leads to the field in error.
    child.page.keyboard.press("Tab")
    assert child.page.evaluate("document.activeElement.getAttribute('href')") == "#code"
    child.page.keyboard.press("Enter")
    child.page.wait_for_function("document.activeElement && document.activeElement.id === 'code'")

    child.join("Young People's Council")
    child.go("/cards/new")
    child.page.click("main form button[type=submit]")
    child.page.wait_for_selector(".error-summary")
    _wait_until(child.page, focused)
    child.shot("card-error")

    staff = open_phone("staff")
    staff.go("/sign-in")
    staff.page.fill("#email", "worker@demo.example")
    staff.page.fill("#password", "wrong")
    staff.page.click("main form button[type=submit]")
    staff.page.wait_for_selector(".error-summary")
    _wait_until(staff.page, focused)
    staff.shot("sign-in-error")

"""Real-browser fixtures: a live server in its own process and Debian's Chromium on a phone.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright for Python; nothing is ever
downloaded. With PARTICIPATION_BROWSER_TESTS=required (CI) a missing browser, Playwright or
axe-core fails the run; otherwise these tests skip.

Every page a test opens records each request it makes: after the test, all of them must
have gone to the app's own origin. Screenshots of each step are kept under
test-artifacts/browser/<test>/ (PARTICIPATION_BROWSER_ARTIFACTS moves them).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(
    os.environ.get("PARTICIPATION_BROWSER_ARTIFACTS", ROOT / "test-artifacts" / "browser")
)
PHONE = {"width": 360, "height": 740}
REQUIRED = os.environ.get("PARTICIPATION_BROWSER_TESTS", "").strip().lower() == "required"
SERVER_START_SECONDS = 120
# WCAG 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def unavailable(reason: str) -> None:
    """Skip, or fail where browser tests are required."""
    if REQUIRED:
        pytest.fail(f"browser tests are required here, but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    password: str
    join_codes: dict[str, str]
    log: Path

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched once for the whole run."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo app on its own SQLite file, served over HTTP from a separate process.

    A separate process leaves the test client's app and its per-test transactions alone.
    It asks for the browser first, so that without one nothing is started. The server's
    log (each request, any traceback) is in server.log beside its database.
    """
    folder = tmp_path_factory.mktemp("browser-server")
    log = folder / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTICIPATION_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("live_server.py")), str(folder)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    try:
        url = _wait_for_listening(process, log)
        demo = json.loads((folder / "demo.json").read_text())
        yield LiveServer(url=url, password=demo["password"], join_codes=demo["groups"], log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_listening(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        found = re.search(r"^LISTENING (\S+)$", log.read_text(errors="replace"), re.M)
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    pytest.fail(f"the live server did not start:\n{log.read_text(errors='replace')[-4000:]}")


@dataclass
class Visitor:
    """One person's browser (a context and its page) on a phone-sized screen."""

    name: str
    context: BrowserContext
    page: Page
    server: LiveServer
    shots: Path
    steps: Iterator[int]
    requests: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        """Open a path of the app; returns the navigation's response."""
        return self.page.goto(self.server.url + path)

    def shot(self, step: str) -> Path:
        """Save a full-page screenshot of this step (numbered in the order of the test)."""
        path = self.shots / f"{next(self.steps):02d}-{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def path(self) -> str:
        return urlsplit(self.page.url).path

    def sign_in(self, email: str) -> None:
        """Staff sign in (demo mode: no second factor)."""
        self.go("/sign-in")
        self.page.fill("#email", email)
        self.page.fill("#password", self.server.password)
        self.page.click("main form button[type=submit]")
        self.page.wait_for_url("**/staff")

    def join(self, group: str) -> None:
        """A child joins a demo group with its code, as typed from a worker's card."""
        self.go("/join")
        self.page.fill("#code", self.server.join_codes[group])
        self.page.click("main form button[type=submit]")
        self.page.wait_for_url("**/me")

    def choose_language(self, code: str) -> None:
        """Pick a language with the switcher at the top of every page."""
        self.page.select_option("#language-choice", code)
        with self.page.expect_navigation():
            self.page.click("form.language button[type=submit]")

    def note_response(self, response: Any) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def foreign_requests(self) -> list[str]:
        own = self.server.origin + "/"
        return [url for url in self.requests if not url.startswith(own)]


@pytest.fixture()
def shots_dir(request: pytest.FixtureRequest) -> Path:
    """test-artifacts/browser/<test name>/, emptied at the start of the test."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test, so that a fixture knows whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture()
def open_phone(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer, shots_dir: Path
) -> Iterator[Callable[..., Visitor]]:
    """open_phone(name, javascript=True, bypass_csp=False): a new person on a 360x740 phone.

    After the test, every request of every page must have gone to the app's own origin, no
    page may have thrown a JavaScript error and no response may be a server error. Console
    messages go to console.txt; if the test failed, each page is photographed as it was.
    """
    visitors: list[Visitor] = []
    steps = itertools.count(1)

    def open_(name: str, *, javascript: bool = True, bypass_csp: bool = False) -> Visitor:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            java_script_enabled=javascript,
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(10_000)
        visitor = Visitor(name, context, context.new_page(), live_server, shots_dir, steps)
        context.on("request", lambda req: visitor.requests.append(req.url))
        context.on("response", visitor.note_response)
        context.on("console", lambda msg: visitor.console.append(f"{msg.type}: {msg.text}"))
        context.on("weberror", lambda err: visitor.errors.append(str(err.error)))
        visitors.append(visitor)
        return visitor

    yield open_
    failed = getattr(request.node, "report_call", None)
    for visitor in visitors:
        if failed is not None and failed.failed:
            visitor.shot("at-failure")
        visitor.context.close()
    console = [f"{v.name} {line}" for v in visitors for line in v.console + v.errors]
    if console:
        (shots_dir / "console.txt").write_text("\n".join(console) + "\n")
    foreign = {url for v in visitors for url in v.foreign_requests()}
    assert not foreign, f"requests left {live_server.origin}: {sorted(foreign)}"
    assert all(v.requests for v in visitors), "no request was recorded"
    assert not [e for v in visitors for e in v.errors], f"JavaScript errors: {console}"
    server_errors = [e for v in visitors for e in v.server_errors]
    assert not server_errors, f"server errors (see {live_server.log}): {server_errors}"


@pytest.fixture(scope="session")
def axe() -> Callable[[Page], dict[str, list[dict[str, Any]]]]:
    """axe(page): axe-core's violations (and what it could not decide) on the page as it is.

    axe-core comes from node_modules (`npm ci --ignore-scripts`, which `make test` runs).
    Injecting it needs a context opened with bypass_csp=True: the app allows no script
    but its own.
    """
    if not AXE_JS.exists():
        unavailable(f"{AXE_JS.relative_to(ROOT)} is missing: run `npm ci --ignore-scripts`")

    def run(page: Page) -> dict[str, list[dict[str, Any]]]:
        page.add_script_tag(path=str(AXE_JS))
        return page.evaluate(
            """async (tags) => {
                const results = await axe.run(document, {
                    runOnly: { type: "tag", values: tags },
                    resultTypes: ["violations", "incomplete"],
                });
                const brief = (list) => list.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary),
                }));
                return { violations: brief(results.violations), review: brief(results.incomplete) };
            }""",
            AXE_TAGS,
        )

    return run

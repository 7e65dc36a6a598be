"""A bounded load test: simulated children join, answer every survey page and send, over HTTP.

Each child is a phone of its own (cookies, and an address in X-Forwarded-For as a reverse
proxy would give it): it reads the CSRF token from every page as a browser does and follows
the app's redirects. The run is bounded in count (``children``) and in time (``seconds``:
after it no request is made and unfinished children stop), and only talks to 127.0.0.1.

Used by ``tests/load/test_load.py`` (small), ``benchmarks/load_bench.py`` (throughput) and
from the command line for the full run on PostgreSQL (it makes and drops its own database):

    .venv/bin/python benchmarks/load.py --children 300 --ramp 60 --seconds 240 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/load_bench
"""

from __future__ import annotations

import argparse
import hashlib
import html
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # the driver never talks to anything else

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CHOICE = re.compile(r'name="choice" value="([^"]+)"')
_SURVEY_LINK = re.compile(r'href="/survey/(\d+)"')

EVERYDAY_TEXTS = [
    "school is ok, my pep meeting was in maths again",
    "i like my foster carers and i want to see my brother more",
    "my social worker keeps changing and i have to tell my story again",
    "nothing really",
    "more trips please",
]
# Raises a safeguarding alert (the child is shown help, then carries on).
WORRYING_TEXT = "i dont feel safe at home when he has been drinking"


class UnexpectedResponse(RuntimeError):
    """The app answered with something a phone following the survey would not expect."""


class OutOfTime(RuntimeError):
    """The run's time is up: the child stops where it is."""


@dataclass
class Page:
    status: int
    location: str
    body: str

    def csrf_token(self) -> str:
        match = _TOKEN.search(self.body)
        if match is None:
            raise UnexpectedResponse(f"no CSRF token on a {self.status} page")
        return html.unescape(match.group(1))


@dataclass(frozen=True)
class Timing:
    label: str  # join, page, start, answer, help, submit
    seconds: float
    status: int


class Browser:
    """One phone: its own cookies, its own address, one connection to the local server."""

    def __init__(self, port: int, address: str | None = None, timeout: float = 20.0) -> None:
        self.port = port
        self.address = address
        self.cookies: dict[str, str] = {}
        self.timings: list[Timing] = []
        self._connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def get(self, path: str, label: str = "page") -> Page:
        return self.request("GET", path, None, label)

    def post(self, path: str, form: Mapping[str, str], label: str) -> Page:
        return self.request("POST", path, form, label)

    def request(self, method: str, path: str, form: Mapping[str, str] | None, label: str) -> Page:
        headers = {"Accept-Language": "en", "User-Agent": "child-voice-load/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            headers["X-Forwarded-For"] = self.address
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self._connection.request(method, path, body=body, headers=headers)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()
            raise
        self.timings.append(Timing(label, time.perf_counter() - started, response.status))
        for header in response.headers.get_all("Set-Cookie") or []:
            self._keep_cookie(header)
        location = response.headers.get("Location", "")
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return Page(response.status, location, data.decode("utf-8", "replace"))

    def _keep_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        lowered = attributes.lower()
        if not value or "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def close(self) -> None:
        self._connection.close()


@dataclass(frozen=True)
class SentAnswer:
    action: str  # next, skip, prefer_not
    choice: str | None = None
    text: str | None = None


@dataclass
class ChildResult:
    index: int
    band: str
    child_token: str | None = None  # the cv_child cookie; the database keeps its SHA-256
    round_id: int | None = None
    started: bool = False
    answers: dict[int, SentAnswer] = field(default_factory=dict)  # by question position
    submitted: bool = False
    out_of_time: bool = False
    error: str | None = None
    timings: list[Timing] = field(default_factory=list)


@dataclass(frozen=True)
class ChildBehaviour:
    """How simulated children answer; shares are probabilities per page."""

    skip_share: float = 0.08
    prefer_not_share: float = 0.04
    worrying_share: float = 0.02  # free text that raises a safeguarding alert
    resend_share: float = 0.03  # a double tap: the same answer posted twice
    think_seconds: float = 0.0  # pause after each page, up to this long


def _expect(page: Page, status: int, what: str) -> Page:
    if page.status != status:
        raise UnexpectedResponse(f"{what}: HTTP {page.status}, expected {status}")
    return page


def take_survey(
    browser: Browser,
    result: ChildResult,
    code: str,
    rng: random.Random,
    deadline: float,
    behaviour: ChildBehaviour,
) -> None:
    """Join with ``code``, answer every page the app shows, send. Fills ``result``."""

    def step() -> None:
        if time.monotonic() >= deadline:
            raise OutOfTime
        if behaviour.think_seconds:
            time.sleep(rng.uniform(0, behaviour.think_seconds))

    step()
    token = _expect(browser.get("/join"), 200, "join page").csrf_token()
    step()
    joined = browser.post("/join", {"code": code, "csrf_token": token}, "join")
    _expect(joined, 302, "join")
    result.child_token = browser.cookies.get("cv_child")
    step()
    home = _expect(browser.get(joined.location or "/me"), 200, "child home")
    link = _SURVEY_LINK.search(home.body)
    if link is None:
        raise UnexpectedResponse("no survey on the child's start page")
    round_id = int(link.group(1))
    result.round_id = round_id
    step()
    token = _expect(browser.get(f"/survey/{round_id}"), 200, "welcome").csrf_token()
    step()
    started = browser.post(f"/survey/{round_id}/start", {"csrf_token": token}, "start")
    location = _expect(started, 302, "start").location
    result.started = True
    question_path = re.compile(rf"^/survey/{round_id}/q/(\d+)$")
    for _ in range(200):  # far more pages than any question set has
        match = question_path.match(location)
        if match is None:
            break
        step()
        page = _expect(browser.get(location), 200, f"question {location}")
        form, sent = _answer_form(page, rng, behaviour)
        step()
        posted = _expect(browser.post(location, form, "answer"), 302, f"answer {location}")
        result.answers[int(match.group(1))] = sent
        if rng.random() < behaviour.resend_share:
            again = _expect(browser.post(location, form, "answer"), 302, f"resend {location}")
            if again.location.split("?")[0] != posted.location.split("?")[0]:
                raise UnexpectedResponse(f"a resend of {location} went somewhere else")
        location = posted.location
        if location.startswith("/help/"):
            step()
            _expect(browser.get(location, "help"), 200, "help page")
            location = parse_qs(urlsplit(location).query).get("next", [""])[0]
        elif location == f"{match.group(0)}/help":
            # A tapped risk answer: the help step, then (as most children do) Not now.
            step()
            offer = _expect(browser.get(location, "help"), 200, "help step")
            step()
            form = {"csrf_token": offer.csrf_token(), "want": "not_now"}
            location = _expect(browser.post(location, form, "help"), 302, "not now").location
    if location != f"/survey/{round_id}/end":
        raise UnexpectedResponse(f"the survey ended at {location!r}, not the end page")
    step()
    token = _expect(browser.get(location), 200, "end page").csrf_token()
    step()
    sent = browser.post(f"/survey/{round_id}/submit", {"csrf_token": token}, "submit")
    _expect(sent, 302, "submit")
    result.submitted = True
    step()
    _expect(browser.get(sent.location), 200, "thanks page")


def _answer_form(
    page: Page, rng: random.Random, behaviour: ChildBehaviour
) -> tuple[dict[str, str], SentAnswer]:
    form = {"csrf_token": page.csrf_token()}
    roll = rng.random()
    if roll < behaviour.skip_share:
        form["action"] = "skip"
        return form, SentAnswer("skip")
    if roll < behaviour.skip_share + behaviour.prefer_not_share:
        form["action"] = "prefer_not"
        return form, SentAnswer("prefer_not")
    form["action"] = "next"
    choices = [html.unescape(v) for v in _CHOICE.findall(page.body)]
    if choices:
        form["choice"] = rng.choice(choices)
        return form, SentAnswer("next", choice=form["choice"])
    if 'name="text"' not in page.body:
        raise UnexpectedResponse("a question page with neither choices nor a text box")
    worrying = rng.random() < behaviour.worrying_share
    form["text"] = WORRYING_TEXT if worrying else rng.choice(EVERYDAY_TEXTS)
    return form, SentAnswer("next", text=form["text"])


# The run ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class LoadReport:
    children: list[ChildResult]
    seconds: float

    @property
    def timings(self) -> list[Timing]:
        return [t for child in self.children for t in child.timings]

    @property
    def errors(self) -> list[str]:
        return [f"child {c.index}: {c.error}" for c in self.children if c.error]

    @property
    def submitted(self) -> int:
        return sum(c.submitted for c in self.children)

    @property
    def out_of_time(self) -> int:
        return sum(c.out_of_time for c in self.children)

    def latencies(self, label: str) -> list[float]:
        return [t.seconds for t in self.timings if t.label == label]

    def summary(self) -> str:
        answers = len(self.latencies("answer"))
        lines = [
            f"children: {len(self.children)}, submitted: {self.submitted}, "
            f"stopped by the time limit: {self.out_of_time}, errors: {len(self.errors)}",
            f"requests: {len(self.timings)} in {self.seconds:.1f} s "
            f"({len(self.timings) / self.seconds:.0f}/s); answers saved: {answers} "
            f"({answers / self.seconds:.1f}/s)",
        ]
        for label in ("join", "start", "page", "answer", "submit"):
            ms = [s * 1000 for s in self.latencies(label)]
            if ms:
                lines.append(
                    f"  {label:<7} n={len(ms):<6} p50 {percentile(ms, 50):6.1f} ms  "
                    f"p95 {percentile(ms, 95):6.1f} ms  p99 {percentile(ms, 99):6.1f} ms  "
                    f"max {max(ms):6.1f} ms"
                )
        lines += [f"  {error}" for error in self.errors[:10]]
        return "\n".join(lines)


def child_address(index: int) -> str:
    """A distinct private address per child, as a reverse proxy would forward it."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def run_load(
    port: int,
    codes: Mapping[str, str],
    *,
    children: int,
    concurrency: int,
    ramp_seconds: float,
    seconds: float,
    seed: int = 2026,
    behaviour: ChildBehaviour | None = None,
    first_index: int = 1,
) -> LoadReport:
    """Children arrive evenly over ``ramp_seconds``, at most ``concurrency`` at once.

    ``codes`` maps an age band to a group join code; children are spread over the bands.
    Nothing is requested after ``seconds``: unfinished children are marked out of time.
    """
    if not 0 < children <= 100_000 or not 0 < concurrency <= 256 or seconds <= 0:
        raise ValueError("children, concurrency and seconds must be small positive numbers")
    behaviour = behaviour or ChildBehaviour()
    bands = sorted(codes)
    begin = time.monotonic()
    deadline = begin + seconds
    results = [
        ChildResult(index=first_index + i, band=bands[i % len(bands)]) for i in range(children)
    ]

    def one_child(i: int) -> None:
        result = results[i]
        wait = begin + ramp_seconds * i / children - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        browser = Browser(port, child_address(result.index))
        rng = random.Random(seed * 1_000_003 + result.index)  # noqa: S311 (not security)
        try:
            take_survey(browser, result, codes[result.band], rng, deadline, behaviour)
        except OutOfTime:
            result.out_of_time = not result.submitted  # a sent survey is finished
        except (UnexpectedResponse, OSError, http.client.HTTPException) as error:
            result.error = f"{type(error).__name__}: {error}"
        finally:
            browser.close()
            result.timings = browser.timings

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="child") as pool:
        list(pool.map(one_child, range(children)))
    return LoadReport(results, time.monotonic() - begin)


# Checking what the database holds -------------------------------------------------------


def verify_database(database_url: str, report: LoadReport) -> list[str]:
    """Every child that started has one response, with exactly the answers it sent, once."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            participants = dict(
                conn.execute(text("SELECT token_hash, id FROM participant")).tuples().all()
            )
            responses: dict[int, list[tuple[int, str, object]]] = defaultdict(list)
            for pid, rid, status, submitted_at in conn.execute(
                text("SELECT participant_id, id, status, submitted_at FROM survey_response")
            ):
                responses[pid].append((rid, status, submitted_at))
            answers: dict[int, dict[int, tuple[str, str | None, str | None]]] = defaultdict(dict)
            duplicates = conn.execute(
                text(
                    "SELECT response_id, question_key, count(*) FROM survey_answer "
                    "GROUP BY response_id, question_key HAVING count(*) > 1"
                )
            ).all()
            for rid, position, status, choice, written in conn.execute(
                text(
                    "SELECT a.response_id, q.position, a.status, a.choice, a.text "
                    "FROM survey_answer a JOIN survey_question q ON q.id = a.question_id"
                )
            ):
                answers[rid][position] = (status, choice, written)
            total_responses = conn.execute(text("SELECT count(*) FROM survey_response")).scalar()
    finally:
        engine.dispose()

    problems = [f"answer stored {n} times: response {r}, {k}" for r, k, n in duplicates]
    started = 0
    for child in report.children:
        if child.child_token is None:
            continue
        pid = participants.get(hashlib.sha256(child.child_token.encode()).hexdigest())
        if pid is None:
            problems.append(f"child {child.index}: joined but no participant row")
            continue
        rows = responses.get(pid, [])
        if not child.started:
            continue
        started += 1
        if len(rows) != 1:
            problems.append(f"child {child.index}: {len(rows)} responses, expected 1")
            continue
        rid, status, submitted_at = rows[0]
        if child.submitted and (status != "submitted" or submitted_at is None):
            problems.append(f"child {child.index}: sent, but the response is {status}")
        if not child.submitted and status == "submitted":
            problems.append(f"child {child.index}: not sent, but the response is submitted")
        expected = {pos: _stored_form(sent) for pos, sent in child.answers.items()}
        held = answers.get(rid, {})
        for position in sorted(set(expected) | set(held)):
            if position not in held:
                problems.append(f"child {child.index}: answer to question {position} missing")
            elif position not in expected:
                # A request cut off by the time limit may have saved an answer it never saw
                # the reply to; anything else is an answer nobody sent.
                if not child.out_of_time:
                    problems.append(f"child {child.index}: answer {position} was never sent")
            elif held[position] != expected[position]:
                problems.append(
                    f"child {child.index}: question {position} holds {held[position]}, "
                    f"sent {expected[position]}"
                )
    if total_responses != started:
        problems.append(f"{total_responses} responses stored for {started} children who started")
    return problems


def _stored_form(sent: SentAnswer) -> tuple[str, str | None, str | None]:
    if sent.action == "skip":
        return ("skipped", None, None)
    if sent.action == "prefer_not":
        return ("prefer_not", None, None)
    return ("answered", sent.choice, sent.text.strip() if sent.text else None)


# A database and a server of its own -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _server_and_name(database_url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        raise ValueError("the load run needs a PostgreSQL database URL")
    if url.host not in (None, HOST, "localhost"):
        raise ValueError("the load run only uses a database server on 127.0.0.1")
    server = url.set(database="postgres").render_as_string(hide_password=False)
    return server, url.database


def create_database(database_url: str) -> None:
    """Create the database afresh (dropping one of the same name left by an earlier run)."""
    from sqlalchemy import create_engine, text

    server, name = _server_and_name(database_url)
    if name in {"postgres", "template0", "template1", "test"}:
        raise ValueError(f"refusing to recreate the database {name!r}")
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def drop_database(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    server, name = _server_and_name(database_url)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a demo server on plain http behind one (simulated) proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTICIPATION_")}
    env.update(
        {
            "PARTICIPATION_DATABASE_URL": database_url,
            "PARTICIPATION_DEMO": "1",
            "PARTICIPATION_SESSION_COOKIE_SECURE": "0",
            "PARTICIPATION_SECRET_KEY": "load-test-secret-key-not-for-production",
            # Each simulated phone has its own address in X-Forwarded-For, so the join limit
            # (10 a minute per address) stays on and applies per child, as behind nginx.
            "PARTICIPATION_PROXY_HOPS": "1",
        }
    )
    env.update(extra)
    return env


def prepare_database(database_url: str) -> dict[str, str]:
    """Create, migrate and load the demo data; return a join code for each age band."""
    from sqlalchemy import create_engine, text

    from participation.migrate import upgrade

    create_database(database_url)
    upgrade(database_url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load"],
        cwd=ROOT,
        env=server_env(database_url),
        check=True,
        capture_output=True,
        timeout=120,
    )
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT g.age_band, j.code FROM join_code j "
                    "JOIN participation_group g ON g.id = j.group_id "
                    "WHERE j.retired_at IS NULL AND g.kind != 'carers_own_children' "
                    "ORDER BY g.id"
                )
            ).all()
    finally:
        engine.dispose()
    return {band: code for band, code in rows}


@dataclass(frozen=True)
class Served:
    port: int
    pid: int  # gunicorn's master process

    def worker_cpu_seconds(self) -> float:
        """CPU time (user and system) used so far by the live worker processes (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError):
                fields = stat.read_text().rpartition(")")[2].split()
                if int(fields[1]) == self.pid:  # the parent is the master: a worker
                    total += int(fields[11]) + int(fields[12])
        return total / ticks


def database_cpu_seconds(database: str) -> float:
    """CPU time used so far by the live PostgreSQL backends serving ``database`` (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").glob("[0-9]*"):
        with suppress(OSError):
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if title.startswith("postgres: ") and f" {database} " in title:
                fields = (proc / "stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def gunicorn(
    app: str,
    env: Mapping[str, str],
    *,
    workers: int = 3,
    log_path: Path | None = None,
    ready_path: str = "/healthz",
) -> Iterator[Served]:
    """Serve ``app`` with gunicorn on a free port of 127.0.0.1."""
    port = free_port()
    log_path = log_path or Path(os.devnull)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--timeout",
                "60",
                "--chdir",
                str(ROOT),
                app,
            ],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(process, port, ready_path)
            yield Served(port, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before it served")
        with suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            try:
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=90.0, help="hard time limit")
    parser.add_argument("--ramp", type=float, default=60.0, help="children arrive over this")
    parser.add_argument("--concurrency", type=int, default=24, help="children at once, at most")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/load_bench"
        ),
        help="made afresh and dropped afterwards",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    codes = prepare_database(args.database_url)
    try:
        with gunicorn("wsgi:app", server_env(args.database_url), workers=args.workers) as served:
            report = run_load(
                served.port,
                codes,
                children=args.children,
                concurrency=args.concurrency,
                ramp_seconds=args.ramp,
                seconds=args.seconds,
            )
        print(report.summary())
        problems = verify_database(args.database_url, report)
        print(f"database check: {len(problems)} problem(s)")
        for problem in problems[:20]:
            print(f"  {problem}")
    finally:
        if not args.keep:
            drop_database(args.database_url)
    return 1 if problems or report.errors else 0


if __name__ == "__main__":
    sys.exit(main())

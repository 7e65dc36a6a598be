"""Survey budgets: page weight, server time to answer a page, write-transaction length.

Run with `make bench`. Uses a fresh SQLite database with the demo data, and the app in
this process through the WSGI test client (server time, no network). Prints a table and
appends nothing: copy the numbers into BENCHMARKS.md with the machine and the date.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "150"))
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
_EXTERNAL = re.compile(r'(?:href|src|action)="(?:https?:)?//')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    from panel.demo import load_demo_data
    from participation import create_app
    from participation.db import db
    from participation.migrate import upgrade
    from surveys.models import SurveyRound

    workdir = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": False,
            "SECRET_KEY": "bench" * 8,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    with app.app_context():
        demo = load_demo_data(db.session)
        db.session.commit()
        codes = dict(demo.groups)
        rounds = {
            r.question_set.age_band.value: r.id for r in db.session.scalars(select(SurveyRound))
        }

    # Write-transaction length: from the first INSERT/UPDATE/DELETE to COMMIT.
    write_spans: list[float] = []
    state: dict[str, float | None] = {"first_write": None}

    @event.listens_for(db.engine, "before_cursor_execute")
    def _mark(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE"} and state["first_write"] is None:
            state["first_write"] = time.perf_counter()

    @event.listens_for(db.engine, "commit")
    def _commit(conn):  # type: ignore[no-untyped-def]
        if state["first_write"] is not None:
            write_spans.append(time.perf_counter() - state["first_write"])
            state["first_write"] = None

    answer_times: list[float] = []
    weights: dict[str, int] = {}
    external: list[str] = []
    plotly_seen = False
    group_for_band = {
        "4-7": "Little Voices",
        "8-11": "Voices 8 to 11",
        "11-17": "Young People's Council",
        "16-25": "Care Leavers' Forum",
    }
    for child in range(CHILDREN):
        band = list(group_for_band)[child % 4]
        client = app.test_client()
        token = _TOKEN.search(client.get("/join").get_data(as_text=True)).group(1)
        client.post("/join", data={"code": codes[group_for_band[band]], "csrf_token": token})
        round_id = rounds[band]
        client.post(f"/survey/{round_id}/start", data={"csrf_token": token})
        location = f"/survey/{round_id}/q/1"
        while "/q/" in location:
            page = client.get(location)
            html = page.get_data(as_text=True)
            if band not in weights:
                assets = sorted(set(_ASSET.findall(html)))
                weights[band] = len(page.data) + sum(len(client.get(a).data) for a in assets)
                external += _EXTERNAL.findall(html)
                plotly_seen = plotly_seen or "plotly" in html.lower()
            choice = re.search(r'name="choice" value="([^"]+)"', html)
            data = {"csrf_token": token, "action": "next"}
            if choice:
                data["choice"] = choice.group(1)
            elif 'name="text"' in html:
                data["text"] = "school is ok, my pep meeting was in maths again"
            started = time.perf_counter()
            response = client.post(location, data=data)
            answer_times.append(time.perf_counter() - started)
            location = response.headers.get("Location", "")
            if location.startswith("/help/"):
                location = ""
        client.post(f"/survey/{round_id}/submit", data={"csrf_token": token})

    ms = [t * 1000 for t in answer_times]
    spans = [t * 1000 for t in write_spans]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"children: {CHILDREN}, answers posted: {len(ms)}")
    print(
        f"answer a page (server time, SQLite, demo data): p50 {statistics.median(ms):.1f} ms, "
        f"p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms (budget: p95 <= 25 ms)"
    )
    print(
        f"write transaction (first write to commit): p50 {statistics.median(spans):.2f} ms, "
        f"p95 {percentile(spans, 95):.2f} ms, max {max(spans):.2f} ms"
    )
    for band, size in weights.items():
        print(
            f"question page weight, ages {band}: {size / 1024:.1f} KB with its assets "
            "(budget: 30 KB)"
        )
    print(f"other origins referenced: {external or 'none'}; plotly on survey pages: {plotly_seen}")
    over = [b for b, s in weights.items() if s > 30 * 1024]
    if over or external or plotly_seen or percentile(ms, 95) > 25:
        print("BUDGET MISSED")


if __name__ == "__main__":
    main()

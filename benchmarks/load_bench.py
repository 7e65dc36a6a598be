"""Survey throughput under gunicorn and PostgreSQL: the real app beside a bare Flask app.

Run with `make bench` (or `.venv/bin/python benchmarks/load_bench.py`). Both apps are served
by the same gunicorn settings on 127.0.0.1 against a PostgreSQL database of their own, made
afresh (migrated, demo data) and dropped afterwards, and driven by the same simulated phones
(`benchmarks/load.py`): each child joins, gets and answers every page of its survey, sends.
``concurrency`` children run at once with no pause (a closed loop) for ``seconds``, after a
short warm-up; the apps take turns ``rounds`` times so that a noisy neighbour on the machine
hurts both alike. The bare app (`benchmarks/bare_app.py`) writes the same rows with plain SQL,
and the database check afterwards proves it for both.

Beside throughput and latency it reports the CPU time the gunicorn workers and the
PostgreSQL backends spent per request: on a shared machine that is the steadier measure.

Settings (environment): BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/load_bench; its name must contain "bench"; the
bare app uses the same name with "_bare"), BENCH_SECONDS (20), BENCH_CONCURRENCY (8),
BENCH_WORKERS (gunicorn workers, 3), BENCH_ROUNDS (2).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (  # the benchmarks folder is not a package: found through sys.path
    LoadReport,
    database_cpu_seconds,
    drop_database,
    gunicorn,
    percentile,
    prepare_database,
    run_load,
    server_env,
    verify_database,
)

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/load_bench"
)
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
GOAL = 0.5


@dataclass
class Measured:
    """What one app did over its measured turns (warm-ups excluded)."""

    name: str
    seconds: float = 0.0
    driver_cpu: float = 0.0
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    reports: list[LoadReport] = field(default_factory=list)
    warm_ups: list[LoadReport] = field(default_factory=list)

    def ms(self, label: str | None = None) -> list[float]:
        return [
            t.seconds * 1000
            for r in self.reports
            for t in r.timings
            if label is None or t.label == label
        ]

    @property
    def requests(self) -> int:
        return sum(len(r.timings) for r in self.reports)

    @property
    def answers_per_second(self) -> float:
        return len(self.ms("answer")) / self.seconds

    def lines(self) -> list[str]:
        answer, every = self.ms("answer"), self.ms()
        sent = sum(r.submitted for r in self.reports)
        return [
            f"{self.name}: answers saved {self.answers_per_second:.1f}/s, surveys sent "
            f"{sent / self.seconds:.2f}/s, requests {self.requests / self.seconds:.1f}/s",
            f"  answer POST p50 {percentile(answer, 50):.1f} / p95 {percentile(answer, 95):.1f} "
            f"/ p99 {percentile(answer, 99):.1f} ms; any request p95 "
            f"{percentile(every, 95):.1f} / p99 {percentile(every, 99):.1f} ms",
            f"  CPU per request: gunicorn workers {1000 * self.server_cpu / self.requests:.2f} ms, "
            f"PostgreSQL {1000 * self.database_cpu / self.requests:.2f} ms; the driver used "
            f"{100 * self.driver_cpu / self.seconds:.0f}% of a core",
        ]


def measure(result: Measured, app: str, url: str, codes: dict[str, str], turn: int) -> None:
    """One turn: a warm-up, then the measured closed loop."""
    database = url.rsplit("/", 1)[-1]
    with gunicorn(app, server_env(url, BARE_DATABASE_URL=url), workers=WORKERS) as served:
        first = 1_000_000 * turn + 1
        result.warm_ups.append(
            run_load(
                served.port, codes, children=CONCURRENCY, concurrency=CONCURRENCY,
                ramp_seconds=0, seconds=15, first_index=first,
            )
        )  # fmt: skip
        driver, server = time.process_time(), served.worker_cpu_seconds()
        backends = database_cpu_seconds(database)
        report = run_load(
            served.port, codes, children=50_000, concurrency=CONCURRENCY, ramp_seconds=0,
            seconds=SECONDS, first_index=first + CONCURRENCY,
        )  # fmt: skip
        result.driver_cpu += time.process_time() - driver
        result.server_cpu += served.worker_cpu_seconds() - server
        result.database_cpu += database_cpu_seconds(database) - backends
    result.seconds += report.seconds
    result.reports.append(report)
    errors = result.warm_ups[-1].errors + report.errors
    if errors:
        raise SystemExit(f"{result.name}: errors\n" + "\n".join(errors[:10]))


def postgres_answers(url: str) -> bool:
    """Whether the PostgreSQL server of ``url`` accepts a connection (its postgres database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    engine = create_engine(make_url(url).set(database="postgres"))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def main() -> int:
    name = DATABASE_URL.rsplit("/", 1)[-1]
    if "bench" not in name:
        raise SystemExit("BENCH_DATABASE_URL must name a database with 'bench' in it")
    apps = {
        "real app": ("wsgi:app", DATABASE_URL),
        "bare app": ("benchmarks.bare_app:app", DATABASE_URL + "_bare"),
    }
    if not postgres_answers(DATABASE_URL):
        print(f"load benchmark skipped: no PostgreSQL server answers for {DATABASE_URL}")
        return 0
    results = {label: Measured(label) for label in apps}
    codes = {label: prepare_database(url) for label, (_app, url) in apps.items()}
    try:
        for turn in range(ROUNDS):
            order = list(apps) if turn % 2 == 0 else list(reversed(apps))
            for label in order:
                app, url = apps[label]
                measure(results[label], app, url, codes[label], turn)
        problems = {}
        for label, (_app, url) in apps.items():
            every = results[label].warm_ups + results[label].reports
            children = [child for report in every for child in report.children]
            problems[label] = verify_database(url, LoadReport(children, 1.0))
    finally:
        for _app, url in apps.values():
            drop_database(url)

    real, bare = results["real app"], results["bare app"]
    ratio = real.answers_per_second / bare.answers_per_second
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}; load average "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    print(
        f"gunicorn {WORKERS} sync workers for each app, PostgreSQL on 127.0.0.1, "
        f"{CONCURRENCY} children at once, {ROUNDS} x {SECONDS:.0f} s per app after a warm-up"
    )
    for line in real.lines() + bare.lines():
        print(line)
    print(f"real / bare, answers saved per second: {ratio:.0%} (goal: >= {GOAL:.0%})")
    for label, found in problems.items():
        print(f"database check, {label}: {len(found)} problem(s)")
        for problem in found[:10]:
            print(f"  {problem}")
    if ratio < GOAL:
        print("GOAL MISSED")
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Dashboard budgets with a million answers: each per-survey aggregate and the overview page.

Budgets (issue 6): with 1,000,000 answers, each per-survey aggregate at most 100 ms and the
overview page at most 300 ms server time, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/dashboard_bench.py                     # SQLite
    .venv/bin/python benchmarks/dashboard_bench.py --postgres URL      # PostgreSQL

The PostgreSQL run creates (and at the end drops) its own database next to the one in URL,
named ``<name>_dashbench``. Server time is measured in this process through the WSGI test
client, signed in as a panel member: no network. Prints a table; copy it into
BENCHMARKS.md with the machine and the date. Exits 1 if a budget is missed.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AGGREGATE_BUDGET_MS = 100.0
OVERVIEW_BUDGET_MS = 300.0
REPEATS = 15


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[[], Any], repeats: int = REPEATS) -> list[float]:
    fn()  # warm: first query plans, template compilation
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _postgres_database(url: str) -> str:
    base = make_url(url)
    name = f"{base.database}_dashbench"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL (own database)")
    args = parser.parse_args()

    from panel.dashboards.queries import Filters
    from panel.demo import DEMO_PASSWORD, load_demo_data
    from panel.generate import generate
    from panel.published import published
    from participation import create_app
    from participation.db import db, utcnow
    from participation.migrate import upgrade
    from surveys.models import SurveyRound
    from surveys.reads import question_texts

    if args.postgres:
        url = _postgres_database(args.postgres)
        engine_name = "PostgreSQL"
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='dash-bench-')) / 'bench.sqlite3'}"
        engine_name = "SQLite"
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SESSION_COOKIE_SECURE": False,
            "SECRET_KEY": "bench" * 8,
            "RATELIMIT_ENABLED": False,
            "DEMO": True,
            "WTF_CSRF_ENABLED": False,  # signs in with a plain POST
        }
    )
    rows: list[tuple[str, list[float], float]] = []
    try:
        with app.app_context():
            demo = load_demo_data(db.session)
            db.session.commit()
            council = demo.council
            start = time.perf_counter()
            made = generate(db.session, council, args.answers)
            db.session.commit()
            generate_s = time.perf_counter() - start
            total_answers = db.session.scalar(text("SELECT COUNT(*) FROM survey_answer"))
            rounds = list(
                db.session.scalars(
                    select(SurveyRound)
                    .where(SurveyRound.council_id == council.id)
                    .order_by(SurveyRound.opens_at.desc())
                )
            )
            # The published figures come from a release (a recount of sent responses made
            # by the jobs worker): made once here and timed, but no page waits for it.
            from panel.release import make_release

            start = time.perf_counter()
            make_release(db.session, council.id, utcnow(), threshold=10, min_new=10, reason="bench")
            db.session.commit()
            release_s = time.perf_counter() - start
            # The busiest survey (round) is the one to measure per-survey aggregates on.
            busiest = max(
                rounds,
                key=lambda r: db.session.scalar(
                    text("SELECT COUNT(*) FROM survey_response WHERE round_id = :r"), {"r": r.id}
                ),
            )
            per_survey = Filters(round_id=busiest.id)
            key = "feel_safe" if "feel_safe" in question_texts(db.session) else ""
            council_id = council.id
            aggregates: dict[str, Callable[[], Any]] = {
                "every published figure": lambda: published(db.session, council_id, per_survey),
                "one indicator by year, age band and group": lambda: published(
                    db.session, council_id, per_survey, splits_for=key
                ),
                "every published figure, one group": lambda: published(
                    db.session,
                    council_id,
                    Filters(round_id=busiest.id, group_id=busiest.round_groups[0].group_id),
                ),
            }
            for name, fn in aggregates.items():
                rows.append((f"aggregate: {name} (one survey)", timed(fn), AGGREGATE_BUDGET_MS))
        client = app.test_client()
        signed = client.post(
            "/sign-in", data={"email": "councillor@demo.example", "password": DEMO_PASSWORD}
        )
        if signed.status_code not in (200, 302):
            raise SystemExit(f"sign-in failed: {signed.status_code}")
        pages = {
            "page: /panel (overview, all years)": "/panel",
            "page: /panel?round=<busiest>": f"/panel?round={busiest.id}",
            "page: /panel/evidence": "/panel/evidence",
            "page: /panel/indicators/feel_safe": f"/panel/indicators/{key}",
            "page: /panel/pack": "/panel/pack",
        }
        for name, path in pages.items():

            def get(path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            budget = OVERVIEW_BUDGET_MS if path.startswith("/panel") else AGGREGATE_BUDGET_MS
            rows.append((name, timed(get), budget))
    finally:
        from participation.db import db as database

        if database.engine is not None:
            database.engine.dispose()
        if args.postgres:
            _drop_postgres(url)

    print(
        f"Dashboards on {engine_name}: {total_answers:,} answers "
        f"({made.responses:,} responses, {made.rounds} rounds), generated in {generate_s:.0f} s; "
        f"one release (recount, decide, store; the jobs worker's work) in {release_s:.1f} s"
    )
    print(
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {REPEATS} timed runs each after one warm-up"
    )
    print()
    print("| measure | p50 ms | p95 ms | max ms | budget ms |")
    print("|---|---|---|---|---|")
    missed = 0
    for name, values, budget in rows:
        p95 = percentile(values, 95)
        missed += p95 > budget
        print(
            f"| {name} | {statistics.median(values):.1f} | {p95:.1f} | {max(values):.1f} "
            f"| {budget:.0f}{'' if p95 <= budget else ' MISSED'} |"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

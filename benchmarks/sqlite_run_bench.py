"""`make run`'s serving on SQLite under concurrent use: "database is locked" must not happen.

Serves a fresh demo SQLite database the way `make run` does (gunicorn, one worker with
threads) with two jobs workers beside it polling the queue, and sends simulated children
through the survey at once (``benchmarks/load.py``), while staff queue panel packs. Counts
every 5xx answer and checks that every job ends done (none left "running").

    .venv/bin/python benchmarks/sqlite_run_bench.py --children 60 --concurrency 16
    .venv/bin/python benchmarks/sqlite_run_bench.py --workers 2 --threads 1   # the old way
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import (  # noqa: E402
    HOST,
    _wait_until_ready,
    free_port,
    run_load,
    server_env,
    verify_database,
)


def _prepare(url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text

    from participation.migrate import upgrade

    upgrade(url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "load"],
        cwd=ROOT, env=server_env(url), check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT g.age_band, j.code FROM join_code j "
                "JOIN participation_group g ON g.id = j.group_id "
                "WHERE j.retired_at IS NULL AND g.kind != 'carers_own_children' ORDER BY g.id"
            )
        ).all()
    engine.dispose()
    return {band: code for band, code in rows}


def _queue_packs(url: str, count: int) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        council = conn.execute(text("SELECT id FROM council ORDER BY id LIMIT 1")).scalar()
        for _ in range(count):
            conn.execute(
                text(
                    "INSERT INTO background_job (council_id, kind, params, status, attempts, "
                    "created_at) VALUES (:c, 'panel_pack', :p, 'queued', 0, CURRENT_TIMESTAMP)"
                ),
                {"c": council, "p": '{"format": "csv", "filters": {}}'},
            )
    engine.dispose()


def _job_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, COUNT(*) FROM background_job GROUP BY status")
        ).all()
    engine.dispose()
    return {status: count for status, count in rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--packs", type=int, default=6, help="panel packs queued meanwhile")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        codes = _prepare(url)
        env = server_env(url)
        port = free_port()
        log = Path(folder) / "gunicorn.log"
        command = [
            sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}",
            "--workers", str(args.workers), "--threads", str(args.threads),
            "--timeout", "60", "--chdir", str(ROOT), "wsgi:app",
        ]  # fmt: skip
        worker = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "work", "--loop"]
        worker += ["--interval", "0.2"]  # harsher than make run's 2 s
        with log.open("ab") as out:
            # Our own interpreter with fixed arguments.
            server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
            jobs = [
                subprocess.Popen(worker, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
                for _ in range(2)
            ]
            try:
                _wait_until_ready(server, port, "/healthz")
                _queue_packs(url, args.packs)
                report = run_load(
                    port, codes, children=args.children, concurrency=args.concurrency,
                    ramp_seconds=5, seconds=args.seconds,
                )  # fmt: skip
                _queue_packs(url, args.packs)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    counts = _job_counts(url)
                    if not counts.get("queued") and not counts.get("running"):
                        break
                    time.sleep(0.5)
            finally:
                for process in [server, *jobs]:
                    process.terminate()
                for process in [server, *jobs]:
                    process.wait(timeout=30)
        text = log.read_text(errors="replace")
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        (ROOT / "test-artifacts" / "sqlite_run_bench.log").write_text(text)
        print(f"gunicorn --workers {args.workers} --threads {args.threads}, SQLite, 2 jobs workers")
        print(report.summary())
        locked = text.count("database is locked")
        print(f'"database is locked" in the logs: {locked}')
        print(f"jobs: {_job_counts(url)}")
        problems = verify_database(url, report)
        print(f"database check: {len(problems)} problem(s)")
        for problem in problems[:10]:
            print(f"  {problem}")
    failed = report.errors or problems or locked or counts.get("running")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PARTICIPATION_DEMO", "1")
    sys.exit(main())

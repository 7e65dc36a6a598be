"""A bounded load test: children take the survey at once through gunicorn and PostgreSQL.

The server runs in its own database, named after TEST_DATABASE_URL's with "_load" added,
made and dropped by the test (never the suite's own database). The full run (300 children
in about a minute) is `benchmarks/load.py`; this is the same driver, smaller.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
CHILDREN = 36  # about 1,600 requests, nine children in each age band
SECONDS = 50  # the hard limit: no request after it


def load_driver() -> ModuleType:
    """benchmarks/load.py (the benchmarks folder is not a package)."""
    name = "benchmarks_load"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "load.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture()
def load_database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip(
            "the load test needs PostgreSQL (set TEST_DATABASE_URL): SQLite allows one "
            "writer, and the server processes would share one file"
        )
    parsed = make_url(url)
    if parsed.host not in (None, "127.0.0.1", "localhost"):
        pytest.skip("the load test only runs against a PostgreSQL server on 127.0.0.1")
    return parsed.set(database=f"{parsed.database}_load").render_as_string(hide_password=False)


def test_children_answering_at_once_are_all_stored_exactly_once(load_database_url, tmp_path):
    driver = load_driver()
    codes = driver.prepare_database(load_database_url)
    try:
        env = driver.server_env(load_database_url)
        log = tmp_path / "gunicorn.log"
        with driver.gunicorn("wsgi:app", env, workers=3, log_path=log) as served:
            report = driver.run_load(
                served.port,
                codes,
                children=CHILDREN,
                concurrency=12,
                ramp_seconds=10,
                seconds=SECONDS,
                behaviour=driver.ChildBehaviour(worrying_share=0.05, resend_share=0.05),
            )
        print(report.summary())
        problems = driver.verify_database(load_database_url, report)
    finally:
        driver.drop_database(load_database_url)

    assert report.errors == []
    assert problems == []  # every child's answers stored once, and nothing else
    # Speed is measured by `make bench`; here the run only has to be a real crowd. On a
    # busy machine the time limit may stop a few children before they send.
    assert report.submitted >= CHILDREN // 2, report.summary()
    assert len(report.latencies("answer")) > 10 * report.submitted
    assert (
        {child.band for child in report.children}
        == set(codes)
        == {
            "4-7",
            "8-11",
            "11-17",
            "16-25",
        }
    )

"""With Redis configured, separate app processes share one rate-limit count."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from participation.migrate import upgrade

PROCESS = """
import json, sys
from participation import create_app
from participation.extensions import limiter
app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": sys.argv[2],
                  "RATELIMIT_KEY_PREFIX": sys.argv[3], "WTF_CSRF_ENABLED": False,
                  "SECRET_KEY": "x" * 32, "SESSION_COOKIE_SECURE": False,
                  "PUBLIC_BASE_URL": "http://localhost"})
client = app.test_client()
answers = [
    client.post("/join", data={"code": "AAAA-AAAA"}).status_code for _ in range(int(sys.argv[4]))
]
print(json.dumps({"storage": type(limiter.storage).__name__, "answers": answers}))
"""


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def _run(db_url: str, prefix: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROCESS, db_url, "redis://127.0.0.1:6379/15", prefix, str(count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_two_processes_share_the_join_limit(tmp_path):
    # CSRF is off in these two throwaway processes: the test is about the shared counter.
    db_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    upgrade(db_url)
    prefix = f"test-{uuid.uuid4().hex}"
    first = _run(db_url, prefix, 6)
    second = _run(db_url, prefix, 5)
    assert first["storage"] == "RedisStorage"
    assert first["answers"] == [404] * 6
    assert second["answers"] == [404] * 4 + [429]

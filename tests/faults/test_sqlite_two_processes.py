"""`make run` serves SQLite from two gunicorn processes: a double tap must not say "not sent".

Two requests that both read and then write, in two processes, used to deadlock in SQLite,
which answers one of them "database is locked" at once: the child who tapped "raise a card"
twice saw "Not sent yet" (and no help page) although the card and its alert were saved.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_KEY = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')
_CODE = re.compile(r"([A-Z0-9]{4}-[A-Z0-9]{4})\s+Young People's Council")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def two_processes(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "PARTICIPATION_DEMO": "1",
        "PARTICIPATION_SESSION_COOKIE_SECURE": "0",
        "PARTICIPATION_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PARTICIPATION_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    demo = subprocess.run(
        [*flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    code = _CODE.search(demo.stdout)
    assert code, demo.stdout
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - our server
                break
            except OSError:
                time.sleep(0.1)
        yield base, code.group(1)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_double_tap_on_a_card_is_one_card_and_neither_tap_says_not_sent(two_processes):
    base, code = two_processes
    for n in range(6):
        jar = CookieJar()
        phone = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = phone.open(base + "/join").read().decode()
        joined = {"code": code, "csrf_token": _TOKEN.search(page).group(1)}
        phone.open(base + "/join", urllib.parse.urlencode(joined).encode())
        page = phone.open(base + "/cards/new").read().decode()
        form = {
            "csrf_token": _TOKEN.search(page).group(1),
            "submission_key": _KEY.search(page).group(1),
            "what_change": f"my stepdad hits me every night ({n})",
            "why_matters": "",
            "service": "",
        }
        taps = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPCookieProcessor(jar))
        answers: list[tuple[int, str]] = []

        def tap(taps=taps, form=form, answers=answers) -> None:  # type: ignore[no-untyped-def]
            try:
                response = taps.open(base + "/cards/new", urllib.parse.urlencode(form).encode())
                answers.append((response.status, response.headers.get("Location", "")))
            except urllib.error.HTTPError as error:
                answers.append((error.code, error.headers.get("Location", "")))

        both = [threading.Thread(target=tap) for _ in range(2)]
        for t in both:
            t.start()
        for t in both:
            t.join()
        # Both taps land on the help page for the one alert: never "not sent".
        assert [status for status, _ in answers] == [302, 302], answers
        assert all("/help/" in where for _, where in answers), answers
        assert answers[0][1] == answers[1][1]

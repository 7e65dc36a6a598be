"""A live HTTP server for the browser tests, run in its own process.

The app's database handle is one per process (``participation.db.db``), so the browser's
server cannot share a process with the test client's app without swapping its engine. Run
as ``python live_server.py <folder>``: it migrates a SQLite file in <folder>, loads the demo
council and generated answers over past survey rounds, writes what the tests need to know into
<folder>/demo.json, then serves on 127.0.0.1 on a free port and prints ``LISTENING <url>``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update
from werkzeug.serving import make_server

from participation import create_app
from participation.db import db, utcnow
from participation.i18n import compile_catalogues
from participation.migrate import upgrade
from surveys.models import SurveyRound

GENERATED_ANSWERS = 6_000


def build(folder: Path, public_base_url: str = "http://127.0.0.1:5000") -> Flask:
    """A demo app on its own database in ``folder``; writes demo.json beside it."""
    url = f"sqlite:///{folder / 'browser.sqlite3'}"
    compile_catalogues()
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-tests-secret-key-not-for-production",
            "DEMO": True,  # staff sign in without a second factor, as in `make run`
            "SESSION_COOKIE_SECURE": False,  # plain http on 127.0.0.1
            "RATELIMIT_ENABLED": False,  # many sign-ins from one address in a minute
            # Links in emails lead to this server (the port is known once it is bound).
            "PUBLIC_BASE_URL": public_base_url,
        }
    )
    with app.app_context():
        from panel.demo import DEMO_PASSWORD, load_demo_data
        from panel.generate import generate

        result = load_demo_data(db.session)
        # Enough answers for the panel's charts to show unsuppressed bars. The generated
        # rounds are closed, so that a child sees only the demo's open survey.
        generate(db.session, result.council, GENERATED_ANSWERS)
        now = utcnow()
        db.session.execute(
            update(SurveyRound)
            .where(
                SurveyRound.name.startswith("Generated survey"),
                SurveyRound.opens_at < now,
                SurveyRound.closes_at > now,
            )
            .values(closes_at=now)
        )
        db.session.commit()
        # The panel shows releases only: make one, as the jobs worker would.
        from panel.release import make_release

        make_release(
            db.session,
            result.council.id,
            utcnow(),
            threshold=int(app.config["SMALL_NUMBER_THRESHOLD"]),
            min_new=int(app.config["PANEL_RELEASE_MIN_NEW_RESPONSES"]),
            reason="browser tests",
        )
        db.session.commit()
        info = {
            "password": DEMO_PASSWORD,
            "groups": dict(result.groups),
            "staff": [email for email, _roles in result.staff],
        }
    (folder / "demo.json").write_text(json.dumps(info, indent=2))
    return app


class _NotYet:
    """A placeholder WSGI app until the real one is built (nothing is served before)."""

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]


def main() -> None:
    folder = Path(sys.argv[1])
    # Bind first, so that the app's public address (for links in emails) is this server's.
    server = make_server("127.0.0.1", 0, _NotYet(), threaded=True)
    url = f"http://127.0.0.1:{server.port}"
    server.app = build(folder, url)
    print(f"LISTENING {url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

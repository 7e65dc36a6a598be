"""Settings: every variable the README documents is read, and every setting is documented.

The app is built in a separate process for each check that needs the environment: the
database handle is one per process, and the suite's app must keep its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from participation.config import (
    ENV_PREFIX,
    ConfigError,
    Settings,
    load_config,
    setting_types,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ROW = re.compile(r"^\|\s*`(PARTICIPATION_[A-Z0-9_]+)`\s*\|")

# A valid value that is not the default, for settings whose value must have a shape.
EXAMPLES: dict[str, str] = {
    "PUBLIC_BASE_URL": "https://voice.example.gov.uk",
    "REDIS_URL": "redis://127.0.0.1:6399/3",
    "SECRET_KEY": "a-secret-key-from-the-environment-0123456789",
    "SIGN_IN_RATE_LIMIT": "5 per minute; 20 per hour",
    "SIGN_IN_PER_ACCOUNT_LIMIT": "4 per 15 minutes",
    "JOIN_RATE_LIMIT": "7 per minute",
    "API_RATE_LIMIT": "30 per minute",
    "QUICK_EXIT_URL": "https://www.example.org/weather",
    "MAIL_FROM": "voice@example.gov.uk",
    "SAFEGUARDING_FALLBACK_EMAIL": "safeguarding@example.gov.uk",
    "PROXY_HOPS": "1",
    "TOTP_ENCRYPTION_KEYS": "Hx4h5cHRvKxL3k0Rq3s1nD8m0YwzKp2Jm9yq3VwXc1E=,secret-key",
}


def readme_variables() -> list[str]:
    """The variables of the README's Configuration table, one a row, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            match = ROW.match(line)
            assert match, f"a Configuration row must name one variable first: {line[:80]}"
            names.append(match.group(1))
    return names


def example_value(name: str, kind: type, default: Any) -> str:
    """A string for the environment that parses to something other than the default."""
    if name in EXAMPLES:
        return EXAMPLES[name]
    if kind is bool:
        return "0" if default else "1"
    if kind is int:
        return str((default or 0) + 3)
    if kind is float:
        return str((default or 0) + 2.5)
    return f"value-of-{name.lower()}"


def build_in_subprocess(env: dict[str, str], script: str) -> dict[str, Any]:
    """Run ``script`` (which ends by printing JSON) with only ``env`` as PARTICIPATION_*."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    clean.pop("FLASK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_readme_table_lists_every_setting_and_nothing_else():
    documented = readme_variables()
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    settings = [ENV_PREFIX + f.name for f in fields(Settings)]
    assert sorted(documented) == sorted(settings)


def test_every_setting_is_a_typed_field():
    """A setting added without a type annotation would be a class attribute nobody reads."""
    stray = [
        name
        for name in vars(Settings)
        if name.isupper() and name not in {f.name for f in fields(Settings)}
    ]
    assert stray == []
    for name, (kind, _optional) in setting_types().items():
        assert kind in (str, int, float, bool), (name, kind)


def test_every_documented_variable_is_read_from_the_environment(tmp_path):
    kinds = setting_types()
    defaults = Settings()
    env = {}
    for variable in readme_variables():
        name = variable.removeprefix(ENV_PREFIX)
        kind, _optional = kinds[name]
        env[variable] = example_value(name, kind, getattr(defaults, name))
    env[ENV_PREFIX + "DATABASE_URL"] = f"sqlite:///{tmp_path / 'settings.sqlite3'}"
    script = f"""
import json
from participation import create_app
app = create_app()
names = {sorted(kinds)!r}
print(json.dumps({{
    "config": {{name: app.config[name] for name in names}},
    "trusted": app.config["TRUSTED_HOSTS"],
    "proxy": type(app.wsgi_app).__name__,
}}))
"""
    built = build_in_subprocess(env, script)
    for variable, raw in env.items():
        name = variable.removeprefix(ENV_PREFIX)
        kind, optional = kinds[name]
        from participation.config import parse_value

        expected = parse_value(variable, kind, optional, raw)
        assert built["config"][name] == expected, variable
        assert expected != getattr(defaults, name), f"{variable}: the example is the default"
    # A few taking effect beyond app.config:
    assert built["trusted"][0] == "voice.example.gov.uk"
    assert built["proxy"] == "ProxyFix"  # PROXY_HOPS=1


def test_the_fallback_address_from_the_environment_gets_the_alert_email(tmp_path):
    """The bug: PARTICIPATION_SAFEGUARDING_FALLBACK_EMAIL was documented but never read."""
    db_url = f"sqlite:///{tmp_path / 'fallback.sqlite3'}"
    script = f"""
import json
from participation.migrate import upgrade
upgrade({db_url!r})
from participation import create_app
from participation.db import db
from participation.councils.services import create_council
from participation.safeguarding.services import raise_alert_if_needed
from participation.subjects import SubjectType
from participation.outbox import OutboxEmail
from sqlalchemy import select
app = create_app()
with app.app_context():
    council = create_council(db.session, "Leadless Council", "leadless")
    raise_alert_if_needed(db.session, council_id=council.id, subject_id=1,
                          subject_type=SubjectType.CHALLENGE_CARD, text="he hits me at home")
    db.session.commit()
    rows = db.session.scalars(select(OutboxEmail)).all()
    print(json.dumps([[r.to_address, r.body] for r in rows]))
"""
    env = {
        ENV_PREFIX + "DATABASE_URL": db_url,
        ENV_PREFIX + "PUBLIC_BASE_URL": "https://voice.example.gov.uk",
        ENV_PREFIX + "SAFEGUARDING_FALLBACK_EMAIL": "safeguarding@example.gov.uk",
        ENV_PREFIX + "SECRET_KEY": "x" * 40,
        ENV_PREFIX + "SINGLE_PROCESS": "1",  # no Redis here: one process
    }
    rows = build_in_subprocess(env, script)
    assert [address for address, _body in rows] == ["safeguarding@example.gov.uk"]
    assert "https://voice.example.gov.uk/safeguarding/alerts/1" in rows[0][1]
    assert "hits" not in rows[0][1]


def _load(tmp_path: Path, overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask("settings_test", instance_path=str(tmp_path), instance_relative_config=True)
    load_config(app, {"SECRET_KEY": "x" * 32, **(overrides or {})})
    return app


@pytest.mark.parametrize(
    "variable, raw, named",
    [
        ("MAIL_PORT", "twenty-five", "PARTICIPATION_MAIL_PORT must be a whole number"),
        ("PROXY_HOPS", "one", "PARTICIPATION_PROXY_HOPS must be a whole number"),
        ("SESSION_COOKIE_SECURE", "maybe", "PARTICIPATION_SESSION_COOKIE_SECURE must be 1 or 0"),
        ("MAIL_TIMEOUT_SECONDS", "soon", "PARTICIPATION_MAIL_TIMEOUT_SECONDS must be a number"),
        ("MAIL_PORT", "70000", "PARTICIPATION_MAIL_PORT must be a port"),
        ("PUBLIC_BASE_URL", "voice.example.gov.uk", "PARTICIPATION_PUBLIC_BASE_URL must be"),
        ("PUBLIC_BASE_URL", "javascript:alert(1)", "PARTICIPATION_PUBLIC_BASE_URL must be"),
        ("QUICK_EXIT_URL", "/elsewhere", "PARTICIPATION_QUICK_EXIT_URL must be"),
        ("SAFEGUARDING_FALLBACK_EMAIL", "nobody", "PARTICIPATION_SAFEGUARDING_FALLBACK_EMAIL"),
        ("JOIN_RATE_LIMIT", "lots", "PARTICIPATION_JOIN_RATE_LIMIT must be limits"),
        ("ALERT_REMINDER_URGENT_MINUTES", "0", "PARTICIPATION_ALERT_REMINDER_URGENT_MINUTES"),
    ],
)
def test_a_bad_value_stops_the_start_with_the_variable_named(
    monkeypatch, tmp_path, variable, raw, named
):
    monkeypatch.setenv(ENV_PREFIX + variable, raw)
    with pytest.raises(ConfigError, match=re.escape(named)):
        _load(tmp_path, {"TESTING": True})


def test_a_bad_value_stops_the_real_start_with_the_variable_named(tmp_path):
    """What an operator sees: `flask --app wsgi ...` exits, naming the variable."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "status"],
        env={
            **clean,
            ENV_PREFIX + "DEMO": "1",
            ENV_PREFIX + "MAIL_PORT": "abc",
            ENV_PREFIX + "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            ENV_PREFIX + "SECRET_KEY": "x" * 40,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "PARTICIPATION_MAIL_PORT must be a whole number, not 'abc'" in done.stderr


def test_outside_demo_and_development_the_public_address_is_required(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_PREFIX + "PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv(ENV_PREFIX + "DEMO", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="PARTICIPATION_PUBLIC_BASE_URL is not set"):
        _load(tmp_path)


def test_production_trusts_only_the_public_host(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_PREFIX + "PUBLIC_BASE_URL", "https://voice.example.gov.uk/")
    app = _load(tmp_path)
    assert app.config["PUBLIC_BASE_URL"] == "https://voice.example.gov.uk"
    assert app.config["TRUSTED_HOSTS"] == ["voice.example.gov.uk"]


def test_demo_mode_derives_a_local_public_address(monkeypatch, tmp_path):
    """`make run`: demo mode, no PUBLIC_BASE_URL set, and links point at the local server."""
    monkeypatch.delenv(ENV_PREFIX + "PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv(ENV_PREFIX + "DEMO", "1")
    app = _load(tmp_path)
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert app.config["REQUIRE_SECOND_FACTOR"] is False


def test_instance_config_values_are_type_checked_too(tmp_path):
    (tmp_path / "config.py").write_text("MAIL_PORT = 'abc'\n")
    with pytest.raises(ConfigError, match="setting MAIL_PORT must be a whole number"):
        _load(tmp_path, {"TESTING": True})

"""Migrations run from empty to head, back down, and agree with the models; going down and
up again keeps every row (``participation.migration_data``)."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text

from participation import create_app
from participation.db import Base, db
from participation.migrate import downgrade, upgrade
from participation.migration_data import KEPT

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Recomputed from the rows they summarise, so their ids are new (the counts are compared).
DERIVED = {"survey_answer_tally"}


def test_models_and_migrations_agree(app):
    """The suite's database was built by the migrations; autogenerate must find nothing to add."""
    assert db.engine is not None
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_migrations_run_up_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    downgrade(url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def _snapshot(url: str) -> dict[str, list[str]]:
    """Every row of every table, in a form that compares across a round trip."""
    engine = create_engine(url)
    found: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            if name in ("alembic_version", KEPT):
                continue
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).mappings().all()  # noqa: S608
            found[name] = sorted(
                repr(sorted((k, v) for k, v in r.items() if not (name in DERIVED and k == "id")))
                for r in rows
            )
    engine.dispose()
    return found


def _populate(url: str) -> None:
    """Demo data, bulk answers, and children through the pages: sent, amended, a gate
    closed, a second group, a card and a help request."""
    # A second app re-points the one ``db`` at its database: put the suite's back after.
    suite_engine = db.engine
    try:
        _populate_with_a_second_app(url)
    finally:
        assert db.engine is not None
        db.engine.dispose()
        db.engine = suite_engine
        db._factory.configure(bind=suite_engine)


def _populate_with_a_second_app(url: str) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "SESSION_COOKIE_SECURE": False,
            "SERVER_NAME": "localhost",
            "PUBLIC_BASE_URL": "http://localhost",
            "DEMO": True,
        }
    )
    from panel.demo import load_demo_data
    from panel.generate import generate
    from participation.councils.models import Group
    from surveys.models import SurveyRound

    with app.app_context():
        result = load_demo_data(db.session)
        generate(db.session, result.council, answers=300)
        db.session.commit()
        groups = {g.name: g for g in db.session.scalars(select(Group))}
        older = next(g for g in groups.values() if g.age_band.value == "11-17")
        other = next(g for g in groups.values() if g.id != older.id)
        codes = (older.current_join_code.code, other.current_join_code.code)
        survey_round = db.session.scalars(
            select(SurveyRound).where(SurveyRound.name.like("%11-17%"))
        ).first()
        assert survey_round is not None
        round_id = survey_round.id
        positions = {q.key: q.position for q in survey_round.question_set.questions}
    phone = app.test_client()

    def post(path: str, data: dict[str, Any], page: str = "/me") -> Any:
        token = _CSRF.search(phone.get(page).get_data(as_text=True))
        assert token, page
        return phone.post(path, data={**data, "csrf_token": token.group(1)})

    assert post("/join", {"code": codes[0]}, page="/join").status_code == 302
    base = f"/survey/{round_id}"
    post(f"{base}/start", {}, page=base)
    for key in ("feel_safe", "came_alone"):
        if key in positions:
            post(f"{base}/q/{positions[key]}", {"action": "next", "choice": "yes"})
    post(f"{base}/submit", {})
    if "came_alone" in positions:
        post(
            f"{base}/q/{positions['came_alone']}/change",
            {"action": "next", "choice": "no", "confirm": "yes"},
        )
    post("/join", {"code": codes[1]}, page="/join")
    from participation.councils.models import Participant
    from participation.safeguarding import help_requests

    with app.app_context():
        child = db.session.scalars(select(Participant).order_by(Participant.id.desc())).first()
        assert child is not None
        help_requests.request_help(
            db.session, child, submission_key="k" * 32, words="I would like to talk"
        )
        db.session.commit()


def test_a_populated_database_goes_down_to_base_and_up_again_unchanged(tmp_path):
    url = f"sqlite:///{tmp_path / 'populated.sqlite3'}"
    upgrade(url)
    _populate(url)
    before = _snapshot(url)
    assert before["survey_answer"] and before["participant_membership"]
    assert before["help_request"] and before["survey_answer_tally"]
    downgrade(url, "base")
    engine = create_engine(url)
    left = set(inspect(engine).get_table_names())
    engine.dispose()
    assert left <= {"alembic_version", KEPT}
    upgrade(url)
    after = _snapshot(url)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name


def test_every_single_step_down_and_up_keeps_the_data(tmp_path):
    """One revision down and back, for each revision: favourable, tallies and all."""
    from alembic.script import ScriptDirectory

    from participation.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    upgrade(url)
    _populate(url)
    before = _snapshot(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    for revision in script.walk_revisions():
        if revision.down_revision is None:
            continue
        downgrade(url, str(revision.down_revision))
        upgrade(url)
        after = _snapshot(url)
        for name in before:
            assert after[name] == before[name], (revision.revision, name)

"""Commands of the reporting layer: `flask --app wsgi panel ...` and `flask --app wsgi demo ...`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from participation.councils.models import Council
from participation.db import db, utcnow

panel_cli = AppGroup("panel", help="Published figures: releases and their audit.")
demo_cli = AppGroup("demo", help="Demonstration data.")


def _councils(slug: str | None) -> list[Council]:
    query = select(Council).order_by(Council.id)
    if slug:
        query = query.where(Council.slug == slug.lower())
    found = list(db.session.scalars(query))
    if slug and not found:
        raise click.ClickException(f"no council with slug {slug!r}")
    return found


@panel_cli.command("release")
@click.option("--council", "council_slug", default=None, help="one council (default: all)")
@click.option(
    "--force", is_flag=True, help="make a release even if no round is due (refreshes cards)"
)
def release_command(council_slug: str | None, force: bool) -> None:
    """Make a release of the published figures where one is due (a round closed, or enough
    new sent responses since the last count)."""
    from panel.jobs import release_settings
    from panel.release import make_release

    threshold, min_new = release_settings()
    for council in _councils(council_slug):
        made = make_release(
            db.session,
            council.id,
            utcnow(),
            threshold=threshold,
            min_new=min_new,
            reason="command",
            force=force,
        )
        db.session.commit()
        if made is None:
            click.echo(f"{council.slug}: no release due")
        else:
            click.echo(f"{council.slug}: release {made.id} made")


@panel_cli.command("audit")
@click.option("--council", "council_slug", default=None, help="one council (default: all)")
@click.option("--no-splits", is_flag=True, help="skip the per-question splits (faster)")
def audit_command(council_slug: str | None, no_splits: bool) -> None:
    """Collect every figure the pages, packs and API show for every filter combination of
    the latest release, and prove by exact linear algebra that no hidden count can be
    worked out. Exits 1 if one can."""
    from panel.audit import audit

    failed = False
    for council in _councils(council_slug):
        report = audit(db.session, council.id, splits=not no_splits)
        click.echo(f"{council.slug}: {report.format()}")
        failed |= not report.ok
    if failed:
        raise SystemExit(1)


@demo_cli.command("generate")
@click.option(
    "--answers", type=click.IntRange(min=1), required=True, help="how many answers to add"
)
@click.option("--council", "council_slug", default="demo", show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def generate_demo(answers: int, council_slug: str, seed: int) -> None:
    """Add a realistic data set of about N survey answers (for dashboards and benchmarks)."""
    from panel.generate import generate

    (council,) = _councils(council_slug)
    result = generate(db.session, council, answers, seed=seed)
    db.session.commit()
    click.echo(
        f"Added {result.answers} answers in {result.responses} responses "
        f"over {result.rounds} rounds."
    )


@demo_cli.command("load")
def load_demo() -> None:
    """Load a demonstration council, its groups and staff of every role."""
    from panel.demo import DEMO_PASSWORD, load_demo_data

    result = load_demo_data(db.session)
    db.session.commit()
    click.echo(result.describe(DEMO_PASSWORD))


def register_commands(app: Flask) -> None:
    app.cli.add_command(panel_cli)
    app.cli.add_command(demo_cli)

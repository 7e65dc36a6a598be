"""`flask --app wsgi surveys load`, `rounds open` and `retention purge`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from participation.councils.models import Council, Group
from participation.db import db
from surveys import question_sets, services

surveys_cli = AppGroup("surveys", help="Question sets.")
rounds_cli = AppGroup("rounds", help="Survey rounds.")
LONDON = ZoneInfo("Europe/London")


@surveys_cli.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None)
def load(directory: Path | None) -> None:
    """Load question set files; changed content becomes a new version."""
    try:
        loaded = question_sets.load_all(db.session, directory or question_sets.QUESTION_SETS_DIR)
    except question_sets.QuestionSetError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    for question_set, new in loaded:
        state = "new version" if new else "unchanged"
        click.echo(
            f"{question_set.key}: version {question_set.version} "
            f"({state}, {len(question_set.questions)} questions)"
        )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


@rounds_cli.command("open")
@click.option("--council", "council_slug", required=True)
@click.option(
    "--question-set", "set_key", required=True, help="e.g. ages-8-11 (its newest version)"
)
@click.option("--group", "group_names", multiple=True, required=True)
@click.option("--name", required=True)
@click.option("--opens", type=click.DateTime(["%Y-%m-%d"]), default=None, help="default: today")
@click.option(
    "--closes", type=click.DateTime(["%Y-%m-%d"]), required=True, help="last day, inclusive"
)
@click.option(
    "--override-age-band",
    is_flag=True,
    help="use the set for groups of another age band (recorded in the audit log)",
)
def open_round(
    council_slug: str,
    set_key: str,
    group_names: tuple[str, ...],
    name: str,
    opens: datetime | None,
    closes: datetime,
    override_age_band: bool,
) -> None:
    """Open the newest version of a question set for some groups, with dates."""
    council = db.session.scalar(select(Council).where(Council.slug == council_slug.lower()))
    if council is None:
        raise click.ClickException(f"no council with slug {council_slug!r}")
    chosen = next((s for s in question_sets.latest_versions(db.session) if s.key == set_key), None)
    if chosen is None:
        raise click.ClickException(f"no question set {set_key!r}: run `flask surveys load` first")
    groups = list(
        db.session.scalars(
            select(Group).where(Group.council_id == council.id, Group.name.in_(group_names))
        )
    )
    missing = set(group_names) - {g.name for g in groups}
    if missing:
        raise click.ClickException(f"no such group(s): {', '.join(sorted(missing))}")
    try:
        created = services.open_round(
            db.session,
            council,
            name=name,
            question_set=chosen,
            groups=groups,
            opens_at=_midnight((opens or datetime.now(LONDON)).date()),
            closes_at=_midnight(closes.date() + timedelta(days=1)),
            override_age_band=override_age_band,
        )
    except services.SurveyError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Round {created.id} '{created.name}' open for {', '.join(g.name for g in groups)}.")
    for group in groups:
        code = group.current_join_code
        if code:
            click.echo(f"  {group.name}: join code {code.display}, link /j/{code.code}")


retention_cli = AppGroup("retention", help="Survey data past its retention period.")


@retention_cli.command("purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    required=True,
    help="Purge rounds that closed more than this many days ago.",
)
@click.option(
    "--export-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the safeguarding export is written (default: instance/retention-exports).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be purged; change nothing.")
def purge(older_than_days: int, export_dir: Path | None, dry_run: bool) -> None:
    """Delete survey rounds that closed long ago, with their responses, answers and tags.

    Open safeguarding alerts raised from those answers are first written to a JSON file
    (owner-only) and stay in the lead's queue; if the file cannot be written, nothing is
    purged. Closed alerts are kept: they follow the council's safeguarding records policy.
    """
    from surveys import retention

    plan = retention.plan_purge(db.session, older_than_days)
    for line in plan.describe():
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was exported or deleted.")
        return
    if not plan.rounds:
        click.echo("Nothing to purge.")
        return
    directory = export_dir or Path(current_app.instance_path) / "retention-exports"
    try:
        export = retention.write_export(plan, directory)
    except retention.ExportError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was purged.") from error
    click.echo(f"Safeguarding export: {export} ({len(plan.open_alerts)} open alerts)")
    results = retention.purge(db.session, plan, export)
    db.session.commit()
    click.echo(
        f"Purged {len(results)} rounds: {sum(r.responses for r in results)} responses, "
        f"{sum(r.answers for r in results)} answers, {sum(r.tags for r in results)} tags. "
        f"{sum(r.alerts_kept for r in results)} safeguarding alerts kept."
    )

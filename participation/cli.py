"""Command-line tasks: `flask --app wsgi <group> <command>`."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from participation.accounts import services as accounts
from participation.accounts.models import Role
from participation.councils import services as councils
from participation.councils.models import AgeBand, Council, Group, GroupKind
from participation.db import db

db_cli = AppGroup("db", help="Database migrations.")
users_cli = AppGroup("users", help="Staff accounts.")
councils_cli = AppGroup("councils", help="Councils.")
groups_cli = AppGroup("groups", help="Children's groups and join codes.")
catalogue_cli = AppGroup("catalogue", help="The Ofsted recommendation catalogue.")
tagging_cli = AppGroup("tagging", help="Evidence tagging of free text against the catalogue.")
safeguarding_cli = AppGroup(
    "safeguarding", help="Safeguarding: triage of free text, reminders about overdue alerts."
)


def _council(slug: str) -> Council:
    council = db.session.scalar(select(Council).where(Council.slug == slug.lower()))
    if council is None:
        raise click.ClickException(f"no council with slug {slug!r}")
    return council


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema."""
    from participation.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo("Database is up to date.")


@councils_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True, help="Short name used on the command line")
def create_council(name: str, slug: str) -> None:
    """Create a council."""
    council = councils.create_council(db.session, name, slug)
    db.session.commit()
    click.echo(f"Council {council.name} created (slug {council.slug}).")


@groups_cli.command("create")
@click.option("--council", "council_slug", required=True)
@click.option("--name", required=True)
@click.option("--age-band", type=click.Choice([b.value for b in AgeBand]), required=True)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in GroupKind]),
    default=GroupKind.CHILDREN_IN_CARE.value,
)
def create_group(council_slug: str, name: str, age_band: str, kind: str) -> None:
    """Create a group and print its join code."""
    try:
        group = councils.create_group(
            db.session,
            _council(council_slug),
            name=name,
            age_band=AgeBand(age_band),
            kind=GroupKind(kind),
        )
    except councils.GroupError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    code = group.current_join_code
    assert code is not None
    click.echo(f"Group {group.name} created. Join code: {code.display}")


@groups_cli.command("rotate-code")
@click.option("--council", "council_slug", required=True)
@click.option("--name", required=True)
def rotate_code(council_slug: str, name: str) -> None:
    """Give a group a new join code (the old one stops working)."""
    council = _council(council_slug)
    group = db.session.scalar(
        select(Group).where(Group.council_id == council.id, Group.name == name)
    )
    if group is None:
        raise click.ClickException(f"no group {name!r} in {council.name}")
    new = councils.rotate_join_code(db.session, group, by=None)
    db.session.commit()
    click.echo(f"New join code for {group.name}: {new.display}")


@users_cli.command("create")
@click.option("--council", "council_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role])
)
def create_user(council_slug: str, email: str, name: str, roles: tuple[str, ...]) -> None:
    """Create a staff account; the password is read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(
            db.session,
            council_id=_council(council_slug).id,
            email=email,
            display_name=name,
            password=password,
            roles=[Role(r) for r in roles],
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    setup_link = None
    if current_app.config["REQUIRE_SECOND_FACTOR"] and user.needs_second_factor:
        # The code app is set up only from an emailed link, never at a first sign-in.
        from participation.accounts.lifecycle import issue_link
        from participation.accounts.models import LinkPurpose

        _link, setup_link = issue_link(db.session, user, LinkPurpose.SECOND_FACTOR_RESET, by=None)
    db.session.commit()
    click.echo(
        f"Account created for {user.email} ({', '.join(sorted(r.value for r in user.roles))})."
    )
    if setup_link:
        click.echo(
            "Set up the code app (emailed to them too; works once, for a day): " + setup_link
        )


@users_cli.command("set-up-link")
@click.option("--email", required=True)
def set_up_link(email: str) -> None:
    """Forget someone's code app and print (and email) a one-time link to set up a new one.

    For an account that has none yet (made before invitations), or a lost phone when no
    other administrator can use the staff page.
    """
    from participation.accounts.lifecycle import issue_link
    from participation.accounts.models import LinkPurpose

    user = accounts.find_user_by_email(db.session, email)
    if user is None or not user.active:
        raise click.ClickException(f"No active account uses {email}.")
    accounts.reset_second_factor(db.session, user, by=None)
    _link, address = issue_link(db.session, user, LinkPurpose.SECOND_FACTOR_RESET, by=None)
    db.session.commit()
    click.echo(f"Set up the code app for {user.email} (works once, for a day): {address}")


@users_cli.command("new-totp-key")
def new_totp_key() -> None:
    """Print a new key for PARTICIPATION_TOTP_ENCRYPTION_KEYS."""
    from participation.accounts.crypto import new_key

    click.echo(new_key())


@users_cli.command("rotate-totp-key")
def rotate_totp_key() -> None:
    """Re-encrypt every TOTP secret with the first key of PARTICIPATION_TOTP_ENCRYPTION_KEYS."""
    from cryptography.fernet import InvalidToken

    from participation.accounts.crypto import keyring_for, rotate
    from participation.accounts.models import StaffUser

    keyring = keyring_for(current_app.config)
    done = unreadable = 0
    for user in db.session.scalars(select(StaffUser).where(StaffUser.totp_secret.is_not(None))):
        try:
            user.totp_secret = rotate(user.totp_secret or "", keyring)
            done += 1
        except InvalidToken:
            unreadable += 1
            click.echo(f"{user.email}: no configured key opens its secret (left as it was)")
    db.session.commit()
    click.echo(f"{done} secret(s) now encrypted with the first key; {unreadable} unreadable.")
    if unreadable:
        raise SystemExit(1)


@catalogue_cli.command("load")
def load_catalogue() -> None:
    """Load or refresh the recommendation catalogue from its data file."""
    from participation.recommendations.catalogue import load_catalogue as load

    added, updated = load(db.session)
    db.session.commit()
    click.echo(f"Catalogue loaded: {added} added, {updated} updated.")


def _input_lines() -> Iterator[str]:
    """One text per line of standard input (a JSON string line is decoded)."""
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        if line.startswith('"'):
            with contextlib.suppress(ValueError):
                line = str(json.loads(line))
        yield line


@tagging_cli.command("suggest")
@click.option("--jsonl", is_flag=True, help="Print one JSON array per input line.")
def tagging_suggest(jsonl: bool) -> None:
    """Suggest recommendation codes for each line of standard input."""
    from participation.recommendations.services import default_tagger

    tagger = default_tagger()
    for text in _input_lines():
        suggestions = tagger.suggest(text)
        if jsonl:
            payload = [
                {"code": s.code, "score": round(s.score, 4), "evidence": list(s.evidence)}
                for s in suggestions
            ]
            click.echo(json.dumps(payload, ensure_ascii=False))
        else:
            shown = ", ".join(f"{s.code} ({s.score:.2f})" for s in suggestions) or "-"
            click.echo(shown)


@tagging_cli.command("evaluate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def tagging_evaluate(path: Path) -> None:
    """Precision and recall per code on a labelled JSONL file ({"text", "codes"} lines)."""
    from participation.recommendations.services import default_tagger
    from participation.recommendations.tagging import evaluate, read_labelled_jsonl

    report = evaluate(default_tagger(), read_labelled_jsonl(path))
    click.echo(report.format())


@safeguarding_cli.command("remind-overdue")
def safeguarding_remind_overdue() -> None:
    """Email again every overdue alert nobody has acknowledged (the outbox worker does this too)."""
    from participation.safeguarding.reminders import remind_overdue_alerts

    count = remind_overdue_alerts(db.session)
    db.session.commit()
    click.echo(f"{count} overdue safeguarding alert(s) reminded.")


@safeguarding_cli.command("evaluate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--show-missed", is_flag=True, help="Print the disclosures that were not raised.")
def safeguarding_evaluate(path: Path, show_missed: bool) -> None:
    """Disclosures raised and false alarms on a labelled JSONL file ({"text", "level", ...})."""
    from participation.safeguarding.triage import evaluate

    with path.open(encoding="utf-8") as fh:
        report = evaluate(json.loads(line) for line in fh if line.strip())
    click.echo(report.format())
    if show_missed:
        for text in report.missed:
            click.echo(f"missed: {text}")


@safeguarding_cli.command("triage")
@click.option("--jsonl", is_flag=True, help="Print one JSON object per input line.")
def safeguarding_triage(jsonl: bool) -> None:
    """Rate each line of standard input: none, concern or urgent, with reasons."""
    from participation.safeguarding.triage import triage

    for text in _input_lines():
        result = triage(text)
        if jsonl:
            click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        else:
            click.echo(f"{result.level.value}\t{', '.join(result.reasons) or '-'}")


def register_commands(app: Flask) -> None:
    for group in (
        db_cli,
        users_cli,
        councils_cli,
        groups_cli,
        catalogue_cli,
        tagging_cli,
        safeguarding_cli,
    ):
        app.cli.add_command(group)
    from participation.jobs import register as register_jobs
    from participation.outbox import register_outbox_commands

    register_outbox_commands(app)
    register_jobs(app)

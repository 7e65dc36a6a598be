"""Command-line tasks, run as an administrator would."""

from __future__ import annotations

from sqlalchemy import select

from participation.accounts.models import Role, StaffUser
from participation.councils.models import Group


def _run(app, args, input=None):
    return app.test_cli_runner().invoke(args=args, input=input)


def test_create_council_group_and_user(app, db_tx):
    assert (
        "created"
        in _run(app, ["councils", "create", "--name", "CLI Council", "--slug", "cli"]).output
    )
    result = _run(
        app, ["groups", "create", "--council", "cli", "--name", "Seniors", "--age-band", "11-17"]
    )
    assert result.exit_code == 0, result.output
    code = result.output.strip().rsplit(" ", 1)[-1]
    assert len(code) == 9 and code[4] == "-"
    result = _run(
        app,
        ["users", "create", "--council", "cli", "--email", "Lead@CLI.example", "--name", "Lead",
         "--role", "safeguarding_lead", "--role", "admin"],
        input="a password read from stdin\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db_tx.scalar(select(StaffUser).where(StaffUser.email == "lead@cli.example"))
    assert user.roles == {Role.SAFEGUARDING_LEAD, Role.ADMIN}
    assert "a password read from stdin" not in result.output
    # The code app is set up from a one-time link, never by whoever signs in first.
    assert "Set up the code app" in result.output
    assert "http://localhost/sign-in/new-code/" in result.output
    again = _run(app, ["users", "set-up-link", "--email", "lead@cli.example"])
    assert again.exit_code == 0 and "http://localhost/sign-in/new-code/" in again.output
    group = db_tx.scalar(select(Group).where(Group.name == "Seniors"))
    assert group.current_join_code.display == code
    rotated = _run(app, ["groups", "rotate-code", "--council", "cli", "--name", "Seniors"])
    assert code not in rotated.output and "New join code" in rotated.output


def test_a_short_password_is_refused(app, db_tx):
    _run(app, ["councils", "create", "--name", "CLI Council", "--slug", "cli"])
    result = _run(
        app,
        [
            "users",
            "create",
            "--council",
            "cli",
            "--email",
            "a@cli.example",
            "--name",
            "A",
            "--role",
            "admin",
        ],
        input="short\n",
    )
    assert result.exit_code != 0 and "at least 12 characters" in result.output


def test_demo_data_has_every_group_and_role_and_says_how_to_sign_in(app, db_tx):
    result = _run(app, ["demo", "load"])
    assert result.exit_code == 0, result.output
    for text in ("sign-in", "demo-password-2026", "worker@demo.example", "Care Leavers' Forum",
                 "Little Voices", "foster carers' own children", "/join"):  # fmt: skip
        assert text in result.output
    users = db_tx.scalars(select(StaffUser).where(StaffUser.email.like("%@demo.example"))).all()
    assert set().union(*(u.roles for u in users)) == set(Role)
    from participation.safeguarding.models import SafeguardingAlert

    assert len(db_tx.scalars(select(SafeguardingAlert)).all()) == 2
    again = _run(app, ["demo", "load"])
    assert "already present" in again.output

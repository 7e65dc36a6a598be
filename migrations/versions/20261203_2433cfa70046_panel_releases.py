"""panel releases: published figures recounted from sent responses, in steps

Revision ID: 2433cfa70046
Revises: 885bc0a16f27
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from participation.db import UTCDateTime

revision: str = "2433cfa70046"
down_revision: str | None = "885bc0a16f27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "panel_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("fixed", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"], ["council.id"], name=op.f("fk_panel_release_council_id_council")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_release")),
    )
    op.create_index(op.f("ix_panel_release_council_id"), "panel_release", ["council_id"])
    op.create_table(
        "panel_release_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=False),
        sa.Column("question_keys", sa.JSON(), nullable=False),
        sa.Column("counted_responses", sa.Integer(), nullable=False),
        sa.Column("counted_at", UTCDateTime(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["panel_release.id"],
            name=op.f("fk_panel_release_round_release_id_panel_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_release_round")),
        sa.UniqueConstraint(
            "release_id", "round_id", name=op.f("uq_panel_release_round_release_id_round_id")
        ),
    )
    op.create_index(
        op.f("ix_panel_release_round_release_id"), "panel_release_round", ["release_id"]
    )
    for table, columns in (
        (
            "panel_release_count",
            [
                sa.Column("question_key", sa.String(length=64), nullable=False),
                sa.Column("answered", sa.Integer(), nullable=False),
                sa.Column("favourable", sa.Integer(), nullable=False),
            ],
        ),
        (
            "panel_release_group",
            [
                sa.Column("sent", sa.Integer(), nullable=False),
                sa.Column("expected", sa.Integer(), nullable=True),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("release_id", sa.Integer(), nullable=False),
            sa.Column("round_id", sa.Integer(), nullable=False),
            sa.Column("group_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["release_id"],
                ["panel_release.id"],
                name=op.f(f"fk_{table}_release_id_panel_release"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
    op.create_index(
        "ix_panel_release_count_release_round", "panel_release_count", ["release_id", "round_id"]
    )
    op.create_index(
        "ix_panel_release_group_release", "panel_release_group", ["release_id", "round_id"]
    )
    op.create_table(
        "panel_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("filter_key", sa.String(length=80), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("favourable", sa.Integer(), nullable=False),
        sa.Column("base_shown", sa.Boolean(), nullable=False),
        sa.Column("share_shown", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["panel_release.id"],
            name=op.f("fk_panel_figure_release_id_panel_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_figure")),
    )
    op.create_index("ix_panel_figure_release_filters", "panel_figure", ["release_id", "filter_key"])


def downgrade() -> None:
    # Releases are a record derived from the answers, which stay: a later upgrade and
    # `flask --app wsgi panel release` make them again.
    op.drop_index("ix_panel_figure_release_filters", table_name="panel_figure")
    op.drop_table("panel_figure")
    op.drop_index("ix_panel_release_group_release", table_name="panel_release_group")
    op.drop_table("panel_release_group")
    op.drop_index("ix_panel_release_count_release_round", table_name="panel_release_count")
    op.drop_table("panel_release_count")
    op.drop_index(op.f("ix_panel_release_round_release_id"), table_name="panel_release_round")
    op.drop_table("panel_release_round")
    op.drop_index(op.f("ix_panel_release_council_id"), table_name="panel_release")
    op.drop_table("panel_release")

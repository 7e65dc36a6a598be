"""a group's worker (who the safeguarding lead can ask about a child in the group)

Revision ID: 3b9e6c2d7a41
Revises: f21447ed0ec9
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from participation.migration_data import keep_columns, restore_columns


revision: str = "3b9e6c2d7a41"
down_revision: str | None = "f21447ed0ec9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participation_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_participation_group_worker_id_staff_user"),
            "staff_user",
            ["worker_id"],
            ["id"],
        )
    restore_columns('participation_group', ['worker_id'])


def downgrade() -> None:
    # Kept through the downgrade and put back by upgrade() (participation.migration_data).
    keep_columns('participation_group', ['worker_id'])
    with op.batch_alter_table("participation_group", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_participation_group_worker_id_staff_user"), type_="foreignkey"
        )
        batch_op.drop_column("worker_id")

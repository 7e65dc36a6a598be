"""Keeping data through a downgrade and back up (used by the migrations in ``migrations/``).

A downgrade that drops a table or a column first copies what it drops into one table,
``migration_kept_rows``, as JSON; the upgrade that creates the table or column again puts
the rows and values back, and drops the copy once it is empty. So ``alembic downgrade``
to any revision, and ``upgrade head`` again, gives back the same data. Values derived from
others (the answer tallies, ``survey_answer.favourable``) are recomputed instead.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

KEPT = "migration_kept_rows"


def _kept_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        KEPT,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(255), nullable=False),  # "row[:label]" or "columns:..."
        sa.Column("data", sa.Text, nullable=False),
    )


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
        if tag == "$decimal":
            return Decimal(raw)
        if tag == "$bytes":
            return bytes.fromhex(raw)
    return value


def _reflect(bind: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=bind)


def _store(bind: sa.Connection, name: str, kind: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    kept = _kept_table(sa.MetaData())
    kept.create(bind, checkfirst=True)
    bind.execute(
        kept.insert(),
        [
            {
                "table_name": name,
                "kind": kind,
                "data": json.dumps({k: _encode(v) for k, v in row.items()}),
            }
            for row in rows
        ],
    )


def keep_rows(
    tables: list[str], where: dict[str, str] | None = None, label: str | None = None
) -> None:
    """Before a downgrade drops (or deletes from) these tables: copy their rows.

    ``where`` limits a table to some rows (an SQL condition per table name); ``label``
    keeps them apart from the table's other kept rows, for ``restore_rows(label=...)``.
    """
    bind = op.get_bind()
    for name in tables:
        table = _reflect(bind, name)
        query = sa.select(table)
        if where and name in where:
            query = query.where(sa.text(where[name]))
        order = [c for c in table.primary_key.columns]
        rows = [dict(r) for r in bind.execute(query.order_by(*order)).mappings()]
        _store(bind, name, _rows_kind(label), rows)


def _rows_kind(label: str | None) -> str:
    return f"row:{label}" if label else "row"


def keep_columns(table_name: str, columns: list[str]) -> None:
    """Before a downgrade drops these columns: copy their values, by primary key."""
    bind = op.get_bind()
    table = _reflect(bind, table_name)
    keys = [c.name for c in table.primary_key.columns]
    query = sa.select(*[table.c[k] for k in keys], *[table.c[c] for c in columns])
    rows = [dict(r) for r in bind.execute(query).mappings()]
    _store(bind, table_name, _columns_kind(columns), rows)


def _columns_kind(columns: list[str]) -> str:
    return "columns:" + ",".join(sorted(columns))


def _take(bind: sa.Connection, name: str, kind: str) -> list[dict[str, Any]]:
    if not sa.inspect(bind).has_table(KEPT):
        return []
    kept = _kept_table(sa.MetaData())
    found = bind.execute(
        sa.select(kept.c.id, kept.c.kind, kept.c.data)
        .where(kept.c.table_name == name, kept.c.kind == kind)
        .order_by(kept.c.id)
    ).all()
    if found:
        bind.execute(kept.delete().where(kept.c.id.in_([f.id for f in found])))
    return [{k: _decode(v) for k, v in json.loads(data).items()} for _id, _kind, data in found]


def _drop_if_empty(bind: sa.Connection) -> None:
    if not sa.inspect(bind).has_table(KEPT):
        return
    kept = _kept_table(sa.MetaData())
    if bind.execute(sa.select(sa.func.count()).select_from(kept)).scalar() == 0:
        kept.drop(bind)


def restore_rows(tables: list[str], label: str | None = None) -> bool:
    """After an upgrade (re)creates these tables: put back the rows a downgrade kept.

    Returns whether any row came back (so a migration can fill a new table otherwise).
    """
    bind = op.get_bind()
    restored = False
    for name in tables:
        rows = _take(bind, name, _rows_kind(label))
        if not rows:
            continue
        table = _reflect(bind, name)
        present = set(table.c.keys())
        bind.execute(table.insert(), [{k: v for k, v in r.items() if k in present} for r in rows])
        _reset_sequence(bind, table)
        restored = True
    _drop_if_empty(bind)
    return restored


def restore_columns(table_name: str, columns: list[str]) -> None:
    """After an upgrade adds columns back: put back the values a downgrade kept."""
    bind = op.get_bind()
    taken = _take(bind, table_name, _columns_kind(columns))
    if taken:
        table = _reflect(bind, table_name)
        keys = [c.name for c in table.primary_key.columns]
        for row in taken:
            values = {k: v for k, v in row.items() if k not in keys}
            condition = sa.and_(*[table.c[k] == row[k] for k in keys])
            bind.execute(table.update().where(condition).values(**values))
    _drop_if_empty(bind)


def _reset_sequence(bind: sa.Connection, table: sa.Table) -> None:
    """PostgreSQL: the id sequence goes past the ids put back."""
    if bind.dialect.name != "postgresql" or "id" not in table.c:
        return
    highest = bind.execute(sa.select(sa.func.max(table.c.id))).scalar() or 1
    bind.execute(
        sa.text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :highest)"),
        {"table": table.name, "highest": highest},
    )

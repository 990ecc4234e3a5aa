"""What the revisions share: creating only what a store made before Alembic lacks, and
rebuilding a table with a sequence column."""

from __future__ import annotations

from typing import Any

from alembic import op
from sqlalchemy import Column, Integer, inspect
from sqlalchemy.schema import SchemaItem


def missing(table: str) -> bool:
    """True when `table` is not there yet: the first revisions adopt a store the release before
    Alembic made (its tables as that release wrote them) and create only what it lacks."""
    return not inspect(op.get_bind()).has_table(table)


def add_sequence(
    table: str,
    columns: list[Column[Any]],
    *items: SchemaItem,
    written_at: str,
    indexes: dict[str, list[str]] | None = None,
) -> None:
    """Rebuild `table` with an `id` primary key that orders its rows as they were written (by
    the old rowid on SQLite, else by the `written_at` column), with `items` and `indexes`."""
    rebuilt = f"{table}_rebuilt"
    op.create_table(
        rebuilt,
        Column("id", Integer, primary_key=True, autoincrement=True),
        *columns,
        *items,
        sqlite_autoincrement=True,
    )
    names = ", ".join(column.name for column in columns)
    order = "rowid" if op.get_bind().dialect.name == "sqlite" else written_at
    op.execute(f"INSERT INTO {rebuilt} ({names}) SELECT {names} FROM {table} ORDER BY {order}")
    op.drop_table(table)
    op.rename_table(rebuilt, table)
    for name, indexed in (indexes or {}).items():
        op.create_index(name, table, indexed)

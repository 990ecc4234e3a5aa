"""inbox: notes get an `id` that orders them as they were written (SQLite's rowid did that
before; PostgreSQL has none).

Revision ID: i0002
Revises: i0001
"""

from __future__ import annotations

import sqlalchemy as sa

from tools.store.migrations.adopt import add_sequence

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_sequence(
        "notes",
        [
            sa.Column("incident_id", sa.Text),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("at", sa.Double, nullable=False),
        ],
        written_at="at",
        indexes={"notes_by_incident": ["incident_id"]},
    )

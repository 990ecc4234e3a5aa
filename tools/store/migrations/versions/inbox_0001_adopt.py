"""inbox: the tables of the release before Alembic, created where missing.

Revision ID: i0001
Branch: inbox
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tools.store.migrations.adopt import missing

revision = "i0001"
down_revision = None
branch_labels = ("inbox",)
depends_on = None


def upgrade() -> None:
    if missing("deliveries"):
        op.create_table(
            "deliveries",
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("delivery_id", sa.Text, nullable=False),
            sa.Column("incident_id", sa.Text),
            sa.Column("received_at", sa.Double, nullable=False),
            sa.PrimaryKeyConstraint("source", "delivery_id"),
        )
    if missing("incidents"):
        op.create_table(
            "incidents",
            sa.Column("incident_id", sa.Text, primary_key=True),
            sa.Column("fingerprint", sa.Text, nullable=False),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("project", sa.Text),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("count", sa.Integer, nullable=False),
            sa.Column("is_open", sa.Integer, nullable=False, server_default="1"),
            sa.Column("outcome", sa.Text),
            sa.Column("first_seen", sa.Double, nullable=False),
            sa.Column("last_seen", sa.Double, nullable=False),
        )
        op.create_index(
            "open_by_fingerprint",
            "incidents",
            ["fingerprint"],
            unique=True,
            sqlite_where=sa.text("is_open != 0"),
            postgresql_where=sa.text("is_open != 0"),
        )
    if missing("notes"):
        op.create_table(
            "notes",
            sa.Column("incident_id", sa.Text),
            sa.Column("source", sa.Text, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("at", sa.Double, nullable=False),
        )
        op.create_index("notes_by_incident", "notes", ["incident_id"])
    if missing("jobs"):
        op.create_table(
            "jobs",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("incident_id", sa.Text, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("state", sa.Text, nullable=False, server_default="queued"),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("outcome", sa.Text),
            sa.Column("not_before", sa.Double, nullable=False, server_default="0"),
            sa.Column("created_at", sa.Double, nullable=False),
            sa.Column("updated_at", sa.Double, nullable=False),
            sqlite_autoincrement=True,
        )
        op.create_index("jobs_by_state", "jobs", ["state", "id"])

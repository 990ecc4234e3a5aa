"""records: comments, reviews and events get an `id` that orders them as they were written.

SQLite's rowid did that before; PostgreSQL has none.

Revision ID: r0002
Revises: r0001
"""

from __future__ import annotations

import sqlalchemy as sa

from tools.store.migrations.adopt import add_sequence

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_sequence(
        "ticket_comments",
        [
            sa.Column("ticket_n", sa.Integer, nullable=False),
            sa.Column("comment_key", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
        ],
        sa.UniqueConstraint("ticket_n", "comment_key", name="ticket_comments_once"),
        written_at="created_at",
    )
    add_sequence(
        "pr_reviews",
        [
            sa.Column("pr_id", sa.Integer, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("comment", sa.Text, nullable=False),
            sa.Column("at", sa.Text, nullable=False),
        ],
        written_at="at",
    )
    add_sequence(
        "events",
        [
            sa.Column("event_id", sa.Text, nullable=False, unique=True),
            sa.Column("incident_id", sa.Text, nullable=False),
            sa.Column("fingerprint", sa.Text, nullable=False),
            sa.Column("project", sa.Text),
            sa.Column("received_at", sa.Double, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("release", sa.Text),
        ],
        written_at="received_at",
        indexes={
            "events_by_fingerprint": ["fingerprint", "received_at"],
            "events_by_project": ["project", "received_at"],
            "events_by_release": ["project", "release", "received_at"],
        },
    )

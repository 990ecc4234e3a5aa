"""records: the tables of the release before Alembic, created where missing.

Revision ID: r0001
Branch: records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tools.store.migrations.adopt import missing

revision = "r0001"
down_revision = None
branch_labels = ("records",)
depends_on = None


def upgrade() -> None:
    if missing("tickets"):
        op.create_table(
            "tickets",
            sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("fingerprint", sa.Text, nullable=False),
            sa.Column("incident_id", sa.Text, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("resolution", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.Column("updated_at", sa.Text, nullable=False),
            sqlite_autoincrement=True,
        )
        op.create_index("tickets_fp", "tickets", ["fingerprint"])
    if missing("ticket_comments"):
        op.create_table(
            "ticket_comments",
            sa.Column("ticket_n", sa.Integer, nullable=False),
            sa.Column("comment_key", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("ticket_n", "comment_key"),
        )
    if missing("pull_requests"):
        op.create_table(
            "pull_requests",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("repo", sa.Text, nullable=False),
            sa.Column("branch", sa.Text, nullable=False),
            sa.Column("base", sa.Text, nullable=False),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("diff", sa.Text, nullable=False),
            sa.Column("status", sa.Text, nullable=False),
            sa.Column("head_sha", sa.Text, nullable=False),
            sa.Column("merge_sha", sa.Text),
            sa.Column("merged_at", sa.Text),
            sa.Column("created_at", sa.Text, nullable=False),
            sa.UniqueConstraint("repo", "branch"),
            sqlite_autoincrement=True,
        )
    if missing("pr_reviews"):
        op.create_table(
            "pr_reviews",
            sa.Column("pr_id", sa.Integer, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("comment", sa.Text, nullable=False),
            sa.Column("at", sa.Text, nullable=False),
        )
    _events()
    if missing("resolutions"):
        op.create_table(
            "resolutions",
            sa.Column("fingerprint", sa.Text, primary_key=True),
            sa.Column("resolved_at", sa.Double, nullable=False),
        )
    if missing("sentry_issues"):
        op.create_table(
            "sentry_issues",
            sa.Column("fingerprint", sa.Text, primary_key=True),
            sa.Column("issue_id", sa.Text, nullable=False),
        )


def _events() -> None:
    if not missing("events"):
        columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("events")}
        if "release" not in columns:  # an error store older than releases in events
            op.add_column("events", sa.Column("release", sa.Text))
            op.create_index("events_by_release", "events", ["project", "release", "received_at"])
        return
    op.create_table(
        "events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("project", sa.Text),
        sa.Column("received_at", sa.Double, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("release", sa.Text),
    )
    op.create_index("events_by_fingerprint", "events", ["fingerprint", "received_at"])
    op.create_index("events_by_project", "events", ["project", "received_at"])
    op.create_index("events_by_release", "events", ["project", "release", "received_at"])

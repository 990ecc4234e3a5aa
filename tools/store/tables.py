"""The tables of fixloop's records, as the newest migration leaves them.

Two groups, each its own Alembic branch: `records` (tickets, PR records, the error store, the
Sentry issues of fingerprints, the Slack messages posted) and `inbox` (deliveries, incidents,
notes, jobs). On SQLite each group has its own file in the state directory; on PostgreSQL both
live in one database.
The migrations in `migrations/versions/` build these tables; this module is what the adapters
write their statements against.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tickets = Table(
    "tickets",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", Text, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("resolution", Text),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("tickets_fp", "fingerprint"),
    sqlite_autoincrement=True,
)

ticket_comments = Table(
    "ticket_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_n", Integer, nullable=False),
    Column("comment_key", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("ticket_n", "comment_key", name="ticket_comments_once"),
    sqlite_autoincrement=True,
)

pull_requests = Table(
    "pull_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", Text, nullable=False),
    Column("branch", Text, nullable=False),
    Column("base", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("diff", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("head_sha", Text, nullable=False),
    Column("merge_sha", Text),
    Column("merged_at", Text),
    Column("created_at", Text, nullable=False),
    UniqueConstraint("repo", "branch"),
    sqlite_autoincrement=True,
)

pr_reviews = Table(
    "pr_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pr_id", Integer, nullable=False),
    Column("action", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", Text, nullable=False),
    sqlite_autoincrement=True,
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("incident_id", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("project", Text),
    Column("received_at", Double, nullable=False),
    Column("payload", Text, nullable=False),
    Column("release", Text),
    Index("events_by_fingerprint", "fingerprint", "received_at"),
    Index("events_by_project", "project", "received_at"),
    Index("events_by_release", "project", "release", "received_at"),
    sqlite_autoincrement=True,
)

resolutions = Table(
    "resolutions",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column("resolved_at", Double, nullable=False),
)

sentry_issues = Table(
    "sentry_issues",
    metadata,
    Column("fingerprint", Text, primary_key=True),
    Column("issue_id", Text, nullable=False),
)

slack_messages = Table(
    "slack_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Text, nullable=False),
    Column("message_key", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("ts", Text, nullable=False),
    Column("thread_ts", Text, nullable=False),
    Column("posted_at", Double, nullable=False),
    UniqueConstraint("incident_id", "message_key", name="slack_messages_once"),
    sqlite_autoincrement=True,
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("source", Text, nullable=False),
    Column("delivery_id", Text, nullable=False),
    Column("incident_id", Text),
    Column("received_at", Double, nullable=False),
    PrimaryKeyConstraint("source", "delivery_id"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("project", Text),
    Column("title", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("is_open", Integer, nullable=False, server_default="1"),
    Column("outcome", Text),
    Column("first_seen", Double, nullable=False),
    Column("last_seen", Double, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Text),
    Column("source", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("at", Double, nullable=False),
    Index("notes_by_incident", "incident_id"),
    sqlite_autoincrement=True,
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("outcome", Text),
    Column("not_before", Double, nullable=False, server_default="0"),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Index("jobs_by_state", "state", "id"),
    sqlite_autoincrement=True,
)


Index(
    "open_by_fingerprint",
    incidents.c.fingerprint,
    unique=True,
    sqlite_where=incidents.c.is_open != 0,
    postgresql_where=incidents.c.is_open != 0,
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", Double, nullable=False),
)
"""Who carries what until when (`incident:<id>`, `repo:<table>:<slot>`): a worker renews its
lease while it works, and one whose holder died expires on its own."""

pauses = Table(
    "pauses",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("since", Double, nullable=False),
    Column("paused_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
)

control_log = Table(
    "control_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False, unique=True),
    Column("at", Double, nullable=False),
    Column("kind", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("incident_id", Text),
    Column("detail", Text, nullable=False),
    Index("control_log_by_incident", "incident_id", "id"),
    sqlite_autoincrement=True,
)

model_spend = Table(
    "model_spend",
    metadata,
    Column("key", Text, primary_key=True),
    Column("scope", Text, nullable=False),
    Column("incident_id", Text, nullable=False),
    Column("cost_usd", Double, nullable=False),
    Column("at", Double, nullable=False),
    Index("model_spend_by_time", "at"),
)

"""records: the operator controls (the kill switch, the decisions log, the day's model spend).

Revision ID: r0003
Revises: r0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0003_slack"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pauses",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("since", sa.Double, nullable=False),
        sa.Column("paused_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "control_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text),
        sa.Column("detail", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("control_log_by_incident", "control_log", ["incident_id", "id"])
    op.create_table(
        "model_spend",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("incident_id", sa.Text, nullable=False),
        sa.Column("cost_usd", sa.Double, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
    )
    op.create_index("model_spend_by_time", "model_spend", ["at"])

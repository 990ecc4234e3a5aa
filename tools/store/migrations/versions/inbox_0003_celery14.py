"""inbox: leases, so that one worker at a time carries an incident (and a repository's runs
stay within its limit) across processes and hosts.

Revision ID: i0003
Revises: i0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "i0003"
down_revision = "i0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
    )

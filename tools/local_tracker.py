"""Tickets in SQLite: the embedded stand-in for Jira or GitHub Issues.

Idempotent by design: one open ticket per fingerprint, one comment per comment key.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.domain import Incident, Ticket, utcnow
from agent.errors import NotFound
from tools.sqlite_db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_fp ON tickets (fingerprint);
CREATE TABLE IF NOT EXISTS ticket_comments (
    ticket_n INTEGER NOT NULL,
    comment_key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (ticket_n, comment_key)
);
"""

OPEN_STATUSES = ("open", "in_review", "reopened")


class LocalTracker:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def find_open(self, fingerprint: str) -> Ticket | None:
        with connect(self.db_path, SCHEMA) as db:
            row = db.execute(
                "SELECT * FROM tickets WHERE fingerprint = ? AND status IN (?, ?, ?) "
                "ORDER BY n LIMIT 1",
                (fingerprint, *OPEN_STATUSES),
            ).fetchone()
        return _ticket(row) if row else None

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        with connect(self.db_path, SCHEMA) as db:
            row = db.execute(
                "SELECT * FROM tickets WHERE incident_id = ? OR "
                "(fingerprint = ? AND status IN (?, ?, ?)) ORDER BY n LIMIT 1",
                (incident.id, incident.fingerprint, *OPEN_STATUSES),
            ).fetchone()
            if row is None:
                now = utcnow().isoformat()
                cursor = db.execute(
                    "INSERT INTO tickets (fingerprint, incident_id, title, body, status, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?)",
                    (incident.fingerprint, incident.id, title, body, now, now),
                )
                row = db.execute(
                    "SELECT * FROM tickets WHERE n = ?", (cursor.lastrowid,)
                ).fetchone()
        return _ticket(row)

    def get(self, key: str) -> Ticket:
        with connect(self.db_path, SCHEMA) as db:
            row = db.execute("SELECT * FROM tickets WHERE n = ?", (_number(key),)).fetchone()
        if row is None:
            raise NotFound(f"no ticket {key}")
        return _ticket(row)

    def all(self) -> list[Ticket]:
        with connect(self.db_path, SCHEMA) as db:
            rows = db.execute("SELECT * FROM tickets ORDER BY n").fetchall()
        return [_ticket(row) for row in rows]

    def comment(self, key: str, comment_key: str, body: str) -> None:
        ticket = self.get(key)
        with connect(self.db_path, SCHEMA) as db:
            db.execute(
                "INSERT OR IGNORE INTO ticket_comments VALUES (?, ?, ?, ?)",
                (_number(ticket.key), comment_key, body, utcnow().isoformat()),
            )

    def comments(self, key: str) -> list[str]:
        with connect(self.db_path, SCHEMA) as db:
            rows = db.execute(
                "SELECT body FROM ticket_comments WHERE ticket_n = ? ORDER BY rowid",
                (_number(key),),
            ).fetchall()
        return [row["body"] for row in rows]

    def transition(self, key: str, status: str) -> Ticket:
        return self._update(key, status=status)

    def close(self, key: str, resolution: str) -> Ticket:
        return self._update(key, status="closed", resolution=resolution)

    def _update(self, key: str, **fields: str) -> Ticket:
        self.get(key)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with connect(self.db_path, SCHEMA) as db:
            db.execute(
                f"UPDATE tickets SET {assignments}, updated_at = ? WHERE n = ?",
                (*fields.values(), utcnow().isoformat(), _number(key)),
            )
        return self.get(key)


def _number(key: str) -> int:
    prefix, _, digits = key.partition("-")
    if prefix != "FIX" or not digits.isdigit():
        raise NotFound(f"no ticket {key!r}: local tickets are named FIX-<number>")
    return int(digits)


def _ticket(row: sqlite3.Row) -> Ticket:
    r = dict(row)
    return Ticket(
        key=f"FIX-{r['n']}",
        fingerprint=r["fingerprint"],
        incident_id=r["incident_id"],
        title=r["title"],
        body=r["body"],
        status=r["status"],
        resolution=r["resolution"],
    )

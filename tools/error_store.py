"""The embedded error source: events and resolutions in one SQLite file.

Written from the intake server's threads and read from the main thread: one long-lived
connection behind a lock (WAL mode, busy timeout, `synchronous=NORMAL`: a stored event survives
the process dying, not the machine losing power). A connection per call would cost a WAL
checkpoint and an fsync at every close, about 30 ms a write. An event is keyed by its event
id; an incident without one (a test failure) is keyed by its incident id, which comes from its
fingerprint. The release each event names is kept beside it, so verify can tell when a release
was first seen.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.domain import Incident, Release

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id    TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    project     TEXT,
    received_at REAL NOT NULL,
    payload     TEXT NOT NULL,
    release     TEXT
);
CREATE INDEX IF NOT EXISTS events_by_fingerprint ON events (fingerprint, received_at);
CREATE INDEX IF NOT EXISTS events_by_project ON events (project, received_at);
CREATE INDEX IF NOT EXISTS events_by_release ON events (project, release, received_at);
CREATE TABLE IF NOT EXISTS resolutions (
    fingerprint TEXT PRIMARY KEY,
    resolved_at REAL NOT NULL
);
"""


class LocalErrorStore:
    """`agent.ports.ErrorSource` over SQLite, safe to share between threads."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db_path, timeout=30.0, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        _add_release_column(self._conn)
        self._conn.executescript(_SCHEMA)

    def record(self, incident: Incident, payload: dict[str, Any]) -> bool:
        """Store an incident's event; False when that event was already stored."""
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO events"
                " (event_id, incident_id, fingerprint, project, received_at, payload, release)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    incident.event_id or incident.id,
                    incident.id,
                    incident.fingerprint,
                    incident.project,
                    _epoch(incident.received_at),
                    json.dumps(payload, ensure_ascii=False),
                    incident.release,
                ),
            )
            return cursor.rowcount == 1

    def events_since(self, fingerprint: str, since: datetime) -> int:
        """How many events with this fingerprint arrived after `since`."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM events WHERE fingerprint = ? AND received_at > ?",
                (fingerprint, _epoch(since)),
            ).fetchone()
        return int(row[0])

    def events_between(self, fingerprint: str, start: datetime, end: datetime) -> int:
        """How many events with this fingerprint arrived in [start, end)."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM events WHERE fingerprint = ?"
                " AND received_at >= ? AND received_at < ?",
                (fingerprint, _epoch(start), _epoch(end)),
            ).fetchone()
        return int(row[0])

    def releases(self, project: str | None) -> list[Release]:
        """The releases the events of `project` (any fingerprint) named, first seen first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT release, MIN(received_at) AS first FROM events"
                " WHERE project IS ? AND release IS NOT NULL GROUP BY release ORDER BY first",
                (project,),
            ).fetchall()
        return [
            Release(version=version, first_seen=datetime.fromtimestamp(first, UTC))
            for version, first in rows
        ]

    def count(self, fingerprint: str) -> int:
        """How many events with this fingerprint are stored."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM events WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
        return int(row[0])

    def resolve(self, fingerprint: str) -> None:
        """Mark the issue with this fingerprint resolved now (again, if it already was)."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO resolutions (fingerprint, resolved_at) VALUES (?, ?)"
                " ON CONFLICT (fingerprint) DO UPDATE SET resolved_at = excluded.resolved_at",
                (fingerprint, _epoch(datetime.now(UTC))),
            )

    def resolved_at(self, fingerprint: str) -> datetime | None:
        """When the issue with this fingerprint was last resolved, or None."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT resolved_at FROM resolutions WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
        return None if row is None else datetime.fromtimestamp(row[0], UTC)

    def latest(self, project: str | None = None) -> dict[str, Any] | None:
        """The newest stored payload, of one project when given."""
        query = "SELECT payload FROM events"
        params: tuple[str, ...] = ()
        if project is not None:
            query += " WHERE project = ?"
            params = (project,)
        query += " ORDER BY received_at DESC, rowid DESC LIMIT 1"
        with self._connect() as conn:
            row = conn.execute(query, params).fetchone()
        return None if row is None else _payload(row[0])

    def get(self, event_id: str) -> dict[str, Any] | None:
        """The stored payload of one event, or None."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT payload FROM events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return None if row is None else _payload(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The connection, held alone and committed on success (rolled back on error)."""
        with self._lock, self._conn:
            yield self._conn


def _add_release_column(conn: sqlite3.Connection) -> None:
    """Stores made before events kept their release get the column (empty for old events)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    if columns and "release" not in columns:
        conn.execute("ALTER TABLE events ADD COLUMN release TEXT")


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _payload(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"stored payload is {type(value).__name__}, not a JSON object")
    return value

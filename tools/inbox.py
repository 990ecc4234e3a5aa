"""The server's durable inbox and work queue in one SQLite file (`agent.ports.Inbox`).

One long-lived connection behind a lock, WAL with `synchronous=NORMAL`: a delivery is on disk
(in the log) before the server answers, and survives a killed process. Every admission is one
transaction, so a delivery is either fully recorded (delivery id, incident count, job) or not.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from agent.domain import Admission, Incident, Job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    source      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    incident_id TEXT,
    received_at REAL NOT NULL,
    PRIMARY KEY (source, delivery_id)
);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    source      TEXT NOT NULL,
    project     TEXT,
    title       TEXT NOT NULL,
    count       INTEGER NOT NULL,
    is_open     INTEGER NOT NULL DEFAULT 1,
    outcome     TEXT,
    first_seen  REAL NOT NULL,
    last_seen   REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS open_by_fingerprint ON incidents (fingerprint) WHERE is_open;
CREATE TABLE IF NOT EXISTS notes (
    incident_id TEXT,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    at          REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_incident ON notes (incident_id);
CREATE TABLE IF NOT EXISTS jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,
    not_before  REAL NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, id);
"""


class SqliteInbox:
    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db_path = db_path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            db_path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def admit_event(
        self, source: str, delivery_id: str, incident: Incident, payload: dict[str, Any], job: str
    ) -> Admission:
        now = time.time()
        with self._transaction() as db:
            if not _new_delivery(db, source, delivery_id, incident.id, now):
                open_row = db.execute(
                    "SELECT incident_id FROM incidents WHERE fingerprint = ? AND is_open",
                    (incident.fingerprint,),
                ).fetchone()
                return Admission(
                    outcome="duplicate_delivery", incident_id=open_row[0] if open_row else None
                )
            row = db.execute(
                "UPDATE incidents SET count = count + 1, last_seen = ? "
                "WHERE fingerprint = ? AND is_open RETURNING incident_id, count",
                (now, incident.fingerprint),
            ).fetchone()
            if row is not None:
                return Admission(outcome="repeat", incident_id=row[0], count=row[1])
            db.execute(
                "INSERT INTO incidents (incident_id, fingerprint, source, project, title, count, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (incident_id) DO UPDATE SET is_open = 1, count = count + 1, "
                "last_seen = excluded.last_seen",
                (
                    incident.id,
                    incident.fingerprint,
                    incident.source,
                    incident.project,
                    incident.title,
                    now,
                    now,
                ),
            )
            _enqueue(db, job, incident.id, payload, now)
            return Admission(outcome="new", incident_id=incident.id, count=1)

    def admit_note(
        self,
        source: str,
        delivery_id: str,
        incident_id: str | None,
        kind: str,
        detail: dict[str, Any],
        job: str | None = None,
        delay: float = 0.0,
    ) -> Admission:
        now = time.time()
        with self._transaction() as db:
            if not _new_delivery(db, source, delivery_id, incident_id, now):
                return Admission(outcome="duplicate_delivery", incident_id=incident_id)
            db.execute(
                "INSERT INTO notes (incident_id, source, kind, detail, at) VALUES (?, ?, ?, ?, ?)",
                (incident_id, source, kind, json.dumps(detail), now),
            )
            if job is not None and incident_id is not None:
                _enqueue(db, job, incident_id, detail, now, not_before=now + delay)
            return Admission(outcome="recorded", incident_id=incident_id)

    def claim(self, kind: str | None = None) -> Job | None:
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? "
                "WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND not_before <= ? "
                "AND (? IS NULL OR kind = ?) ORDER BY id LIMIT 1) "
                "RETURNING id, kind, incident_id, payload, attempts",
                (now, now, kind, kind),
            ).fetchone()
        if row is None:
            return None
        return Job(
            id=row["id"],
            kind=row["kind"],
            incident_id=row["incident_id"],
            payload=json.loads(row["payload"]),
            attempts=row["attempts"],
        )

    def finish(self, job_id: int, outcome: str, *, close_incident: bool = False) -> None:
        self._settle(job_id, "done", outcome, close_incident)

    def fail(self, job_id: int, error: str) -> None:
        self._settle(job_id, "failed", error, False)

    def requeue_running(self) -> int:
        with self._transaction() as db:
            cursor = db.execute("UPDATE jobs SET state = 'queued' WHERE state = 'running'")
            return cursor.rowcount

    def incidents(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM incidents ORDER BY first_seen DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_incident(row) for row in rows]

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """The incident with its notes and jobs; only those for an incident fixloop did not
        receive itself (a run started from the CLI that a webhook is about)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM incidents WHERE incident_id = ?", (incident_id,)
            ).fetchone()
            notes = self._db.execute(
                "SELECT source, kind, detail, at FROM notes WHERE incident_id = ? ORDER BY rowid",
                (incident_id,),
            ).fetchall()
            jobs = self._db.execute(
                "SELECT id, kind, state, attempts, outcome FROM jobs WHERE incident_id = ? "
                "ORDER BY id",
                (incident_id,),
            ).fetchall()
        if row is None and not notes and not jobs:
            return None
        known = _incident(row) if row is not None else {"id": incident_id}
        return known | {
            "notes": [dict(n) | {"detail": json.loads(n["detail"])} for n in notes],
            "jobs": [dict(job) for job in jobs],
        }

    def open_incident_of_project(self, project: str) -> str | None:
        """The most recently seen open incident reported by `project`."""
        with self._lock:
            row = self._db.execute(
                "SELECT incident_id FROM incidents WHERE project = ? AND is_open "
                "AND source != 'pagerduty' ORDER BY last_seen DESC LIMIT 1",
                (project,),
            ).fetchone()
        return None if row is None else str(row[0])

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = {
                "deliveries": "SELECT COUNT(*) FROM deliveries",
                "incidents": "SELECT COUNT(*) FROM incidents",
                "events": "SELECT COALESCE(SUM(count), 0) FROM incidents",
                "jobs_queued": "SELECT COUNT(*) FROM jobs WHERE state = 'queued'",
                "jobs_running": "SELECT COUNT(*) FROM jobs WHERE state = 'running'",
                "jobs_done": "SELECT COUNT(*) FROM jobs WHERE state = 'done'",
                "jobs_failed": "SELECT COUNT(*) FROM jobs WHERE state = 'failed'",
            }
            return {name: int(self._db.execute(sql).fetchone()[0]) for name, sql in counts.items()}

    def _settle(self, job_id: int, state: str, outcome: str, close_incident: bool) -> None:
        with self._transaction() as db:
            row = db.execute(
                "UPDATE jobs SET state = ?, outcome = ?, updated_at = ? WHERE id = ? "
                "RETURNING incident_id",
                (state, outcome, time.time(), job_id),
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE incidents SET outcome = ?, is_open = is_open AND NOT ? "
                    "WHERE incident_id = ?",
                    (outcome, close_incident, row[0]),
                )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock)


class _Transaction:
    """`with`: hold the lock, BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()


def _new_delivery(
    db: sqlite3.Connection, source: str, delivery_id: str, incident_id: str | None, now: float
) -> bool:
    cursor = db.execute(
        "INSERT OR IGNORE INTO deliveries (source, delivery_id, incident_id, received_at) "
        "VALUES (?, ?, ?, ?)",
        (source, delivery_id, incident_id, now),
    )
    return cursor.rowcount == 1


def _enqueue(
    db: sqlite3.Connection,
    kind: str,
    incident_id: str,
    payload: dict[str, Any],
    now: float,
    not_before: float = 0.0,
) -> None:
    db.execute(
        "INSERT INTO jobs (kind, incident_id, payload, not_before, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (kind, incident_id, json.dumps(payload, ensure_ascii=False), not_before, now, now),
    )


def _incident(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["incident_id"],
        "fingerprint": row["fingerprint"],
        "source": row["source"],
        "project": row["project"],
        "title": row["title"],
        "count": row["count"],
        "open": bool(row["is_open"]),
        "outcome": row["outcome"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
    }

"""A state directory as the release before the store layer left it: its SQLite schemas, word
for word, and a few rows written the way that release wrote them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

RECORDS_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS pull_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    base TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    diff TEXT NOT NULL,
    status TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    merge_sha TEXT,
    merged_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (repo, branch)
);
CREATE TABLE IF NOT EXISTS pr_reviews (
    pr_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    comment TEXT NOT NULL,
    at TEXT NOT NULL
);
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
CREATE TABLE IF NOT EXISTS sentry_issues (
    fingerprint TEXT PRIMARY KEY,
    issue_id    TEXT NOT NULL
);
"""

INBOX_SCHEMA = """
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

T = "2026-01-01T00:00:00+00:00"


def write_legacy_state(home: Path) -> None:
    """records.db and inbox.db as the previous release left them after some work. Comments,
    reviews, notes and events were written in an order their timestamps do not show (only the
    rowid does): the upgrade must keep it."""
    home.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(home / "records.db") as db:
        db.executescript(RECORDS_SCHEMA)
        for n, fingerprint, status in [(1, "fp1", "closed"), (7, "fp2", "open")]:
            db.execute(
                "INSERT INTO tickets VALUES (?, ?, 'fx-' || ?, 'boom', 'b', ?, NULL, ?, ?)",
                (n, fingerprint, n, status, T, T),
            )
        for key, body in [("z", "first"), ("a", "second"), ("m", "third")]:
            db.execute("INSERT INTO ticket_comments VALUES (7, ?, ?, ?)", (key, body, T))
        db.execute(
            "INSERT INTO pull_requests VALUES (3, '/repo', 'fixloop/fx-2', 'main', 't', 'b', 'd',"
            " 'open', 'abc', NULL, NULL, ?)",
            (T,),
        )
        for action in ("approve", "merge"):
            db.execute("INSERT INTO pr_reviews VALUES (3, ?, 'ok', ?)", (action, T))
        for event_id in ("e-late", "e-early"):
            db.execute(
                "INSERT INTO events VALUES (?, 'fx-2', 'fp2', '1', 100.0, ?, 'shop@1')",
                (event_id, f'{{"event_id": "{event_id}"}}'),
            )
        db.execute("INSERT INTO resolutions VALUES ('fp1', 50.0)")
        db.execute("INSERT INTO sentry_issues VALUES ('fp2', '42')")
    with sqlite3.connect(home / "inbox.db") as db:
        db.executescript(INBOX_SCHEMA)
        db.execute("INSERT INTO deliveries VALUES ('sentry', 'd1', 'fx-2', 10.0)")
        db.execute(
            "INSERT INTO incidents VALUES ('fx-2', 'fp2', 'sentry_event', '1', 'bang', 3, 1, NULL,"
            " 10.0, 20.0)"
        )
        for kind in ("page", "merge"):
            db.execute("INSERT INTO notes VALUES ('fx-2', 'github', ?, '{}', 30.0)", (kind,))
        db.execute(
            "INSERT INTO jobs (kind, incident_id, payload, created_at, updated_at)"
            " VALUES ('run', 'fx-2', '{}', 10.0, 10.0)"
        )

"""The local error store: dedupe by event id, counts by fingerprint, resolutions, threads."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.intake.payloads import parse_payload
from tools.error_store import LocalErrorStore
from tools.store.database import Database


def event(event_id: str, function: str = "average_basket", project: str = "1") -> dict[str, Any]:
    frame = {"filename": "app/reports.py", "function": function, "lineno": 14, "in_app": True}
    value = {"type": "ZeroDivisionError", "stacktrace": {"frames": [frame]}}
    return {"event_id": event_id, "project": project, "exception": {"values": [value]}}


def record(store: LocalErrorStore, payload: dict[str, Any]) -> bool:
    return store.record(parse_payload(payload), payload)


def test_record_dedupes_by_event_id_and_counts_by_fingerprint(records_db: Database) -> None:
    store = LocalErrorStore(records_db)
    first = event("a" * 32)

    assert record(store, first) is True
    assert record(store, first) is False
    assert record(store, event("b" * 32)) is True
    assert record(store, event("c" * 32, function="revenue_cents")) is True

    fingerprint = parse_payload(first).fingerprint
    assert store.count(fingerprint) == 2
    assert store.get("a" * 32) == first
    assert store.get("d" * 32) is None


def test_test_failures_are_keyed_by_incident_id(records_db: Database) -> None:
    store = LocalErrorStore(records_db)
    failure = {"kind": "test_failure", "tests": ["tests/test_a.py::test_b"]}

    assert record(store, failure) is True
    assert record(store, failure) is False


def test_events_since_latest_and_resolve(records_db: Database) -> None:
    store = LocalErrorStore(records_db)
    before = datetime.now(UTC) - timedelta(seconds=1)
    record(store, event("a" * 32, project="1"))
    record(store, event("b" * 32, project="2"))
    record(store, event("c" * 32, project="1"))
    fingerprint = parse_payload(event("a" * 32, project="1")).fingerprint

    assert store.events_since(fingerprint, before) == 2, "the same bug in project 2 is another"
    assert store.events_since(fingerprint, datetime.now(UTC) + timedelta(seconds=1)) == 0
    assert store.events_since(fingerprint, before.replace(tzinfo=None)) == 2
    latest = store.latest()
    assert latest is not None and latest["event_id"] == "c" * 32
    latest_of_two = store.latest(project="2")
    assert latest_of_two is not None and latest_of_two["event_id"] == "b" * 32

    assert store.resolved_at(fingerprint) is None
    store.resolve(fingerprint)
    resolved = store.resolved_at(fingerprint)
    assert resolved is not None and resolved >= before
    store.resolve(fingerprint)
    assert store.events_since(fingerprint, resolved) == 0


def test_a_second_store_on_the_same_file_sees_the_events(tmp_path: Path) -> None:
    record(LocalErrorStore(tmp_path / "errors.db"), event("a" * 32))

    assert LocalErrorStore(tmp_path / "errors.db").latest() is not None


def test_concurrent_writers_and_readers(records_db: Database) -> None:
    store = LocalErrorStore(records_db)
    fingerprint = parse_payload(event("0" * 32)).fingerprint
    counts: list[int] = []

    def write(worker: int) -> None:
        for index in range(15):
            record(store, event(f"{worker:02d}{index:030d}"))
            counts.append(store.count(fingerprint))

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.count(fingerprint) == 120
    assert len(counts) == 120


def test_events_between_and_the_releases_a_project_named(records_db: Database) -> None:
    store = LocalErrorStore(records_db)
    start = datetime.now(UTC) - timedelta(seconds=1)
    record(store, event("a" * 32) | {"release": "shop@1.0"})
    middle = datetime.now(UTC)
    record(store, event("b" * 32, function="revenue_cents") | {"release": "shop@1.1"})
    record(store, event("c" * 32) | {"release": "shop@1.1"})
    record(store, event("d" * 32, project="2") | {"release": "other@9"})
    end = datetime.now(UTC) + timedelta(seconds=1)
    fingerprint = parse_payload(event("a" * 32)).fingerprint

    assert store.events_between(fingerprint, start, end) == 2
    assert store.events_between(fingerprint, start, middle) == 1
    assert store.events_between(fingerprint, middle, end) == 1
    releases = store.releases("1")
    assert [r.version for r in releases] == ["shop@1.0", "shop@1.1"]
    assert start <= releases[0].first_seen <= middle <= releases[1].first_seen <= end
    assert [r.version for r in store.releases("3")] == []


def test_a_store_made_before_releases_were_kept_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "errors.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, incident_id TEXT NOT NULL,"
            " fingerprint TEXT NOT NULL, project TEXT, received_at REAL NOT NULL,"
            " payload TEXT NOT NULL)"
        )
    conn.close()
    store = LocalErrorStore(path)
    record(store, event("a" * 32) | {"release": "shop@1.0"})
    assert [r.version for r in store.releases("1")] == ["shop@1.0"]

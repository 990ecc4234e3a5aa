"""The store layer: migrations (from the release before it, and to what `tables.py` says) and
the writes that must stay single when several threads or processes make them, on SQLite and
PostgreSQL."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from agent.domain import Incident
from tests.support.legacy_store import write_legacy_state
from tools.error_store import LocalErrorStore
from tools.inbox import SqlInbox
from tools.local_forge import LocalForge
from tools.local_tracker import LocalTracker
from tools.store.database import HEADS, MIGRATIONS, Database, migrate, open_database
from tools.store.tables import metadata, sentry_issues


@dataclass
class _Checkout:
    path: Path


def _incident(incident_id: str, fingerprint: str) -> Incident:
    return Incident(id=incident_id, source="sentry_event", fingerprint=fingerprint, title="boom")


def _differences(database: Database, tables: set[str], *, legacy: bool = False) -> list[Any]:
    """How the database differs from `tables.py`. `legacy`: a SQLite file made before Alembic,
    whose REAL columns are DOUBLE now (one storage class in SQLite) and whose primary keys were
    declared without NOT NULL (never NULL: fixloop always wrote them)."""

    def ours(_obj: Any, name: str | None, kind: str, _reflected: bool, _other: Any) -> bool:
        return kind != "table" or name in tables

    def real(difference: Any) -> bool:
        if not legacy or not isinstance(difference, list):
            return True
        kind, _, table, column = difference[0][:4]
        return kind != "modify_nullable" or not metadata.tables[table].c[column].primary_key

    opts = {"include_object": ours, "compare_type": not legacy}
    with database.transaction() as conn:
        context = MigrationContext.configure(conn, opts=opts)
        return [d for d in compare_metadata(context, metadata) if real(d)]


def _version(database: Database) -> set[str]:
    with database.transaction() as conn:
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


RECORDS = {"tickets", "ticket_comments", "pull_requests", "pr_reviews", "events"} | {
    "resolutions",
    "sentry_issues",
    "slack_messages",
    "pauses",
    "control_log",
    "model_spend",
}
INBOX = {"deliveries", "incidents", "notes", "jobs"}


def test_a_state_directory_of_the_previous_release_upgrades_without_losing_rows(
    tmp_path: Path,
) -> None:
    home = tmp_path / "state"
    write_legacy_state(home)
    records = open_database(home / "records.db", "records")
    inbox_db = open_database(home / "inbox.db", "inbox")

    assert _version(records) == {HEADS["records"]} and _version(inbox_db) == {HEADS["inbox"]}
    assert _differences(records, RECORDS, legacy=True) == []
    assert _differences(inbox_db, INBOX, legacy=True) == []

    tracker = LocalTracker(records)
    assert [ticket.key for ticket in tracker.all()] == ["FIX-1", "FIX-7"]
    assert tracker.comments("FIX-7") == ["first", "second", "third"]
    assert tracker.ensure_ticket(_incident("fx-9", "fp9"), "new", "b").key == "FIX-8"
    tracker.comment("FIX-7", "n", "fourth")
    assert tracker.comments("FIX-7")[-1] == "fourth"

    forge = LocalForge(records, _Checkout(Path("/repo")), "main")  # type: ignore[arg-type]
    assert forge.get_pr(3).branch == "fixloop/fx-2"
    assert [review["action"] for review in forge.reviews(3)] == ["approve", "merge"]

    errors = LocalErrorStore(records)
    assert errors.count("fp2") == 2
    assert (errors.latest() or {})["event_id"] == "e-early", "the last written of a tie"
    assert errors.resolved_at("fp1") == datetime.fromtimestamp(50.0, UTC)
    assert [release.version for release in errors.releases("1")] == ["shop@1"]
    with records.transaction() as conn:
        assert conn.execute(select(sentry_issues.c.issue_id)).scalars().all() == ["42"]

    inbox = SqlInbox(inbox_db)
    stored = inbox.incident("fx-2")
    assert stored is not None and stored["count"] == 3
    assert [note["kind"] for note in stored["notes"]] == ["page", "merge"]
    repeat = inbox.admit_event("sentry", "d2", _incident("fx-3", "fp2"), {}, "run")
    assert (repeat.outcome, repeat.incident_id, repeat.count) == ("repeat", "fx-2", 4)
    job = inbox.claim()
    assert job is not None and (job.id, job.incident_id) == (1, "fx-2")


def test_opening_a_migrated_store_again_changes_nothing(records_db: Database) -> None:
    LocalTracker(records_db).ensure_ticket(_incident("fx-1", "fp1"), "boom", "b")
    migrate(records_db, "records")
    assert _version(records_db) == {HEADS["records"]}
    assert [ticket.key for ticket in LocalTracker(records_db).all()] == ["FIX-1"]


def test_the_migrations_build_the_tables_the_store_describes(
    tmp_path: Path, database_url: str | None
) -> None:
    target = database_url or tmp_path / "both.db"
    open_database(target, "records")
    both = open_database(target, "inbox")

    assert _version(both) == {HEADS["records"], HEADS["inbox"]}
    assert _differences(both, RECORDS | INBOX) == []


def _together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(0..count-1)` in threads released at once; their results in order."""
    results: list[Any] = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        start.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_events_of_one_bug_arriving_together_open_one_ticket(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    keys = _together(
        8, lambda i: tracker.ensure_ticket(_incident(f"fx-{i}", "fp"), "boom", "b").key
    )

    assert set(keys) == {"FIX-1"}
    assert len(tracker.all()) == 1


def test_a_storm_of_one_new_error_opens_one_incident_and_one_job(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    admissions = _together(
        8, lambda i: inbox.admit_event("sentry", f"d{i}", _incident(f"fx-{i}", "fp"), {}, "run")
    )

    assert sorted(a.outcome for a in admissions) == ["new"] + ["repeat"] * 7
    assert sorted(a.count for a in admissions) == list(range(1, 9))
    assert len({a.incident_id for a in admissions}) == 1
    stats = inbox.stats()
    assert (stats["incidents"], stats["events"], stats["jobs_queued"]) == (1, 8, 1)


def test_each_job_is_claimed_by_one_worker(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    for index in range(20):
        inbox.admit_event("sentry", f"d{index}", _incident(f"fx-{index}", f"fp{index}"), {}, "run")

    def drain(_worker: int) -> list[int]:
        claimed = []
        while (job := inbox.claim("run")) is not None:
            claimed.append(job.id)
            inbox.finish(job.id, "done")
        return claimed

    claimed = [job for jobs in _together(4, drain) for job in jobs]

    assert sorted(claimed) == list(range(1, 21))
    assert inbox.stats()["jobs_done"] == 20


def test_a_forked_child_opens_its_own_connections(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    tracker.ensure_ticket(_incident("fx-1", "fp1"), "boom", "b")
    with records_db.transaction() as conn:
        parents = conn.connection.dbapi_connection

    def child_work() -> None:
        with records_db.transaction() as conn:
            if conn.connection.dbapi_connection is parents:
                sys.exit(3)  # the parent's connection, shared with it
        tracker.ensure_ticket(_incident("fx-2", "fp2"), "boom", "b")

    child = multiprocessing.get_context("fork").Process(target=child_work)
    child.start()
    child.join(timeout=60)

    assert child.exitcode == 0
    assert [ticket.key for ticket in tracker.all()] == ["FIX-1", "FIX-2"]
    assert tracker.ensure_ticket(_incident("fx-3", "fp3"), "boom", "b").key == "FIX-3"


def test_the_heads_the_store_knows_are_the_newest_migrations() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)

    for branch, head in HEADS.items():
        newest = script.get_revision(f"{branch}@head")
        assert newest is not None and newest.revision == head, branch
    assert len(script.get_heads()) == len(HEADS)

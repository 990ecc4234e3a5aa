"""The inbox on SQLite and PostgreSQL: deliveries once, incidents by fingerprint, notes in
order, jobs claimed, settled and requeued."""

from __future__ import annotations

from agent.domain import Incident
from tools.inbox import SqlInbox
from tools.store.database import Database


def _incident(incident_id: str, fingerprint: str = "fp") -> Incident:
    return Incident(
        id=incident_id, source="sentry_event", fingerprint=fingerprint, title="boom", project="1"
    )


def test_a_redelivery_counts_once_and_a_repeat_joins_the_open_incident(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    first = inbox.admit_event("sentry", "d1", _incident("fx-1"), {"n": 1}, "run")
    again = inbox.admit_event("sentry", "d1", _incident("fx-1"), {"n": 1}, "run")
    repeat = inbox.admit_event("sentry", "d2", _incident("fx-2"), {"n": 2}, "run")

    assert (first.outcome, first.count) == ("new", 1)
    assert (again.outcome, again.incident_id) == ("duplicate_delivery", "fx-1")
    assert (repeat.outcome, repeat.incident_id, repeat.count) == ("repeat", "fx-1", 2)
    assert inbox.open_incident_of_project("1") == "fx-1"
    job = inbox.claim("run")
    assert job is not None and job.payload == {"n": 1} and job.attempts == 1
    assert inbox.claim("run") is None


def test_a_closed_incident_seen_again_is_reopened_with_a_new_job(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    inbox.admit_event("sentry", "d1", _incident("fx-1"), {}, "run")
    job = inbox.claim()
    assert job is not None
    inbox.finish(job.id, "closed", close_incident=True)
    assert inbox.open_incident_of_project("1") is None

    again = inbox.admit_event("sentry", "d2", _incident("fx-1"), {}, "run")

    assert (again.outcome, again.incident_id) == ("new", "fx-1")
    stored = inbox.incident("fx-1")
    assert stored is not None and stored["open"] and stored["count"] == 2
    assert [(j["state"], j["outcome"]) for j in stored["jobs"]] == [
        ("done", "closed"),
        ("queued", None),
    ]


def test_notes_keep_their_order_and_delayed_jobs_wait(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    for index, kind in enumerate(["page", "merged", "comment"]):
        inbox.admit_note("github", f"n{index}", "fx-1", kind, {"i": index})
    inbox.admit_note("github", "n9", "fx-1", "verify", {}, job="verify", delay=3600)

    stored = inbox.incident("fx-1")
    assert stored is not None and stored["id"] == "fx-1"
    assert [note["kind"] for note in stored["notes"]] == ["page", "merged", "comment", "verify"]
    assert [note["detail"] for note in stored["notes"][:3]] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert inbox.claim() is None, "the verify job waits an hour"
    assert inbox.stats()["jobs_queued"] == 1


def test_jobs_left_running_are_requeued_and_failures_keep_the_reason(inbox_db: Database) -> None:
    inbox = SqlInbox(inbox_db)
    for index in range(3):
        inbox.admit_event("sentry", f"d{index}", _incident(f"fx-{index}", f"fp{index}"), {}, "run")
    first, second = inbox.claim(), inbox.claim()
    assert first is not None and second is not None
    inbox.fail(first.id, "boom")

    assert inbox.requeue_running() == 1
    again = inbox.claim()
    assert again is not None and (again.id, again.attempts) == (second.id, 2)
    stats = inbox.stats()
    assert (stats["jobs_failed"], stats["jobs_running"], stats["jobs_queued"]) == (1, 1, 1)
    failed = inbox.incident(first.incident_id)
    assert failed is not None and failed["outcome"] == "boom" and failed["open"]

import pytest

from agent.domain import Incident
from agent.errors import NotFound
from tools.local_tracker import LocalTracker
from tools.store.database import Database


def _incident(incident_id: str, fingerprint: str = "fp1") -> Incident:
    return Incident(id=incident_id, source="sentry_event", fingerprint=fingerprint, title="boom")


def test_one_open_ticket_per_fingerprint(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    first = tracker.ensure_ticket(_incident("fx-1"), "boom", "body")
    again = tracker.ensure_ticket(_incident("fx-1"), "boom", "body")
    other_event = tracker.ensure_ticket(_incident("fx-2"), "boom", "body")
    assert first.key == again.key == other_event.key == "FIX-1"
    assert len(tracker.all()) == 1
    assert tracker.find_open("fp1") == first
    assert tracker.find_open("other") is None


def test_closed_ticket_is_not_reused_for_a_recurrence(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    first = tracker.ensure_ticket(_incident("fx-1"), "boom", "body")
    closed = tracker.close(first.key, "fixed by PR #1")
    assert closed.status == "closed" and closed.resolution == "fixed by PR #1"
    assert tracker.find_open("fp1") is None
    recurrence = tracker.ensure_ticket(_incident("fx-9"), "boom", "body")
    assert recurrence.key == "FIX-2"


def test_comments_are_idempotent_by_key(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    key = tracker.ensure_ticket(_incident("fx-1"), "boom", "body").key
    tracker.comment(key, "diagnosis", "first")
    tracker.comment(key, "diagnosis", "second")
    tracker.comment(key, "pr:1", "PR")
    assert tracker.comments(key) == ["first", "PR"]
    assert tracker.transition(key, "in_review").status == "in_review"


def test_unknown_ticket_is_not_found(records_db: Database) -> None:
    tracker = LocalTracker(records_db)
    with pytest.raises(NotFound):
        tracker.get("FIX-7")
    with pytest.raises(NotFound):
        tracker.get("JIRA-1")

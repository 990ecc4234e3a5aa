"""The operator controls in the records store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.control_store import SqlControls
from tools.store.database import Database


def test_a_pause_holds_until_unpaused_and_keeps_who_and_why(records_db: Database) -> None:
    controls = SqlControls(records_db)
    first = controls.pause("*", "ops", "bad deploy")
    again = controls.pause("*", "someone else", "later")
    assert again == first, "pausing twice keeps the first pause"
    controls.pause("shop", "ops", "")
    assert [(p.scope, p.by, p.reason) for p in controls.pauses()] == [
        ("*", "ops", "bad deploy"),
        ("shop", "ops", ""),
    ]
    assert controls.unpause("*") == first
    assert controls.unpause("*") is None
    assert [p.scope for p in SqlControls(records_db).pauses()] == ["shop"]


def test_decisions_are_logged_once_per_key(records_db: Database) -> None:
    controls = SqlControls(records_db)
    assert controls.log("deferred:a:max_open_prs", "deferred", "shop", "a", {"count": 3})
    assert not controls.log("deferred:a:max_open_prs", "deferred", "shop", "a", {"count": 4})
    controls.log("pause:*:1", "pause", "*", None, {"by": "ops"})
    assert [(e.kind, e.detail) for e in controls.entries("a")] == [("deferred", {"count": 3})]
    assert [e.kind for e in controls.entries()] == ["deferred", "pause"]
    assert controls.counts() == {"deferred": 1, "pause": 1}


def test_spend_is_counted_once_per_key_by_scope_and_day(records_db: Database) -> None:
    controls = SqlControls(records_db)
    now = datetime(2026, 12, 7, 15, tzinfo=UTC)
    controls.record_spend("a:1:claude", "shop", "a", 0.25, now)
    controls.record_spend("a:1:claude", "shop", "a", 0.25, now)
    controls.record_spend("b:1:claude", "web", "b", 0.5, now)
    controls.record_spend("c:1:claude", "shop", "c", 9.0, now - timedelta(days=1))
    midnight = now.replace(hour=0)
    assert controls.spend_since(midnight) == 0.75
    assert controls.spend_since(midnight, "shop") == 0.25
    assert controls.spend_since(midnight - timedelta(days=1), "shop") == 9.25

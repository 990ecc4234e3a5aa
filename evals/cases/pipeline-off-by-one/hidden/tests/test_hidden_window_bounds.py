from datetime import date, datetime, timedelta, timezone

from conftest import record

from evpipe.clean import clean
from evpipe.run import run_batch
from evpipe.windows import select

UTC = timezone.utc


def test_end_bound_is_exclusive():
    records = [record(f"e{i}", "u1", f"2026-03-01T{hour:02d}:00:00Z", page="/") for i, hour in enumerate((8, 9, 10))]
    events = clean(enumerate(records, start=1))
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert [e.event_id for e in select(events, start, start + timedelta(hours=2))] == ["e0", "e1"]
    assert [e.event_id for e in select(events, start, start + timedelta(hours=2, seconds=1))] == ["e0", "e1", "e2"]


def test_daily_report_skips_next_midnight(day_records, write_jsonl):
    midnight = record("m1", "u5", "2026-03-02T00:00:00Z", page="/")
    metrics = run_batch([write_jsonl("events.jsonl", [*day_records, midnight])], date(2026, 3, 1))
    assert metrics["sessions"] == 4 and metrics["users"] == 3

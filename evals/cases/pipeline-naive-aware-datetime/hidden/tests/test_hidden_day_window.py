from datetime import date, datetime, timezone

from evpipe.run import run_batch
from evpipe.windows import day_bounds

UTC = timezone.utc


def test_day_bounds_are_utc():
    start, end = day_bounds(date(2026, 3, 1))
    assert start == datetime(2026, 3, 1, tzinfo=UTC) and start.utcoffset() is not None
    assert end == datetime(2026, 3, 2, tzinfo=UTC)


def test_run_batch_for_one_day(day_records, write_jsonl):
    from conftest import record

    other_day = record("x1", "u9", "2026-03-02T00:00:00Z", page="/")
    path = write_jsonl("events.jsonl", [*day_records, other_day])
    metrics = run_batch([path], date(2026, 3, 1))
    assert metrics["sessions"] == 4 and metrics["users"] == 3
    assert sum(metrics["hourly_pageviews"]) == 5
    assert metrics["hourly_pageviews"][9] == 2


def test_run_batch_without_day(day_records, write_jsonl):
    assert run_batch([write_jsonl("events.jsonl", day_records)])["sessions"] == 4

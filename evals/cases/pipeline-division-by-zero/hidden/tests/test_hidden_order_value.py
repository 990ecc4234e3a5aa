from datetime import date

from conftest import record

from evpipe.aggregate import order_values
from evpipe.clean import clean
from evpipe.run import run_batch
from evpipe.sessions import sessionize


def test_channel_without_orders():
    sessions = sessionize(
        clean(
            enumerate(
                [
                    record("a", "u1", "2026-03-01T09:00:00Z", "purchase", page="/checkout", amount=30.0),
                    record("b", "u1", "2026-03-01T09:10:00Z", "purchase", page="/checkout", amount=50.0),
                    record("c", "u2", "2026-03-01T10:00:00Z", page="/", referrer="https://www.bing.com/"),
                ],
                start=1,
            )
        )
    )
    values = order_values(sessions)
    assert values["direct"] == 40.0
    assert values.get("search", 0.0) == 0.0


def test_daily_report_with_browsing_channels(day_records, write_jsonl):
    metrics = run_batch([write_jsonl("events.jsonl", day_records)], date(2026, 3, 1))
    values = metrics["order_value_by_channel"]
    assert values["search"] == 49.0 and values["referral"] == 120.0
    assert values.get("social", 0.0) == 0.0
    assert metrics["revenue"] == 169.0

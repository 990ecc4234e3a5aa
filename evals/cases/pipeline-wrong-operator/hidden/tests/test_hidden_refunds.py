from conftest import record

from evpipe.aggregate import revenue_and_orders, summarise
from evpipe.clean import clean
from evpipe.sessions import sessionize


def sessions_of(records):
    return sessionize(clean(enumerate(records, start=1)))


def test_net_revenue_per_channel():
    sessions = sessions_of(
        [
            record("p1", "u1", "2026-03-01T09:00:00Z", "purchase", amount=100.0, referrer="https://www.google.com/"),
            record("r1", "u1", "2026-03-01T09:20:00Z", "refund", amount=35.5),
            record("p2", "u2", "2026-03-01T11:00:00Z", "purchase", amount=60.0),
        ]
    )
    assert revenue_and_orders(sessions) == (124.5, 2)
    metrics = summarise(sessions)
    assert metrics["channels"]["search"]["revenue"] == 64.5
    assert metrics["channels"]["direct"]["revenue"] == 60.0
    assert metrics["avg_order_value"] == 62.25


def test_without_refunds(day_records):
    assert revenue_and_orders(sessions_of(day_records)) == (169.0, 2)

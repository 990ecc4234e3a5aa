from datetime import datetime, timezone

from orders_api.repository import LineItem


def _two_orders(repo):
    repo.create(None, [LineItem("CAP-02", 1, 1800)], created_at=datetime(2026, 2, 24, 23, 0, tzinfo=timezone.utc))
    repo.create(None, [LineItem("CAP-02", 1, 1800)], created_at=datetime(2026, 2, 25, 1, 0, tzinfo=timezone.utc))


def test_since_without_offset_is_utc(client, repo):
    _two_orders(repo)
    status, body = client.get("/orders", "status=open&since=2026-02-25T00:00:00")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002]


def test_since_with_offset(client, repo):
    _two_orders(repo)
    status, body = client.get("/orders", "since=2026-02-25T00:00:00%2B02:00")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1001, 1002]

from conftest import record

from evpipe.aggregate import summarise
from evpipe.clean import clean
from evpipe.sessions import sessionize


def test_server_side_purchase_has_no_page():
    purchase = {"event_id": "p", "user_id": "u1", "type": "purchase", "ts": "2026-03-01T09:03:00Z", "amount": 25.0}
    view = record("v", "u1", "2026-03-01T09:00:00Z", page="/pricing/?plan=team")
    events = clean(enumerate([view, purchase], start=1))
    assert [(event.event_id, event.page) for event in events] == [("v", "/pricing"), ("p", None)]
    metrics = summarise(sessionize(events))
    assert metrics["revenue"] == 25.0 and metrics["conversion_rate"] == 1.0


def test_root_page():
    assert clean([(1, record("a", "u", "2026-03-01T09:00:00Z", page="/"))])[0].page == "/"

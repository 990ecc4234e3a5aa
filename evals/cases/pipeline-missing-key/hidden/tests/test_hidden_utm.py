from conftest import record

from evpipe.clean import channel_of, clean


def test_utm_without_medium_is_a_campaign():
    assert channel_of({"utm": {"source": "spring-sale"}}) == "campaign"
    assert channel_of({"utm": {"source": "x"}, "referrer": "https://t.co/a"}) == "campaign"


def test_utm_with_medium():
    assert channel_of({"utm": {"source": "google", "medium": "cpc"}}) == "paid_search"
    assert channel_of({"utm": {}, "referrer": "https://www.bing.com/"}) == "search"


def test_clean_keeps_events_tagged_with_source_only():
    events = clean([(1, record("a", "u", "2026-03-01T09:00:00Z", page="/", utm={"source": "podcast"}))])
    assert [event.channel for event in events] == ["campaign"]

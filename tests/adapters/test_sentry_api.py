"""SentryApi on real httpx against a fake Sentry: paths, retries, rate limits, errors; and the
worker fetching an issue webhook's latest event."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from agent import wiring
from agent.errors import AdapterError, NotFound
from agent.intake.payloads import parse_payload
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.fakes.sentry import FakeSentry
from tests.support.local_client import local_client
from tests.support.payloads import fixture_payload
from tools import sentry_api
from tools.rest import RestClient
from tools.sentry_api import SentryApi
from tools.sentry_errors import SentryErrorSource


@pytest.fixture
def sentry() -> Iterator[FakeSentry]:
    with FakeSentry("acme") as fake:
        fake.add_issue(
            "1170820242", fixture_payload("sentry_api_event.json"), [0] * 20 + [3, 0, 2, 1]
        )
        yield fake


def api_for(fake: FakeSentry, waits: list[float]) -> SentryApi:
    client = httpx.Client(base_url=fake.url, timeout=5)
    return SentryApi(
        RestClient(client, "Sentry", retries=2, backoff=0.01, sleep=waits.append), "acme"
    )


def test_latest_event_counts_resolve_and_comment(sentry: FakeSentry) -> None:
    api = api_for(sentry, [])

    event = api.latest_event("1170820242")
    counts = api.event_counts("1170820242")
    recent = api.events_since("1170820242", datetime.now(UTC) - timedelta(hours=2, minutes=1))
    api.resolve_in_next_release("1170820242")
    api.comment("1170820242", "fixed by PR #1")

    assert event["eventID"] == fixture_payload("sentry_api_event.json")["eventID"]
    assert len(counts) == 24 and sum(n for _, n in counts) == 6
    assert recent == 3
    issue = sentry.issues["1170820242"]
    assert (issue["status"], issue["statusDetails"]) == ("resolved", {"inNextRelease": True})
    assert issue["comments"] == ["fixed by PR #1"]
    assert ("GET", "/api/0/organizations/acme/issues/1170820242/events/latest/") in [
        (m, p) for m, p, _ in sentry.requests_seen
    ]


def test_rate_limits_and_server_errors_are_retried_as_asked(sentry: FakeSentry) -> None:
    waits: list[float] = []
    api = api_for(sentry, waits)
    sentry.fail_next = [(429, {"Retry-After": "1.5"}), (503, {})]

    assert api.issue("1170820242")["id"] == "1170820242"
    assert waits == [1.5, 0.02]

    sentry.fail_next = [(500, {})] * 3
    with pytest.raises(AdapterError, match="500 after 3 attempts"):
        api.issue("1170820242")


def test_client_errors_are_not_retried(sentry: FakeSentry) -> None:
    waits: list[float] = []
    api = api_for(sentry, waits)

    with pytest.raises(NotFound):
        api.latest_event("999")
    sentry.fail_next = [(403, {})]
    with pytest.raises(AdapterError, match="403 failing on purpose"):
        api.issue("1170820242")
    assert waits == []


def test_an_unreachable_sentry_is_an_adapter_error_after_retries() -> None:
    waits: list[float] = []
    client = httpx.Client(base_url="http://127.0.0.1:9", timeout=0.5)
    api = SentryApi(
        RestClient(client, "Sentry", retries=2, backoff=0.01, sleep=waits.append), "acme"
    )

    with pytest.raises(AdapterError, match="Sentry GET"):
        api.issue("1")
    assert waits == [0.01, 0.02]


def test_resolving_a_known_fingerprint_resolves_the_sentry_issue(
    tmp_path: Path, sentry: FakeSentry
) -> None:
    settings = Settings(
        home=tmp_path, sentry_url=sentry.url, sentry_org="acme", sentry_token=SecretStr("t")
    )
    source = wiring.error_source(settings)
    assert isinstance(source, SentryErrorSource)
    event = fixture_payload("sentry_api_event.json") | {"groupID": "1170820242"}
    incident = parse_payload(event)
    source.record(incident, event)

    assert source.events_since(incident.fingerprint, datetime.now(UTC) - timedelta(hours=4)) == 6
    source.resolve(incident.fingerprint)
    assert sentry.issues["1170820242"]["status"] == "resolved"
    assert len(sentry.issues["1170820242"]["comments"]) == 1


def test_event_times_in_a_window_and_the_releases_seen_running(sentry: FakeSentry) -> None:
    now = datetime.now(UTC)
    sentry.add_events("1170820242", now - timedelta(hours=3), now - timedelta(minutes=30), now)
    sentry.add_release("shop@1.2", "4504", "a" * 40, first_event=now - timedelta(minutes=10))
    sentry.add_release("shop@1.3", "4504", released=now - timedelta(minutes=5))
    sentry.add_release("shop@1.4", "4504")
    sentry.releases[0]["firstEvent"] = sentry.releases[0]["dateReleased"] = None
    sentry.add_release("other@1", "7", first_event=now)
    api = api_for(sentry, [])

    times = api.event_times("1170820242", now - timedelta(hours=1), now)
    releases = api.releases("4504")

    assert [round((now - t).total_seconds()) for t in times] == [1800]
    assert [(r.version, r.commit) for r in releases] == [("shop@1.3", None), ("shop@1.2", "a" * 40)]
    assert abs((releases[1].first_seen - (now - timedelta(minutes=10))).total_seconds()) < 1


def test_events_and_releases_are_read_past_the_first_page(sentry: FakeSentry) -> None:
    now = datetime.now(UTC)
    sentry.add_events("1170820242", *(now - timedelta(seconds=s) for s in range(1, 251)))
    for n in range(130):
        sentry.add_release(f"shop@1.{n}", "4504", first_event=now - timedelta(minutes=130 - n))
    api = api_for(sentry, [])

    times = api.event_times("1170820242", now - timedelta(hours=1), now)
    releases = api.releases("4504")

    assert len(times) == 250
    assert len(set(times)) == 250, "no page was read twice"
    assert [r.version for r in releases] == [f"shop@1.{n}" for n in reversed(range(130))]
    pages = [path for method, path, _ in sentry.requests_seen if path.endswith("/events/")]
    assert len(pages) == 3


def test_a_list_stops_at_the_page_limit(
    sentry: FakeSentry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sentry_api, "MAX_PAGES", 2)
    now = datetime.now(UTC)
    sentry.add_events("1170820242", *(now - timedelta(seconds=s) for s in range(1, 351)))

    times = api_for(sentry, []).event_times("1170820242", now - timedelta(hours=1), now)

    assert len(times) == 200


def test_the_sentry_source_counts_the_larger_and_joins_releases(
    tmp_path: Path, sentry: FakeSentry
) -> None:
    settings = Settings(
        home=tmp_path, sentry_url=sentry.url, sentry_org="acme", sentry_token=SecretStr("t")
    )
    source = wiring.error_source(settings)
    event = fixture_payload("sentry_api_event.json") | {"groupID": "1170820242"}
    incident = parse_payload(event)
    source.record(incident, event)
    now = datetime.now(UTC)
    sentry.add_events("1170820242", *(now - timedelta(minutes=m) for m in range(1, 6)))
    sentry.add_release("shop@2.0", str(incident.project), "b" * 40, first_event=now)

    assert source.events_between(incident.fingerprint, now - timedelta(hours=1), now) == 5
    recent = source.events_between(incident.fingerprint, now - timedelta(seconds=30), now)
    assert recent == 1, "the event fixloop received itself; Sentry lists none that recent"
    assert [(r.version, r.commit) for r in source.releases(incident.project)] == [
        *[(incident.release, None)] * (incident.release is not None),
        ("shop@2.0", "b" * 40),
    ]


def test_an_issue_webhook_fetches_the_latest_event_and_opens_an_incident(
    tmp_path: Path, sentry: FakeSentry
) -> None:
    settings = Settings(
        home=tmp_path / "state",
        worker=False,
        sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
        sentry_url=sentry.url,
        sentry_org="acme",
        sentry_token=SecretStr("sntrys_token"),
    )
    webhook = {
        "action": "created",
        "data": {"issue": {"id": "1170820242", "title": "ZeroDivisionError"}},
    }
    with local_client(create_app(settings)) as client:
        answer = signed.post_sentry(client, copy.deepcopy(webhook), resource="issue").json()
        Worker(settings, wiring.inbox(settings)).drain()
        incidents = client.get("/incidents").json()["incidents"]

    assert answer["note"] == "latest event queued for fetching"
    assert [(i["source"], i["count"]) for i in incidents] == [("sentry_api", 1)]
    assert incidents[0]["outcome"].startswith("no repository mapped")

"""`fixloop serve` over HTTP: signatures, 400s with reasons, dedupe, persist-and-enqueue."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.service import runner
from agent.service.server import create_app
from agent.settings import Settings
from tests.support import signed
from tests.support.local_client import local_client
from tests.support.payloads import alert
from tests.support.stored_runs import INCIDENT, store_run, stored_values


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "state",
        sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
        pagerduty_webhook_secrets=[SecretStr("old-secret"), SecretStr(signed.PAGERDUTY_SECRET)],
        github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
        ingest_keys=[SecretStr(signed.DSN_KEY)],
        worker=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with local_client(create_app(settings), raise_server_exceptions=True) as test_client:
        yield test_client


def stats(settings: Settings) -> dict[str, int]:
    return wiring.inbox(settings).stats()


def test_a_signed_alert_is_persisted_queued_and_listed(
    client: TestClient, settings: Settings
) -> None:
    answer = signed.post_sentry(client, alert())

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "new"
    incident_id = answer.json()["incident_id"]
    assert stats(settings)["jobs_queued"] == 1
    listed = client.get("/incidents").json()["incidents"]
    assert [(i["id"], i["count"], i["source"]) for i in listed] == [
        (incident_id, 1, "sentry_webhook")
    ]
    one = client.get(f"/incidents/{incident_id}").json()
    assert one["incident"]["jobs"][0]["kind"] == "run"
    assert one["run"] is None
    assert wiring.error_store(settings).count(listed[0]["fingerprint"]) == 1


def test_a_storm_of_one_error_is_one_incident_with_a_growing_count(
    client: TestClient, settings: Settings
) -> None:
    answers = [signed.post_sentry(client, alert()).json() for _ in range(5)]
    other = signed.post_sentry(client, alert(function="another_function")).json()

    assert [a["outcome"] for a in answers] == ["new"] + ["repeat"] * 4
    assert [a["count"] for a in answers] == [1, 2, 3, 4, 5]
    assert {a["incident_id"] for a in answers} == {answers[0]["incident_id"]}
    assert other["outcome"] == "new"
    counts = stats(settings)
    assert (counts["incidents"], counts["events"], counts["jobs_queued"]) == (2, 6, 2)


def test_a_redelivered_event_counts_once(client: TestClient, settings: Settings) -> None:
    payload = alert()
    first = signed.post_sentry(client, payload).json()
    again = signed.post_sentry(client, payload).json()

    assert (first["outcome"], again["outcome"]) == ("new", "duplicate_delivery")
    assert stats(settings)["events"] == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h: h.update({"Sentry-Hook-Signature": "0" * 64}), "does not match"),
        (lambda h: h.pop("Sentry-Hook-Signature"), "missing Sentry-Hook-Signature"),
        (lambda h: h.update({"Sentry-Hook-Timestamp": str(int(time.time()) - 3600)}), "stale"),
        (lambda h: h.pop("Sentry-Hook-Timestamp"), "missing Sentry-Hook-Timestamp"),
    ],
)
def test_forged_missing_or_stale_sentry_signatures_get_401_and_change_nothing(
    client: TestClient, settings: Settings, change: Any, reason: str
) -> None:
    body, headers = signed.sentry(alert())
    change(headers)

    answer = client.post("/webhooks/sentry", content=body, headers=headers)

    assert answer.status_code == 401
    assert reason in answer.json()["error"]
    assert stats(settings)["deliveries"] == 0
    assert client.get("/incidents").json()["incidents"] == []


def test_a_body_signed_with_another_secret_is_refused(client: TestClient) -> None:
    assert signed.post_sentry(client, alert(), secret="guessed").status_code == 401


def test_without_a_configured_secret_every_webhook_is_refused(tmp_path: Path) -> None:
    bare = Settings(home=tmp_path / "bare", worker=False)
    with local_client(create_app(bare)) as client:
        sentry = signed.post_sentry(client, alert())
        body, headers = signed.pagerduty(signed.page())
        pagerduty = client.post("/webhooks/pagerduty", content=body, headers=headers)
        body, headers = signed.github("pull_request", signed.pull_request("fx-1"))
        github = client.post("/webhooks/github", content=body, headers=headers)
        ingest = client.post(f"/api/1/store/?sentry_key={signed.DSN_KEY}", json={"message": "x"})

    assert [r.status_code for r in (sentry, pagerduty, github, ingest)] == [401] * 4
    assert "no sentry_client_secret" in sentry.json()["error"]


@pytest.mark.parametrize(
    ("payload", "resource", "reason"),
    [
        (b"{not json", "event_alert", "not valid JSON"),
        (b"[1, 2]", "event_alert", "not a JSON object"),
        (b'{"data": {}}', "event_alert", "no 'data.event' object"),
        (b'{"data": {"event": {"exception": {"values": [{}]}}}}', "event_alert", "has no type"),
        (b'{"data": {"event": {"platform": "python"}}}', "error", "no 'data.error' object"),
        (b'{"data": {}}', "issue", "no 'data.issue' object"),
        (b'{"data": {}}', "", "missing Sentry-Hook-Resource"),
    ],
)
def test_malformed_sentry_bodies_get_400_with_the_reason(
    client: TestClient, settings: Settings, payload: bytes, resource: str, reason: str
) -> None:
    _, headers = signed.sentry({}, resource=resource)
    headers["Sentry-Hook-Signature"] = signed.sign(signed.SENTRY_SECRET, payload)

    answer = client.post("/webhooks/sentry", content=payload, headers=headers)

    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert stats(settings)["deliveries"] == 0


def test_sentry_error_resource_and_issue_webhooks(client: TestClient, settings: Settings) -> None:
    event = alert()["data"]["event"]
    error = signed.post_sentry(
        client, {"action": "created", "data": {"error": event}}, resource="error"
    )
    issue = signed.post_sentry(
        client,
        {"action": "created", "data": {"issue": {"id": "1170820242", "title": "ZeroDivision"}}},
        resource="issue",
    )
    installation = signed.post_sentry(client, {"action": "created"}, resource="installation")

    assert error.json()["outcome"] == "new"
    assert issue.json()["outcome"] == "recorded"
    assert "needs sentry_org and sentry_token" in issue.json()["note"]
    assert "not read" in installation.json()["ignored"]
    assert stats(settings)["jobs_queued"] == 1


def test_pagerduty_accepts_any_secret_of_a_rotation_and_refuses_others(
    client: TestClient, settings: Settings
) -> None:
    body, headers = signed.pagerduty(signed.page(), "retired-secret", signed.PAGERDUTY_SECRET)
    rotated = client.post("/webhooks/pagerduty", content=body, headers=headers)
    body, headers = signed.pagerduty(signed.page(), "retired-secret")
    forged = client.post("/webhooks/pagerduty", content=body, headers=headers)
    old = datetime.now(UTC) - timedelta(hours=2)
    body, headers = signed.pagerduty(signed.page(occurred_at=old))
    stale = client.post("/webhooks/pagerduty", content=body, headers=headers)

    assert rotated.status_code == 200 and rotated.json()["outcome"] == "new"
    assert forged.status_code == 401
    assert stale.status_code == 401 and "stale" in stale.json()["error"]
    assert stats(settings)["deliveries"] == 1


def test_pagerduty_storm_and_resolution(client: TestClient, settings: Settings) -> None:
    answers = []
    for event_type in ("incident.triggered", "incident.triggered", "incident.resolved"):
        body, headers = signed.pagerduty(signed.page(event_type))
        answers.append(client.post("/webhooks/pagerduty", content=body, headers=headers).json())
    body, headers = signed.pagerduty({"event": {"id": "x"}})
    malformed = client.post("/webhooks/pagerduty", content=body, headers=headers)

    assert [a["outcome"] for a in answers] == ["new", "repeat", "recorded"]
    assert malformed.status_code == 400 and "event_type" in malformed.json()["error"]
    notes = client.get(f"/incidents/{answers[0]['incident_id']}").json()["incident"]["notes"]
    assert [n["kind"] for n in notes] == ["resolved"]


def test_github_merge_and_close_queue_jobs_reviews_are_recorded(
    client: TestClient, settings: Settings
) -> None:
    incident_id = signed.post_sentry(client, alert()).json()["incident_id"]
    deliveries = [
        signed.github(
            "pull_request_review",
            signed.pull_request(incident_id, "submitted") | {"review": {"state": "approved"}},
        ),
        signed.github("pull_request", signed.pull_request(incident_id, "closed", merged=True)),
        signed.github("pull_request", signed.pull_request("fx-other", "closed", merged=False)),
    ]
    answers = [client.post("/webhooks/github", content=b, headers=h) for b, h in deliveries]
    body, headers = deliveries[1]
    again = client.post("/webhooks/github", content=body, headers=headers)
    foreign = signed.pull_request(incident_id)
    foreign["pull_request"]["head"]["ref"] = "feature/x"
    body, headers = signed.github("pull_request", foreign)
    ignored = client.post("/webhooks/github", content=body, headers=headers)
    body, headers = signed.github("pull_request", signed.pull_request(incident_id), secret="no")
    forged = client.post("/webhooks/github", content=body, headers=headers)
    body, headers = signed.github("pull_request", {"action": "closed"})
    malformed = client.post("/webhooks/github", content=body, headers=headers)

    assert [a.json()["outcome"] for a in answers] == ["recorded"] * 3
    assert again.json()["outcome"] == "duplicate_delivery"
    assert "fixloop/*" in ignored.json()["ignored"]
    assert forged.status_code == 401
    assert malformed.status_code == 400 and "pull_request" in malformed.json()["error"]
    record = client.get(f"/incidents/{incident_id}").json()["incident"]
    assert [n["kind"] for n in record["notes"]] == [
        "pull_request_review.submitted",
        "pull_request.closed",
    ]
    assert [j["kind"] for j in record["jobs"]] == ["run", "merged"]
    assert stats(settings)["jobs_queued"] == 3


def test_ingest_store_and_gzip_envelope_with_a_dsn_key(
    client: TestClient, settings: Settings
) -> None:
    event = alert()["data"]["event"]
    auth = {"X-Sentry-Auth": f"Sentry sentry_key={signed.DSN_KEY}, sentry_version=7"}
    stored = client.post("/api/7/store/", json=event, headers=auth)
    second = dict(event, event_id=uuid.uuid4().hex)
    envelope = b"\n".join(
        [
            json.dumps({"event_id": second["event_id"]}).encode(),
            b'{"type":"event"}',
            json.dumps(second).encode(),
            b'{"type":"session"}',
            b"{}",
        ]
    )
    gzipped = client.post(
        f"/api/7/envelope/?sentry_key={signed.DSN_KEY}",
        content=gzip.compress(envelope),
        headers={"Content-Encoding": "gzip"},
    )

    assert stored.status_code == 200 and stored.json()["id"] == event["event_id"]
    assert gzipped.status_code == 200 and gzipped.json()["id"] == second["event_id"]
    [incident] = client.get("/incidents").json()["incidents"]
    assert (incident["project"], incident["count"], incident["source"]) == ("7", 2, "sentry_event")


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"),
    [
        ("/api/1/store/", b"{}", {}, 401, "missing DSN key"),
        ("/api/1/store/?sentry_key=wrong", b"{}", {}, 401, "unknown DSN key"),
        (f"/api/1/store/?sentry_key={signed.DSN_KEY}", b"{", {}, 400, "not valid JSON"),
        (f"/api/1/store/?sentry_key={signed.DSN_KEY}", b"{}", {}, 400, "no exception"),
        (
            f"/api/1/envelope/?sentry_key={signed.DSN_KEY}",
            b"not gzip",
            {"Content-Encoding": "gzip"},
            400,
            "not valid gzip",
        ),
        (
            f"/api/1/envelope/?sentry_key={signed.DSN_KEY}",
            b"{}",
            {"Content-Encoding": "zstd-9"},
            415,
            "unsupported Content-Encoding",
        ),
    ],
)
def test_bad_ingest_requests_get_4xx_with_the_reason(
    client: TestClient,
    settings: Settings,
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    reason: str,
) -> None:
    answer = client.post(path, content=body, headers=headers)

    assert answer.status_code == status
    assert reason in answer.json()["error"]
    assert stats(settings)["deliveries"] == 0


def test_garbage_at_every_endpoint_is_never_a_5xx(client: TestClient) -> None:
    bodies = [b"", b"\x00\xff", b"null", b"[]", b'{"data": null}', b"{" * 5000, b'"x"']
    paths = ["/webhooks/sentry", "/webhooks/pagerduty", "/webhooks/github", "/api/1/store/"]
    for path in paths:
        for body in bodies:
            answer = client.post(path, content=body, headers={"Sentry-Hook-Resource": "error"})
            assert 400 <= answer.status_code < 500, (path, body[:20], answer.text)
    for path in paths[:3]:
        for body in bodies:
            _, headers = signed.sentry({}, resource="error")
            headers |= {
                "Sentry-Hook-Signature": signed.sign(signed.SENTRY_SECRET, body),
                "X-PagerDuty-Signature": "v1=" + signed.sign(signed.PAGERDUTY_SECRET, body),
                "X-Hub-Signature-256": "sha256=" + signed.sign(signed.GITHUB_SECRET, body),
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": uuid.uuid4().hex,
            }
            answer = client.post(path, content=body, headers=headers)
            assert 400 <= answer.status_code < 500, (path, body[:20], answer.text)


def test_health_and_metrics(client: TestClient) -> None:
    signed.post_sentry(client, alert())
    signed.post_sentry(client, alert(), secret="forged")

    health = client.get("/healthz").json()
    metrics = client.get("/metrics").text

    assert health == {"ok": True, "worker": None, "queue": 1, "paused": []}
    assert 'fixloop_requests_total{endpoint="sentry",status="200"} 1' in metrics
    assert 'fixloop_requests_total{endpoint="sentry",status="401"} 1' in metrics
    assert 'fixloop_jobs{state="queued"} 1' in metrics
    assert "fixloop_incidents 1" in metrics
    assert client.get("/incidents/fx-nothing").status_code == 404


def test_an_oversized_body_is_413_before_anything_is_read(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agent.service.server.MAX_BODY_BYTES", 1000)
    body, headers = signed.sentry({"data": {"event": {"message": "x" * 2000}}})

    answer = client.post("/webhooks/sentry", content=body, headers=headers)

    assert answer.status_code == 413
    assert "over 1000 bytes" in answer.json()["error"]
    assert stats(settings)["deliveries"] == 0


def test_run_reads_share_one_checkpoint_store_and_see_later_runs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    real_open = runner.open_graph

    def counting(settings: Settings) -> Any:
        opened.append(settings.home)
        return real_open(settings)

    monkeypatch.setattr(runner, "open_graph", counting)
    with local_client(create_app(settings)) as client:
        missing = client.get(f"/incidents/{INCIDENT.id}")
        store_run(settings, stored_values())  # a worker elsewhere records the run
        shown = [client.get(f"/incidents/{INCIDENT.id}").json() for _ in range(3)]

    assert missing.status_code == 404
    assert [record["run"]["status"] for record in shown] == ["no_fix_found"] * 3
    assert opened == [settings.home], "the store is opened once, not per request"

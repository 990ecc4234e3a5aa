"""`fixloop serve` and each class of bad input the fuzzer found: never a 5xx, never a recount."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.requests import Request

from agent import wiring
from agent.service.server import create_app, uvicorn_options
from agent.settings import Settings
from evals import fuzz_payloads
from tests.support import signed
from tests.support.live_server import live_server
from tests.support.local_client import local_client
from tests.support.payloads import alert

DSN_AUTH = {"X-Sentry-Auth": f"Sentry sentry_key={signed.DSN_KEY}, sentry_version=7"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "state",
        sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
        pagerduty_webhook_secrets=[SecretStr(signed.PAGERDUTY_SECRET)],
        github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
        ingest_keys=[SecretStr(signed.DSN_KEY)],
        body_read_timeout=0.5,
        worker=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with local_client(create_app(settings), raise_server_exceptions=True) as test_client:
        yield test_client


def signed_sentry(body: bytes, **headers: str) -> dict[str, str]:
    return {
        "Sentry-Hook-Resource": "event_alert",
        "Sentry-Hook-Signature": signed.sign(signed.SENTRY_SECRET, body),
        "Sentry-Hook-Timestamp": str(int(time.time())),
    } | headers


def with_message(payload: dict[str, Any], message: str) -> dict[str, Any]:
    payload["data"]["event"]["message"] = message
    return payload


@pytest.mark.parametrize(
    "encode",
    [
        lambda payload: json.dumps(payload).encode(),
        lambda payload: json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"),
    ],
    ids=["escaped", "utf8-encoded-surrogate"],
)
def test_a_lone_surrogate_in_an_event_is_kept_as_replacement_text(
    client: TestClient, settings: Settings, encode: Any
) -> None:
    body = encode(with_message(alert(), "cannot open caf\udce9.txt"))
    answer = client.post("/webhooks/sentry", content=body, headers=signed_sentry(body))

    assert answer.status_code == 200, answer.text
    [incident] = client.get("/incidents").json()["incidents"]
    job_payload = client.get(f"/incidents/{incident['id']}").json()["incident"]["jobs"]
    assert job_payload and answer.json()["outcome"] == "new"
    stored = json.dumps(wiring.inbox(settings).claim("run").payload)  # type: ignore[union-attr]
    assert "caf\\ufffd.txt" in stored and "\\udce9" not in stored


def test_a_lone_surrogate_at_ingest_and_in_github_and_pagerduty_is_never_a_5xx(
    client: TestClient,
) -> None:
    event = alert()["data"]["event"] | {"message": "\udcff", "\udcff": "\ud800"}
    stored = client.post("/api/1/store/", content=json.dumps(event).encode(), headers=DSN_AUTH)
    pr = signed.pull_request("fx-\udcff")
    body, headers = signed.github("pull_request", pr)
    github = client.post("/webhooks/github", content=body, headers=headers)
    body, headers = signed.pagerduty(signed.page(incident="P\udcff"))
    pagerduty = client.post("/webhooks/pagerduty", content=body, headers=headers)

    assert stored.status_code == 200, stored.text
    assert github.status_code == 200 and github.json()["incident_id"] == "fx-\ufffd"
    assert pagerduty.status_code == 200, pagerduty.text


def test_a_body_that_is_not_utf8_is_400(client: TestClient) -> None:
    body = b'{"action": "created", "data": {"event": {"message": "caf\xe9"}}}'
    answer = client.post("/webhooks/sentry", content=body, headers=signed_sentry(body))

    assert answer.status_code == 400 and "not valid JSON" in answer.json()["error"]


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/webhooks/sentry", "Sentry-Hook-Signature"),
        ("/webhooks/pagerduty", "X-PagerDuty-Signature"),
        ("/webhooks/github", "X-Hub-Signature-256"),
        ("/api/1/store/", "X-Sentry-Auth"),
    ],
)
def test_a_non_ascii_byte_in_a_signature_or_key_header_is_401_and_the_connection_lives(
    settings: Settings, path: str, header: str
) -> None:
    value = {
        "Sentry-Hook-Signature": b"\xff" * 64,
        "X-PagerDuty-Signature": b"v1=\xe9",
        "X-Hub-Signature-256": b"sha256=\xff",
        "X-Sentry-Auth": b"Sentry sentry_key=caf\xe9, sentry_version=7",
    }[header]
    headers: dict[str, Any] = {
        "Sentry-Hook-Resource": "event_alert",
        "Sentry-Hook-Timestamp": str(int(time.time())),
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "1",
        header: value,
    }
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        refused = http.post(path, content=b"{}", headers=headers)
        health = http.get("/healthz")
        metrics = http.get("/metrics").text

    assert refused.status_code == 401, refused.text
    assert health.status_code == 200
    assert 'status="401"} 1' in metrics


@pytest.mark.parametrize("timestamp", ["nan", "NaN", "inf", "-inf", "1e999", "-nan"])
def test_a_timestamp_that_is_no_time_is_stale(client: TestClient, timestamp: str) -> None:
    body = json.dumps(alert()).encode()
    headers = signed_sentry(body, **{"Sentry-Hook-Timestamp": timestamp})
    answer = client.post("/webhooks/sentry", content=body, headers=headers)

    assert answer.status_code == 401 and "stale" in answer.json()["error"]


def test_an_event_without_an_id_replayed_under_new_request_ids_counts_once(
    client: TestClient, settings: Settings
) -> None:
    payload = alert()
    del payload["data"]["event"]["event_id"]
    answers = [
        signed.post_sentry(client, payload).json()["outcome"],
        signed.post_sentry(client, payload).json()["outcome"],
    ]
    event = alert()["data"]["event"]
    del event["event_id"]
    body = json.dumps(event).encode()
    ingested = [client.post("/api/1/store/", content=body, headers=DSN_AUTH) for _ in range(2)]

    assert answers == ["new", "duplicate_delivery"]
    assert ingested[0].json()["id"] == ingested[1].json()["id"]
    assert wiring.inbox(settings).stats()["events"] == 2


def test_a_github_redelivery_with_a_new_delivery_id_counts_once(
    client: TestClient, settings: Settings
) -> None:
    payload = signed.pull_request("fx-abc", "closed", merged=True)
    payload["pull_request"] |= {"id": 99, "updated_at": "2026-12-07T10:00:00Z"}
    first = client.post("/webhooks/github", content=b"", headers={})
    deliveries = [signed.github("pull_request", payload) for _ in range(2)]
    answers = [client.post("/webhooks/github", content=b, headers=h).json() for b, h in deliveries]
    later = payload | {"pull_request": payload["pull_request"] | {"updated_at": "2026-12-08"}}
    body, headers = signed.github("pull_request", later)
    another = client.post("/webhooks/github", content=body, headers=headers).json()

    assert first.status_code == 401
    assert [a["outcome"] for a in answers] == ["recorded", "duplicate_delivery"]
    assert another["outcome"] == "recorded"
    assert wiring.inbox(settings).stats()["jobs_queued"] == 2


def test_a_slow_body_is_408_after_the_read_timeout(settings: Settings) -> None:
    with live_server(create_app(settings)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /webhooks/sentry HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"
            )
            started = time.monotonic()
            answer = conn.recv(4096)
            waited = time.monotonic() - started
        metrics = httpx.get(f"{url}/metrics").text

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"not received within 0.5 s" in answer
    assert 0.4 < waited < 5
    assert 'fixloop_requests_total{endpoint="sentry",status="408"} 1' in metrics


def test_headers_sent_a_byte_at_a_time_are_408_after_the_header_timeout(
    settings: Settings,
) -> None:
    slow = settings.model_copy(update={"header_read_timeout": 0.5})
    app = create_app(slow)
    with live_server(app, **uvicorn_options(slow, app)) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            started = time.monotonic()
            answer = b""
            for byte in b"POST /webhooks/sentry HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the server closed the connection
                    break
                time.sleep(0.05)
                if time.monotonic() - started > 5:
                    break
            answer = conn.recv(4096)
            waited = time.monotonic() - started
        with socket.create_connection((host, int(port)), timeout=10) as idle:
            silent = idle.recv(4096)  # a connection that never sends a byte is closed too
        metrics = httpx.get(f"{url}/metrics").text

    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"headers not received within 0.5 s" in answer
    assert waited < 5, "the slow client did not hold the connection"
    assert silent.startswith(b"HTTP/1.1 408")
    assert 'fixloop_requests_total{endpoint="headers",status="408"} 2' in metrics


def test_every_error_status_is_counted_by_route_and_a_fault_is_a_500(
    settings: Settings,
) -> None:
    app: FastAPI = create_app(settings)

    async def fault(request: Request) -> None:
        raise RuntimeError("a server fault")

    app.router.add_route("/fault", fault, methods=["GET"], name="fault")
    with live_server(app) as url, httpx.Client(base_url=url) as http:
        statuses = [
            http.get("/fault").status_code,
            http.get("/healthz").status_code,
            http.get("/nowhere").status_code,
            http.get("/incidents", params={"limit": "x"}).status_code,
            http.put("/webhooks/sentry").status_code,
        ]
        metrics = http.get("/metrics").text

    assert statuses == [500, 200, 404, 422, 405]
    for endpoint, status in [
        ("fault", 500),
        ("unmatched", 404),
        ("incidents", 422),
        ("sentry", 405),
    ]:
        assert f'fixloop_requests_total{{endpoint="{endpoint}",status="{status}"}} 1' in metrics


def test_a_sample_of_the_fuzzers_signed_requests_gets_no_5xx(tmp_path: Path) -> None:
    secrets = fuzz_payloads.SECRETS
    fuzz_settings = Settings(
        home=tmp_path / "state",
        sentry_client_secret=SecretStr(secrets.sentry),
        pagerduty_webhook_secrets=[SecretStr(secrets.pagerduty)],
        github_webhook_secret=SecretStr(secrets.github),
        ingest_keys=[SecretStr(secrets.dsn_key)],
        worker=False,
    )
    answers: list[int] = []
    with local_client(create_app(fuzz_settings), raise_server_exceptions=True) as fuzz_client:

        @hypothesis.settings(max_examples=40, database=None, deadline=None, derandomize=True)
        @hypothesis.given(fuzz_payloads.signed_requests())
        def send(request: fuzz_payloads.SignedRequest) -> None:
            path, headers, body = request.ready(time.time())
            answer = fuzz_client.post(path, content=body, headers=headers)
            assert answer.status_code < 500, (path, answer.text)
            answers.append(answer.status_code)

        send()

    assert len(answers) == 40 and 200 in answers

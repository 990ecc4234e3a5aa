"""Private by default: incident data needs a token or the proxy's header, except from loopback;
webhooks stay public and signed, each secret a list for rotation."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent.service.access import refusal
from agent.service.server import create_app
from agent.settings import Settings
from tests.support import signed
from tests.support.payloads import alert
from tests.support.serve_process import serving, write_config

OUTSIDE = ("203.0.113.7", 40000)
TOKEN = "fixloop-access-token-1"


def _settings(tmp_path: Path, **changes: object) -> Settings:
    values: dict[str, object] = {
        "home": tmp_path / "state",
        "worker": False,
        "sentry_client_secret": SecretStr("old-sentry-secret"),
        "sentry_client_secrets": [SecretStr(signed.SENTRY_SECRET)],
        "github_webhook_secrets": [SecretStr("old-github-secret"), SecretStr(signed.GITHUB_SECRET)],
        "access_tokens": [SecretStr(TOKEN)],
    }
    return Settings(**(values | changes))


def test_private_paths_refuse_an_outside_client_without_a_token(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path)), client=OUTSIDE) as client:
        incident_id = signed.post_sentry(client, alert()).json()["incident_id"]
        bare = {path: client.get(path) for path in ("/incidents", f"/incidents/{incident_id}")}
        wrong = client.get("/incidents", headers={"Authorization": "Bearer guessed"})
        metrics = client.get("/metrics")
        schema = client.get("/openapi.json")
        good = client.get(f"/incidents/{incident_id}", headers={"Authorization": f"Bearer {TOKEN}"})
        probes = [client.get("/healthz").status_code, client.get("/readyz").status_code]

    assert {path: answer.status_code for path, answer in bare.items()} == {
        "/incidents": 401,
        f"/incidents/{incident_id}": 401,
    }
    assert "needs a token" in bare["/incidents"].json()["error"]
    assert bare["/incidents"].headers["www-authenticate"] == "Bearer"
    assert incident_id not in bare[f"/incidents/{incident_id}"].text
    assert wrong.status_code == 401 and "not one of access_tokens" in wrong.json()["error"]
    assert (metrics.status_code, schema.status_code) == (401, 401)
    assert good.status_code == 200 and good.json()["incident"]["id"] == incident_id
    assert probes == [200, 200]


def test_the_proxys_header_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, auth_proxy_header="X-Forwarded-User", trusted_proxies=["10.0.0.2"]
    )
    user = {"x-forwarded-user": "ana@acme.example", "x-forwarded-for": "198.51.100.4"}

    assert refusal(settings, "10.0.0.2", user) is None
    assert refusal(settings, "203.0.113.7", user) is not None
    assert refusal(settings, "10.0.0.2", {"x-forwarded-for": "198.51.100.4"}) is not None


def test_loopback_is_open_unless_a_proxy_forwarded_the_request_or_it_is_turned_off(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    closed = _settings(tmp_path, loopback_open=False)

    assert refusal(settings, "127.0.0.1", {}) is None
    assert refusal(settings, "::1", {}) is None
    assert refusal(settings, "127.0.0.1", {"x-forwarded-for": "198.51.100.4"}) is not None
    assert refusal(settings, "127.0.0.1", {"forwarded": "for=198.51.100.4"}) is not None
    assert refusal(closed, "127.0.0.1", {}) is not None
    assert refusal(settings, "testclient", {}) is not None


def test_every_sentry_and_github_secret_of_the_list_is_accepted(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path)), client=OUTSIDE) as client:
        sentry = [
            signed.post_sentry(client, alert(), secret=secret).status_code
            for secret in ("old-sentry-secret", signed.SENTRY_SECRET, "another")
        ]
        github = []
        for secret in ("old-github-secret", signed.GITHUB_SECRET, "another"):
            body, headers = signed.github("ping", {"zen": "hi"}, secret=secret)
            github.append(client.post("/webhooks/github", content=body, headers=headers))

    assert sentry == [200, 200, 401]
    assert [answer.status_code for answer in github] == [200, 200, 401]


def _outside_address() -> str | None:
    """This host's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.slow
def test_serve_answers_incidents_401_to_a_non_loopback_address(tmp_path: Path) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("this host has no address besides loopback")
    config = write_config(
        tmp_path / "fixloop.toml",
        {"worker": False, "access_tokens": [TOKEN], "sentry_client_secret": signed.SENTRY_SECRET},
        {},
    )
    with serving(tmp_path / "state", config, host="0.0.0.0") as served:
        outside = f"http://{address}:{served.port}/incidents"
        refused = httpx.get(outside, timeout=30)
        let_in = httpx.get(outside, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        local = httpx.get(served.url + "/incidents", timeout=30)
        webhook = httpx.post(f"http://{address}:{served.port}/webhooks/sentry", timeout=30)

    assert refused.status_code == 401
    assert (let_in.status_code, local.status_code) == (200, 200)
    assert webhook.status_code == 401 and webhook.json()["error"] == "missing Sentry-Hook-Signature"

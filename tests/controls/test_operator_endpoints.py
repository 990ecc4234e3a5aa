"""The pause endpoints of `fixloop serve`: authenticated, bad input refused with a reason, and
what they do shown in /healthz, /metrics and the run's status."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.service.server import create_app
from tests.controls.support import OPERATOR_TOKEN, crash, shop_settings
from tests.support.local_client import local_client

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def test_pause_needs_the_operator_token(tmp_path: Path, demo_repo: Path) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo)
    untokened = settings.model_copy(update={"operator_token": None})
    with TestClient(create_app(untokened)) as client:
        assert client.post("/controls/pause", headers=AUTH).status_code == 401
    with TestClient(create_app(settings)) as client:
        wrong = client.post("/controls/pause", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.post("/controls/unpause").status_code == 401
        assert client.get("/healthz").json()["paused"] == []


def test_bad_bodies_are_refused_with_a_reason(tmp_path: Path, demo_repo: Path) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo)
    with TestClient(create_app(settings)) as client:
        for body, reason in [
            (b"{not json", "body is not JSON"),
            (b"[1]", "body must be a JSON object"),
            (b'{"repo": 3}', "repo must be a string"),
            (b'{"repo": "web"}', "no repository table 'web' to pause (tables: shop)"),
        ]:
            answer = client.post("/controls/pause", content=body, headers=AUTH)
            assert answer.status_code == 400
            assert answer.json()["error"].startswith(reason)
        assert client.get("/healthz").json()["paused"] == []


def test_a_run_started_while_paused_holds_before_detect_until_unpaused(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo)
    payload = crash("h")
    with local_client(create_app(settings)) as client:
        paused = client.post(
            "/controls/pause",
            json={"repo": "shop", "reason": "migration", "by": "ana"},
            headers=AUTH,
        )
        assert paused.json()["paused"]["scope"] == "shop"
        summary = runner.run_incident(settings, demo_repo, parse_payload(payload), payload)
        assert summary["status"] == "paused"
        assert summary["ticket"] is None
        assert summary["held"]["before"] == "detect"
        assert summary["held"]["scope"] == "shop"
        metrics = client.get("/metrics").text
        assert 'fixloop_paused{scope="shop"} 1' in metrics
        assert 'fixloop_held_runs{status="paused"} 1' in metrics

        answer = client.post("/controls/unpause", json={"repo": "shop"}, headers=AUTH).json()
        assert answer == {"cleared": True, "queued": [summary["incident"]]}
        assert client.get("/healthz").json()["paused"] == []
    job = wiring.inbox(settings).claim("resume_held")
    assert job is not None and job.incident_id == summary["incident"]
    kinds = [e.kind for e in wiring.controls(settings).entries()]
    assert kinds == ["pause", "held_paused", "unpause"]

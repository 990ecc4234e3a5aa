"""One repository served by `fixloop serve` with the local forge: the demo's shop service,
whose project (4504) the Sentry alerts of `tests/fixtures` report. Distinct incidents are the
same crash reported under distinct crashing-function names (distinct fingerprints)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.service import runner
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.payloads import alert
from tests.support.sandbox import FAST

TABLE = "shop"
PROJECT = "4504"
OPERATOR_TOKEN = "operator-secret"


def shop_settings(home: Path, checkout: Path, **table: Any) -> Settings:
    return Settings(
        home=home,
        test_timeout=120,
        worker=False,
        pytest_args=FAST,
        sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
        operator_token=SecretStr(OPERATOR_TOKEN),
        repos={TABLE: {"checkout": checkout, "projects": [PROJECT], **table}},
    )


def crash(name: str) -> dict[str, Any]:
    """An event of incident `name`: a new event id each time, the same fingerprint."""
    return alert(uuid.uuid4().hex, function=f"average_basket_{name}")


def post(client: TestClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = signed.post_sentry(client, payload)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def drain(settings: Settings) -> int:
    return Worker(settings, wiring.inbox(settings)).drain()


def statuses(settings: Settings) -> dict[str, str]:
    return {run["incident"]: run["status"] for run in runner.list_incidents(settings)}

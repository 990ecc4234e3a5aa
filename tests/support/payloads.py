"""Incident payloads: the JSON files under `tests/fixtures/`, and Sentry alerts built from one."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from tests.support.paths import FIXTURES


def fixture_payload(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return payload


def alert(event_id: str | None = None, function: str | None = None) -> dict[str, Any]:
    """A Sentry `event_alert` webhook body; `function` renames the crashing frame's function."""
    payload = copy.deepcopy(fixture_payload("sentry_webhook_event_alert.json"))
    payload["data"]["event"]["event_id"] = event_id or uuid.uuid4().hex
    if function is not None:
        frames = payload["data"]["event"]["exception"]["values"][-1]["stacktrace"]["frames"]
        frames[-1]["function"] = function
    return payload

"""An incident whose project was not mapped stays open and counts repeats; `fixloop incidents`
lists it and closes it by hand; once the project is mapped, the next event runs to a PR.
Through `fixloop serve` and the real command line."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import signed
from tests.support.cli import fixloop
from tests.support.payloads import alert
from tests.support.serve_process import Served, serving, write_config

pytestmark = pytest.mark.slow


def _post(served: Served) -> dict[str, Any]:
    body, headers = signed.sentry(alert(uuid.uuid4().hex))
    answer = httpx.post(served.url + "/webhooks/sentry", content=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _settled(served: Served, incident_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        record = httpx.get(f"{served.url}/incidents/{incident_id}", timeout=30).json()
        jobs = record["incident"]["jobs"]
        if jobs and all(job["state"] in ("done", "failed") for job in jobs):
            return dict(record)
        time.sleep(1)
    raise AssertionError(served.log.read_text())


def test_unmapped_then_closed_by_hand_then_mapped_then_a_new_event_runs_to_a_pr(
    tmp_path: Path, demo_repo: Path
) -> None:
    home = tmp_path / "state"
    config = tmp_path / "fixloop.toml"
    top = {"sentry_client_secret": signed.SENTRY_SECRET, "test_timeout": 300}
    write_config(config, top, {})
    with serving(home, config) as served:
        first = _post(served)
        unmapped = _settled(served, first["incident_id"])
        repeat = _post(served)
    listed = fixloop(home, "--config", str(config), "incidents", "--state", "open", "--json")
    closed = fixloop(home, "--config", str(config), "incidents", "--close", first["incident_id"])
    again = fixloop(home, "--config", str(config), "incidents", "--close", first["incident_id"])
    unknown = fixloop(home, "--config", str(config), "incidents", "--close", "fx-000000000000")

    write_config(config, top, {"shop": {"checkout": str(demo_repo), "projects": ["4504"]}})
    with serving(home, config) as served:
        second = _post(served)
        ran = _settled(served, second["incident_id"])
    history = fixloop(home, "--config", str(config), "incidents", "--state", "closed", "--json")

    [job] = unmapped["incident"]["jobs"]
    assert job["outcome"] == (
        "no repository mapped for project '4504' (slug 'shop-service') (setting repos)"
    )
    assert (repeat["outcome"], repeat["incident_id"]) == ("repeat", first["incident_id"])
    [row] = json.loads(listed.stdout)["incidents"]
    assert (row["id"], row["count"], row["open"]) == (first["incident_id"], 2, True)
    assert closed.stdout.strip() == f"{first['incident_id']} closed (closed by hand)"
    assert again.returncode == 0
    assert again.stdout.strip() == f"{first['incident_id']} is already closed (closed by hand)"
    assert unknown.returncode == 2 and unknown.stderr.startswith("fixloop: no incident")
    assert second["outcome"] == "new" and second["incident_id"] != first["incident_id"]
    assert ran["run"]["status"] == "awaiting_review", ran["run"]["audit"]
    assert [r["id"] for r in json.loads(history.stdout)["incidents"]] == [first["incident_id"]]

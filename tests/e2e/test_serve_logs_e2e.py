"""`fixloop serve` as a platform team runs it: a project routed by its Sentry slug, Jira and
GitHub (fakes the real clients talk to), JSON logs. A signed webhook becomes a ticket and a
draft PR, and the log tells each step with the incident id."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import signed
from tests.support.fakes.jira import FakeJira
from tests.support.github_setup import FULL_NAME, TOKEN, github_for
from tests.support.payloads import alert
from tests.support.serve_process import Served, serving, write_config

pytestmark = pytest.mark.slow


def _wait_for_run(served: Served, incident_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        record = httpx.get(f"{served.url}/incidents/{incident_id}", timeout=30).json()
        jobs = record["incident"]["jobs"]
        if jobs and all(job["state"] in ("done", "failed") for job in jobs):
            return dict(record)
        time.sleep(1)
    raise AssertionError(f"the run of {incident_id} did not end: {served.log.read_text()}")


def test_a_webhook_routed_by_slug_to_a_pr_is_logged_step_by_step(
    tmp_path: Path, demo_repo: Path
) -> None:
    with github_for(demo_repo, tmp_path / "origin.git") as github, FakeJira("OPS") as jira:
        config = write_config(
            tmp_path / "fixloop.toml",
            {
                "log_format": "json",
                "test_timeout": 300,
                "sentry_client_secret": signed.SENTRY_SECRET,
                "forge": "github",
                "github_token": TOKEN,
                "github_api_url": github.fake.url,
                "tracker": "jira",
                "jira_url": jira.url,
                "jira_token": "jira-pat",
                "jira_project": "OPS",
            },
            {
                "shop": {
                    "checkout": str(demo_repo),
                    "projects": ["shop-service"],
                    "github_repo": FULL_NAME,
                    "github_remote_url": str(github.bare),
                }
            },
        )
        with serving(tmp_path / "state", config) as served:
            body, headers = signed.sentry(alert(uuid.uuid4().hex))
            answer = httpx.post(
                served.url + "/webhooks/sentry", content=body, headers=headers, timeout=30
            )
            incident_id = answer.json()["incident_id"]
            record = _wait_for_run(served, incident_id)
            ready = httpx.get(served.url + "/readyz", timeout=60).json()
        log = served.log_records()

    assert record["run"]["status"] == "awaiting_review", served.log.read_text()
    assert ready["checks"] == {
        "database": "ok",
        "queue": "ok",
        "jira OPS": "ok",
        f"github {FULL_NAME}": "ok",
    }
    mine = [r for r in log if r.get("incident") == incident_id]
    events = [r["event"] for r in mine]
    assert events[0] == "webhook" and mine[0]["outcome"] == "new"
    assert mine[0]["endpoint"] == "sentry" and mine[0]["status"] == 200
    assert "job_started" in events and events[-1] == "job_ended"
    assert mine[-1]["status"] == "awaiting_review" and mine[-1]["level"] == "info"
    steps = [r["node"] for r in mine if r["event"] == "step"]
    assert steps[:5] == ["detect", "ticket", "root_cause", "fix", "test"]
    assert "open_pr" in steps
    writes = {(r["system"], r["action"]) for r in mine if r["event"] == "outside_write"}
    assert {("jira", "ticket"), ("jira", "transition"), ("github", "open_pr")} <= writes
    assert all(r["time"].endswith("Z") for r in mine)
    assert jira.issues and github.fake.pulls

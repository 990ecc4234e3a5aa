"""The kill switch: a run paused between its proven fix and its PR writes nothing outside
fixloop, stays paused across restarts of `fixloop serve`, and after `fixloop unpause` opens
exactly one PR. Events that arrive while paused are all kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent import wiring
from agent.controls import places
from agent.service import runner
from agent.service.server import create_app
from agent.settings import Settings
from tests.controls.support import OPERATOR_TOKEN, crash, drain, post, shop_settings, statuses
from tests.support.cli import fixloop
from tests.support.local_client import local_client
from tests.support.sandbox import FAST
from tools.store.tables import pull_requests, ticket_comments, tickets

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _writes(settings: Settings) -> tuple[int, int, int]:
    """Tickets, ticket comments and PR records in the store."""
    with wiring.records_db(settings).transaction() as db:
        return tuple(  # type: ignore[return-value]
            db.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (tickets, ticket_comments, pull_requests)
        )


def test_a_run_paused_before_its_pr_survives_a_restart_and_opens_one_pr_after_unpause(
    tmp_path: Path, demo_repo: Path
) -> None:
    home = tmp_path / "state"
    # The first server holds every proven fix (no PR place), so the run stops after its fix.
    full = shop_settings(home, demo_repo, max_open_prs=0)
    with local_client(create_app(full)) as client:
        incident = post(client, crash("p"))["incident_id"]
        drain(full)
        assert statuses(full) == {incident: "deferred"}
        refused = client.post("/controls/pause", json={"reason": "bad deploy"})
        assert refused.status_code == 401
        paused = client.post(
            "/controls/pause", json={"reason": "bad deploy", "by": "ops"}, headers=AUTH
        )
        assert paused.status_code == 200, paused.text
    before = _writes(full)

    # A restarted server with places free: the run goes on, and stops at the pause.
    settings = shop_settings(home, demo_repo)
    with local_client(create_app(settings)) as client:
        assert [run["status"] for run in places.resume_deferred(settings)] == ["paused"]
        late = post(client, crash("q"))["incident_id"]
        assert post(client, crash("p"))["outcome"] == "repeat"
        drain(settings)
        health = client.get("/healthz").json()
    assert statuses(settings) == {incident: "paused", late: "paused"}
    assert _writes(settings) == before, "nothing is written to the tracker or the forge"
    held = runner.incident_status(settings, incident)["held"]
    assert (held["before"], held["by"], held["reason"]) == ("open_pr", "ops (http)", "bad deploy")
    assert [(p["scope"], p["by"], p["reason"]) for p in health["paused"]] == [
        ("*", "ops (http)", "bad deploy")
    ]

    with local_client(create_app(settings)) as client:  # restarted again: still paused
        assert client.get("/healthz").json()["paused"][0]["reason"] == "bad deploy"
        metrics = client.get("/metrics").text
    assert 'fixloop_paused{scope="*"} 1' in metrics
    assert 'fixloop_held_runs{status="paused"} 2' in metrics

    (tmp_path / "fixloop.toml").write_text(
        f"pytest_args = {json.dumps(FAST)}\ntest_timeout = 120\n"
        f'[repos.shop]\ncheckout = "{demo_repo}"\nprojects = ["4504"]\n'
    )
    unpaused = fixloop(home, "unpause", "--json", cwd=tmp_path)
    assert unpaused.returncode == 0, unpaused.stderr
    resumed = {run["incident"]: run for run in json.loads(unpaused.stdout)["runs"]}
    assert resumed[incident]["status"] == "awaiting_review"
    assert resumed[late]["status"] == "awaiting_review"

    again = fixloop(home, "unpause", "--json", cwd=tmp_path)
    assert json.loads(again.stdout) == {"cleared": False, "runs": []}
    with wiring.records_db(settings).transaction() as db:
        branches = db.execute(select(pull_requests.c.branch)).scalars().all()
    assert sorted(branches) == sorted([f"fixloop/{incident}", f"fixloop/{late}"])
    shown = fixloop(home, "status", cwd=tmp_path)
    assert incident in shown.stdout and late in shown.stdout
    assert wiring.inbox(settings).incident(incident)["count"] == 2  # type: ignore[index]
    audit = runner.incident_status(settings, incident)["audit"]
    assert any(e["node"] == "controls" and "paused by ops (http)" in e["why"] for e in audit)

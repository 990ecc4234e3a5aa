"""The automation level of a repository: `diagnose` puts the diagnosis and the proven change on
the ticket and opens no branch or PR; `off` records the events and does nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent import wiring
from agent.service import runner
from agent.service.server import create_app
from tests.controls.support import crash, drain, post, shop_settings, statuses
from tests.support.local_client import local_client
from tests.support.repo_builder import git
from tools.store.tables import events, pull_requests, tickets


@pytest.mark.slow
def test_diagnose_puts_a_suggested_diff_on_the_ticket_and_opens_no_branch_or_pr(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo, automation="diagnose")
    with local_client(create_app(settings)) as client:
        incident = post(client, crash("d"))["incident_id"]
        drain(settings)

    run = runner.incident_status(settings, incident)
    assert run["status"] == "diagnosed", run["audit"]
    assert run["finished"] is True and run["pr"] is None
    assert run["audit"][-1]["decided"] == "diagnosed"
    comments = wiring.tracker(settings.for_repo("shop")).comments(run["ticket"]["key"])
    assert any(c.startswith("## Diagnosis") and "average_basket" in c for c in comments)
    suggestion = next(c for c in comments if c.startswith("Suggested change"))
    assert "```diff" in suggestion and "+++ b/app/reports.py" in suggestion
    assert git(demo_repo, "for-each-ref", "refs/heads/fixloop") == ""
    with wiring.records_db(settings).transaction() as db:
        assert db.execute(select(func.count()).select_from(pull_requests)).scalar_one() == 0


def test_off_records_the_events_and_does_nothing_else(tmp_path: Path, demo_repo: Path) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo, automation="off")
    with local_client(create_app(settings)) as client:
        incident = post(client, crash("o"))["incident_id"]
        assert post(client, crash("o"))["outcome"] == "repeat"
        drain(settings)

    assert statuses(settings) == {incident: "recorded"}
    run = runner.incident_status(settings, incident)
    assert run["ticket"] is None and run["pr"] is None
    assert "automation is 'off' for repository shop" in run["audit"][0]["why"]
    with wiring.records_db(settings).transaction() as db:
        assert db.execute(select(func.count()).select_from(tickets)).scalar_one() == 0
        assert db.execute(select(func.count()).select_from(events)).scalar_one() == 2
    assert git(demo_repo, "for-each-ref", "refs/heads/fixloop") == ""

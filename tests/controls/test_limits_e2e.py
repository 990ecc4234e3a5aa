"""max_open_prs on the forge: a storm of proven fixes opens no more PRs than the limit; the
rest wait `deferred`, and the one with the most events goes first when a PR is closed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent import wiring
from agent.controls import places
from agent.service import runner
from agent.service.server import create_app
from tests.controls.support import crash, drain, post, shop_settings, statuses
from tests.support.local_client import local_client
from tools.store.tables import pull_requests, tickets

pytestmark = pytest.mark.slow


def test_eight_incidents_open_three_prs_and_the_busiest_deferred_one_goes_next(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = shop_settings(tmp_path / "state", demo_repo, max_open_prs=3)
    names = [f"n{i}" for i in range(8)]
    with local_client(create_app(settings)) as client:
        ids = {name: post(client, crash(name))["incident_id"] for name in names}
        for name, repeats in (("n6", 3), ("n4", 1)):
            for _ in range(repeats):
                assert post(client, crash(name))["outcome"] == "repeat"
        drain(settings)
        metrics = client.get("/metrics").text

    status = statuses(settings)
    assert sorted(status.values()) == ["awaiting_review"] * 3 + ["deferred"] * 5
    deferred = [name for name in names if status[ids[name]] == "deferred"]
    assert 'fixloop_held_runs{status="deferred"} 5' in metrics
    assert 'fixloop_control_decisions_total{kind="deferred"} 5' in metrics

    held = runner.incident_status(settings, ids[deferred[0]])
    assert held["held"]["limit"] == "max_open_prs"
    assert held["pr"] is None
    ticket = wiring.tracker(settings.for_repo("shop")).comments(held["ticket"]["key"])
    assert any("3 fixloop PRs are open, max_open_prs is 3" in comment for comment in ticket)

    # Nothing frees a place: letting them look again opens nothing.
    assert [run["status"] for run in places.resume_deferred(settings)] == ["deferred"]

    first = next(name for name in names if status[ids[name]] == "awaiting_review")
    forge = wiring.forge(settings.for_repo("shop"), wiring.open_repo(demo_repo))
    pr = runner.incident_status(settings, ids[first])["pr"]
    forge.close_pr(pr["id"], "closed by hand on the forge")

    resumed = places.resume_deferred(settings)
    assert [(run["incident"], run["status"]) for run in resumed] == [
        (ids["n6"], "awaiting_review"),
        (ids["n4"], "deferred"),
    ]
    after = statuses(settings)
    assert sorted(after.values()) == ["awaiting_review"] * 4 + ["deferred"] * 4
    assert forge.bot_pr_counts(places.EPOCH) == (3, 4)
    released = runner.incident_status(settings, ids["n6"])
    held_entry = next(e for e in released["audit"] if e["node"] == "controls")
    assert "max_open_prs is 3" in held_entry["why"]
    assert [e["node"] for e in released["audit"]].index("controls") < [
        e["node"] for e in released["audit"]
    ].index("open_pr")

    records = wiring.records_db(settings)
    with records.transaction() as db:
        assert db.execute(select(func.count()).select_from(tickets)).scalar_one() == 8
        assert db.execute(select(func.count()).select_from(pull_requests)).scalar_one() == 4

"""The whole graph, every node and adapter real: git, SQLite and PostgreSQL, tree-sitter, pytest,
bubblewrap."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from agent import wiring
from agent.domain import ReviewDecision
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.payloads import fixture_payload
from tests.support.repo_builder import RepoBuilder, git

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(store_settings: Settings) -> Settings:
    """Every test here runs with its checkpoints and records in SQLite, then in PostgreSQL."""
    return store_settings


def _run(settings: Settings, repo: Path, fixture: str) -> dict:
    payload = fixture_payload(fixture)
    return runner.run_incident(settings, repo, parse_payload(payload), payload)


def _worktrees(repo: Path) -> list[str]:
    return [line for line in git(repo, "worktree", "list").splitlines() if line]


def test_sentry_api_event_to_merged_verified_and_closed(
    settings: Settings, demo_repo: Path
) -> None:
    summary = _run(settings, demo_repo, "sentry_api_event.json")

    assert summary["status"] == "awaiting_review"
    assert summary["diagnosis"]["suspects"][0]["symbol"] == "average_basket"
    assert summary["diagnosis"]["suspect_commit"]["summary"] == "reports: simplify average_basket"
    assert summary["diagnosis"]["reproduction"]["reproduced"] is True
    pr = summary["pr"]
    assert pr["branch"] == f"fixloop/{summary['incident']}"
    assert git(demo_repo, "rev-parse", pr["branch"]) == pr["head_sha"]
    assert "+    if not orders:" in pr["diff"]
    assert [e["node"] for e in summary["audit"]] == [
        "detect",
        "ticket",
        "root_cause",
        "fix",
        "test",
        "open_pr",
    ]
    assert len(_worktrees(demo_repo)) == 1, "a worktree was left behind"

    closed = runner.review_pr(settings, pr["id"], ReviewDecision(action="merge", comment="ok"))

    assert closed["status"] == "closed"
    assert closed["verification"]["verified"] is True
    assert closed["ticket"]["status"] == "closed"
    assert "Resolved by pull request" in closed["ticket"]["resolution"]
    assert closed["pr"]["status"] == "merged"
    if settings.database_url is not None:
        stores = ("checkpoints.db", "records.db", "inbox.db")  # index.db: the code index's cache
        assert not [name for name in stores if (settings.home / name).exists()]
    assert git(demo_repo, "rev-parse", "main") == closed["pr"]["merge_sha"]
    store = wiring.error_store(settings)
    incident = parse_payload(fixture_payload("sentry_api_event.json"))
    assert store.resolved_at(incident.fingerprint) is not None


def test_approve_waits_and_reject_records_why(settings: Settings, demo_repo: Path) -> None:
    pr_id = _run(settings, demo_repo, "sentry_api_event.json")["pr"]["id"]

    approved = runner.review_pr(settings, pr_id, ReviewDecision(action="approve"))
    assert approved["status"] == "awaiting_review"
    assert approved["pr"]["status"] == "approved"

    rejected = runner.review_pr(
        settings, pr_id, ReviewDecision(action="reject", comment="fix it upstream")
    )
    assert rejected["status"] == "rejected"
    assert rejected["pr"]["status"] == "closed"
    assert rejected["ticket"]["status"] == "open"
    comments = wiring.tracker(settings).comments(rejected["ticket"]["key"])
    assert any("fix it upstream" in c for c in comments)
    assert git(demo_repo, "rev-parse", "--verify", rejected["pr"]["branch"])
    with pytest.raises(Exception, match="not awaiting review"):
        runner.review_pr(settings, pr_id, ReviewDecision(action="merge"))


def test_second_event_of_the_same_bug_is_a_duplicate(settings: Settings, demo_repo: Path) -> None:
    first = _run(settings, demo_repo, "sentry_api_event.json")
    second = _run(settings, demo_repo, "sentry_webhook_event_alert.json")

    assert first["incident"] != second["incident"]
    assert second["status"] == "duplicate"
    assert second["pr"] is None
    assert len(wiring.tracker(settings).all()) == 1
    assert any(second["incident"] in c for c in first_ticket_comments(settings))


def first_ticket_comments(settings: Settings) -> list[str]:
    tracker = wiring.tracker(settings)
    return tracker.comments(tracker.all()[0].key)


def test_running_the_same_event_twice_changes_nothing(settings: Settings, demo_repo: Path) -> None:
    first = _run(settings, demo_repo, "sentry_api_event.json")
    again = _run(settings, demo_repo, "sentry_api_event.json")
    assert again["status"] == "awaiting_review"
    assert again["pr"]["id"] == first["pr"]["id"]
    assert len(again["audit"]) == len(first["audit"])


def test_new_events_after_the_merge_mean_regressed(settings: Settings, demo_repo: Path) -> None:
    summary = _run(settings, demo_repo, "sentry_api_event.json")
    pr_id = summary["pr"]["id"]
    repo = wiring.open_repo(demo_repo)
    wiring.forge(settings, repo).merge(pr_id, "merged on the forge")
    recurrence = fixture_payload("sentry_webhook_event_alert.json")
    wiring.error_store(settings).record(parse_payload(recurrence), recurrence)

    result = runner.review_pr(settings, pr_id, ReviewDecision(action="merge"))

    assert result["status"] == "regressed"
    assert result["verification"]["new_events"] == 1
    assert result["ticket"]["status"] == "reopened"


INVENTORY = '''\
def stock_level(item: dict) -> int:
    """Units on hand; items without a count have none."""
    return item["quantity"] - item.get("reserved", 0)
'''

INVENTORY_TESTS = """\
from inventory import stock_level


def test_counts_reserved_units():
    assert stock_level({"quantity": 5, "reserved": 2}) == 3


def test_item_without_quantity_has_no_stock():
    assert stock_level({"sku": "A-1"}) == 0
"""


def _inventory_repo(path: Path, source: str = INVENTORY) -> Path:
    builder = RepoBuilder(path)
    builder.commit({"README.md": "inventory\n"}, "Initial commit")
    builder.commit({"inventory.py": source, "tests/test_inventory.py": INVENTORY_TESTS}, "Stock")
    return builder.path


def test_failing_test_on_main_is_fixed_with_that_test_as_proof(
    settings: Settings, tmp_path: Path
) -> None:
    repo = _inventory_repo(tmp_path / "inventory")
    failing = "tests/test_inventory.py::test_item_without_quantity_has_no_stock"
    payload = {"kind": "test_failure", "tests": [failing]}

    summary = runner.run_incident(settings, repo, parse_payload(payload), payload)

    assert summary["status"] == "awaiting_review", summary["audit"]
    assert summary["title"].startswith("KeyError")
    assert summary["proof"]["reproduction_before"] == "failed"
    assert summary["proof"]["reproduction_after"] == "passed"
    assert re.search(r"^\+.*item\.get\([\"']quantity[\"'], 0\)", summary["pr"]["diff"], re.M)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", summary["pr"]["branch"]], check=True)
    tests = subprocess.run(
        [settings.python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout
    git(repo, "checkout", "-q", "main")

    same_commit = runner.run_incident(settings, repo, parse_payload(payload), payload)
    assert same_commit["incident"] == summary["incident"]
    (repo / "README.md").write_text("inventory, documented\n")
    git(repo, "commit", "-qam", "Docs")
    next_commit = runner.run_incident(settings, repo, parse_payload(payload), payload)
    assert next_commit["incident"] != summary["incident"]
    assert next_commit["status"] == "duplicate"


def test_a_crash_no_template_can_fix_is_escalated(settings: Settings, tmp_path: Path) -> None:
    source = INVENTORY.replace(
        '    return item["quantity"]',
        '    raise ValueError("no quantity")\n    return item["quantity"]',
    )
    repo = _inventory_repo(tmp_path / "inventory", source)
    payload = {
        "kind": "test_failure",
        "tests": ["tests/test_inventory.py::test_counts_reserved_units"],
    }

    summary = runner.run_incident(settings, repo, parse_payload(payload), payload)

    assert summary["status"] == "no_fix_found"
    assert summary["pr"] is None
    comments = wiring.tracker(settings).comments(summary["ticket"]["key"])
    assert any("needs a human" in c for c in comments)


def test_passing_tests_are_not_actionable(settings: Settings, tmp_path: Path) -> None:
    repo = _inventory_repo(tmp_path / "inventory")
    payload = {
        "kind": "test_failure",
        "tests": ["tests/test_inventory.py::test_counts_reserved_units"],
    }

    summary = runner.run_incident(settings, repo, parse_payload(payload), payload)

    assert summary["status"] == "not_actionable"
    assert summary["ticket"] is None
    assert "do not fail" in summary["audit"][-1]["why"]


def test_library_only_frames_are_not_actionable(settings: Settings, demo_repo: Path) -> None:
    payload = fixture_payload("sentry_api_event.json")
    for frame in payload["entries"][0]["data"]["values"][0]["stacktrace"]["frames"]:
        frame["absPath"] = "/usr/local/lib/python3.11/site-packages/vendor/" + frame["filename"]
        frame["filename"] = "vendor/" + frame["filename"]
        frame["module"] = "vendor." + (frame["module"] or "x")
    summary = runner.run_incident(settings, demo_repo, parse_payload(payload), payload)

    assert summary["status"] == "not_actionable"
    assert wiring.tracker(settings).all() == []

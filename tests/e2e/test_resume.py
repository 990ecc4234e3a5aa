"""A run killed with SIGKILL anywhere resumes to exactly one ticket and one PR, with its
checkpoints and records in SQLite or in PostgreSQL."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.intake.payloads import parse_payload
from tests.support.cli import fixloop, fixloop_env, fixloop_json
from tests.support.paths import FIXTURES, ROOT
from tests.support.payloads import fixture_payload
from tools.store.database import open_database
from tools.store.tables import pull_requests, tickets

pytestmark = pytest.mark.slow

EVENT = FIXTURES / "sentry_api_event.json"


def _counts(home: Path, database_url: str | None) -> tuple[int, int]:
    """How many tickets and PR records the run's store holds."""
    records = open_database(database_url or home / "records.db", "records")
    with records.transaction() as db:
        return (
            db.execute(select(func.count()).select_from(tickets)).scalar_one(),
            db.execute(select(func.count()).select_from(pull_requests)).scalar_one(),
        )


def _assert_one_ticket_and_one_pr(
    home: Path, repo: Path, incident: str, database_url: str | None
) -> None:
    summary = fixloop_json(home, "resume", incident, database_url=database_url)
    assert summary["status"] == "awaiting_review", summary["audit"]
    assert _counts(home, database_url) == (1, 1)
    branch = summary["pr"]["branch"]
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", branch], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert head == summary["pr"]["head_sha"]
    again = fixloop_json(
        home, "run", "--repo", str(repo), "--event", str(EVENT), database_url=database_url
    )
    assert again["pr"]["id"] == summary["pr"]["id"]
    assert _counts(home, database_url) == (1, 1)


def test_killed_after_the_ticket_node_resumes_without_a_second_ticket(
    tmp_path: Path, demo_repo: Path, database_url: str | None
) -> None:
    home = tmp_path / "state"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.service.cli",
            "run",
            "--repo",
            str(demo_repo),
            "--event",
            str(EVENT),
        ],
        env=fixloop_env(home, database_url),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while (
        _counts(home, database_url)[0] == 0 and run.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL
    assert _counts(home, database_url) == (1, 0)

    incident = parse_payload(fixture_payload("sentry_api_event.json")).id
    _assert_one_ticket_and_one_pr(home, demo_repo, incident, database_url)


DIE_AFTER = """
import os, signal, sys, importlib
module, cls, method = sys.argv[1:4]
owner = getattr(importlib.import_module(module), cls)
original = getattr(owner, method)
def then_die(self, *args, **kwargs):
    result = original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner, method, then_die)
from agent.service.cli import main
sys.exit(main(sys.argv[4:]))
"""


@pytest.mark.parametrize(
    "side_effect",
    [
        ("tools.local_tracker", "LocalTracker", "ensure_ticket"),
        ("tools.local_forge", "LocalForge", "open_pr"),
    ],
    ids=["ticket-made-not-checkpointed", "pr-opened-not-checkpointed"],
)
def test_killed_between_a_side_effect_and_its_checkpoint_resumes_idempotently(
    tmp_path: Path, demo_repo: Path, side_effect: tuple[str, str, str], database_url: str | None
) -> None:
    home = tmp_path / "state"
    command = ["run", "--repo", str(demo_repo), "--event", str(EVENT)]
    killed = subprocess.run(
        [sys.executable, "-c", DIE_AFTER, *side_effect, *command],
        env=fixloop_env(home, database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    incident = parse_payload(fixture_payload("sentry_api_event.json")).id
    status = fixloop(home, "status", incident, "--json", database_url=database_url)
    assert json.loads(status.stdout)["status"] == "running"
    _assert_one_ticket_and_one_pr(home, demo_repo, incident, database_url)

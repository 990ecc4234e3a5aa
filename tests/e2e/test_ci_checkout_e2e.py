"""`fixloop run` on a checkout as CI leaves it: a shallow clone without tags, HEAD detached.
The fix branch grows from the commit checked out; the checkout itself is left as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.cli import fixloop_json
from tests.support.paths import FIXTURES
from tests.support.repo_builder import git

pytestmark = pytest.mark.slow

EVENT = FIXTURES / "sentry_api_event.json"


def test_run_opens_its_pr_from_the_detached_commit(tmp_path: Path, demo_repo: Path) -> None:
    checkout = tmp_path / "ci"
    subprocess.run(
        [
            "git",
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            f"file://{demo_repo}",
            str(checkout),
        ],
        check=True,
    )
    git(checkout, "checkout", "--quiet", "--detach", "HEAD")
    head = git(checkout, "rev-parse", "HEAD")

    summary = fixloop_json(
        tmp_path / "state", "run", "--repo", str(checkout), "--event", str(EVENT)
    )

    assert summary["status"] == "awaiting_review", summary["audit"]
    branch = summary["pr"]["branch"]
    assert branch.startswith("fixloop/")
    assert git(checkout, "rev-parse", f"{branch}^") == head
    assert summary["pr"]["base"] == head
    assert git(checkout, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"
    assert git(checkout, "rev-parse", "HEAD") == head
    assert git(checkout, "status", "--porcelain") == ""

"""No PR without a test that failed before the change, whatever the reproduction's trouble.

Each incident is a real sentry-sdk event of library-style code, run through the whole graph with
the template engine, which finds a candidate that breaks nothing. Without a test that fails like
the incident on the base commit, none opens a PR: the incident escalates, the best candidate goes
on the ticket as an unproven suggestion, and the audit says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event

pytestmark = pytest.mark.slow

STATS = """\
from dataclasses import dataclass, field


class Source:
    def __init__(self, rows):
        self._rows = rows

    def values(self):
        return [row["value"] for row in self._rows]


def average(source):
    values = source.values()
    return sum(values) / len(values)


@dataclass
class Basket:
    items: list
    returned: int = field(default=0, repr=False)


def per_item(basket):
    total = sum(basket.items)
    return total / (len(basket.items) - basket.returned)


def grid(top, right, bottom, left, rows, cols, gutter, width, height, dpi, scale):
    usable = width - left - right - gutter * (cols - 1)
    return usable / (cols * scale)
"""
SUITE = """\
from lib.stats import Basket, grid, per_item


def test_per_item():
    assert per_item(Basket([2, 4])) == 3


def test_grid():
    assert grid(0, 0, 0, 0, 1, 2, 0, 100, 50, 72, 1) == 50
"""
SETUP = "from lib.stats import *"


def escalated(tmp_path: Path, trigger: str) -> tuple[dict[str, Any], str]:
    """The run's summary and the ticket's last comment, for `trigger` crashing in production."""
    builder = RepoBuilder(tmp_path / "repo")
    files = {"lib/__init__.py": "", "lib/stats.py": STATS, "tests/test_stats.py": SUITE}
    builder.commit(files, "stats")
    payload = sentry_event(builder.path, SETUP, trigger)
    settings = Settings(home=tmp_path / "state", pytest_args=FAST, test_timeout=120)
    summary = runner.run_incident(settings, builder.path, parse_payload(payload), payload)
    assert summary["status"] == "escalated"
    assert summary.get("pr") is None
    assert "open_pr" not in [entry["node"] for entry in summary["audit"]]
    escalation = summary["audit"][-1]
    assert escalation["node"] == "escalate"
    assert "a pull request needs a test that failed before the change" in escalation["why"]
    comments = wiring.tracker(settings).comments(summary["ticket"]["key"])
    assert "### Suggested change: unproven" in comments[-1]
    assert "+    if " in comments[-1]  # the template engine's guard, as a diff
    return summary, next(e["why"] for e in summary["audit"] if e["node"] == "root_cause")


def test_an_incident_without_a_reproduction_escalates_with_a_suggestion(tmp_path: Path) -> None:
    summary, why = escalated(tmp_path, "average(Source([]))")
    assert summary["diagnosis"]["reproduction"] is None
    assert why.startswith("no reproduction could be built from the captured locals")
    assert "<lib.stats.Source object at 0x" in why
    assert "no fix can be proven (a suggestion at most)" in why


def test_a_reproduction_that_passes_on_the_base_commit_is_no_proof(tmp_path: Path) -> None:
    # The dataclass's repr leaves out `returned`: rebuilt, the basket does not crash.
    summary, why = escalated(tmp_path, "per_item(Basket([1, 2], returned=2))")
    reproduction = summary["diagnosis"]["reproduction"]
    assert reproduction["reproduced"] is False
    assert "per_item(basket=Basket(items=[1, 2]))" in reproduction["source"]
    assert why.startswith("reproduction: passes on the base commit")
    assert why.endswith("no fix can be proven (a suggestion at most)")
    root_cause = next(e for e in summary["audit"] if e["node"] == "root_cause")
    # The test deriving from test_per_item was tried too, with the same captured basket.
    assert [(a["way"], a["reproduced"]) for a in root_cause["data"]["reproduction_attempts"]] == [
        ("frame", False),
        ("derived_test", False),
    ]


def test_a_frame_cut_at_ten_variables_is_never_called(tmp_path: Path) -> None:
    summary, why = escalated(tmp_path, "grid(0, 0, 0, 0, 1, 2, 0, 100, 50, 72, 0)")
    assert summary["diagnosis"]["reproduction"] is None
    assert "parameter 'scale' was not captured (the reporter sent only 10" in why

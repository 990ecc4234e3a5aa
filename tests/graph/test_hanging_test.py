"""A reported failing test that hangs: cut at the per-test timeout, it becomes an incident with
the stack where it hung, and root cause ranks those frames (instead of the whole run's time
limit and `not_actionable`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder

pytestmark = pytest.mark.slow

PAGES = '''\
def pages(total, per_page):
    """How many pages of `per_page` items hold `total` items."""
    count = 0
    left = total
    while left != 0:
        left -= per_page
        count += 1
    return count
'''

PAGES_TESTS = """\
from paging import pages


def test_full_pages():
    assert pages(4, 2) == 2


def test_a_partial_page_counts():
    assert pages(5, 2) == 3
"""

REPORTED = "tests/test_paging.py::test_a_partial_page_counts"


def test_a_hanging_test_becomes_an_incident_with_the_stack_where_it_hung(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "paging")
    builder.commit({"README.md": "paging\n"}, "Initial commit")
    builder.commit({"paging.py": PAGES, "tests/test_paging.py": PAGES_TESTS}, "Paging")
    settings = Settings(
        home=tmp_path / "state", sandbox="auto", test_timeout=120, per_test_timeout=3
    )
    payload = {"kind": "test_failure", "tests": [REPORTED]}

    summary = runner.run_incident(settings, builder.path, parse_payload(payload), payload)

    state = runner.incident_state(settings, summary["incident"])
    assert summary["status"] != "not_actionable", state["audit"]
    crash = state["incident"]["exceptions"][-1]
    assert crash["type"] == "TestTimeout"
    test, hung = crash["frames"]
    assert (test["function"], test["context_line"]) == (
        "test_a_partial_page_counts",
        "    assert pages(5, 2) == 3",
    )
    assert hung["function"] == "pages" and 5 <= hung["lineno"] <= 7, hung
    assert hung["vars"]["per_page"] == "2"
    assert state["incident"]["title"].startswith("TestTimeout: ")
    suspects = state["diagnosis"]["suspects"]
    assert (suspects[0]["file"], suspects[0]["symbol"]) == ("paging.py", "pages")
    assert REPORTED in state["must_fix"]
    assert state["baseline"]["suite"]["outcomes"][REPORTED] == "timeout"
    assert not state["baseline"]["suite"]["timed_out"], "the hang cost the whole run"

"""Failing tests reported as people and CI write them resolve to the real failing node ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder, git
from tests.support.shop_tests import FAILING, shop_repo

pytestmark = pytest.mark.slow


def run(settings: Settings, repo: Path, tests: list[str]) -> dict[str, Any]:
    payload = {"kind": "test_failure", "tests": tests}
    return runner.run_incident(settings, repo, parse_payload(payload), payload)


def detect_entry(summary: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in summary["audit"] if e["node"] == "detect")
    return entry


def test_a_family_name_and_a_unittest_id_resolve_to_the_failing_node_ids(
    settings: Settings, tmp_path: Path
) -> None:
    repo = shop_repo(tmp_path / "shop")
    reported = ["test_unit_price", "tests.test_orders.OrderTest.test_empty_line_is_free"]

    summary = run(settings, repo, reported)

    detect = detect_entry(summary)
    assert detect["decided"] == "actionable", detect
    assert detect["data"]["reported_tests"] == reported
    assert detect["data"]["failing_tests"] == FAILING
    assert summary["title"].startswith("ZeroDivisionError")
    assert summary["title"].endswith(FAILING[0])
    assert any(entry["node"] == "root_cause" for entry in summary["audit"])


def test_unittest_failure_lines_and_a_file_alone(settings: Settings, tmp_path: Path) -> None:
    repo = shop_repo(tmp_path / "shop")
    reported = [
        "test_empty_line_is_free (tests.test_orders.OrderTest.test_empty_line_is_free)",
        "tests/test_pricing.py",
    ]

    detect = detect_entry(run(settings, repo, reported))

    assert detect["data"]["failing_tests"] == [FAILING[1], FAILING[0]]


def test_an_id_that_names_nothing_is_not_actionable_and_named(
    settings: Settings, tmp_path: Path
) -> None:
    repo = shop_repo(tmp_path / "shop")

    summary = run(settings, repo, ["test_unit_price", "tests.test_orders.OrderTest.test_gone"])

    assert summary["status"] == "not_actionable"
    assert summary["ticket"] is None
    why = summary["audit"][-1]["why"]
    assert "'tests.test_orders.OrderTest.test_gone'" in why
    assert "test_unit_price'" not in why
    assert "5 tests" in why


def test_a_reported_file_outside_the_test_paths_is_collected_on_its_own(
    settings: Settings, tmp_path: Path
) -> None:
    repo = shop_repo(tmp_path / "shop")
    extra = "from shop.pricing import unit_price\n\n\ndef test_free():\n    unit_price(0, 0)\n"
    (repo / "checks").mkdir()
    (repo / "checks" / "test_free.py").write_text(extra)
    git(repo, "add", "checks")
    git(repo, "commit", "-qm", "A check outside the test paths")
    only_tests = settings.model_copy(update={"test_paths": ["tests"]})

    detect = detect_entry(
        run(only_tests, repo, ["checks/test_free.py::test_free", "test_unit_price"])
    )

    assert detect["data"]["failing_tests"] == ["checks/test_free.py::test_free", FAILING[0]]


def test_a_repository_without_tests_says_nothing_was_collected(
    settings: Settings, tmp_path: Path
) -> None:
    builder = RepoBuilder(tmp_path / "bare")
    builder.commit({"shop/pricing.py": "def f():\n    return 1\n"}, "No tests yet")

    summary = run(settings, builder.path, ["tests/test_pricing.py::test_f"])

    assert summary["status"] == "not_actionable"
    why = summary["audit"][-1]["why"]
    assert "pytest collected no test" in why
    assert "'tests/test_pricing.py::test_f'" in why

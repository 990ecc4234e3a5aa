"""Failing tests reported as people and CI write them resolve to the real failing node ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.intake.payloads import parse_payload
from agent.service import runner
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder

pytestmark = pytest.mark.slow

PRICING = '''\
def unit_price(total: float, quantity: int) -> float:
    """The price of one unit of an order line."""
    return total / quantity
'''
PRICING_TESTS = """\
import pytest

from shop.pricing import unit_price


@pytest.mark.parametrize(("total", "quantity", "expected"), [(10, 2, 5), (0, 0, 0), (9, 3, 3)])
def test_unit_price(total, quantity, expected):
    assert unit_price(total, quantity) == expected
"""
ORDER_TESTS = """\
import unittest

from shop.pricing import unit_price


class OrderTest(unittest.TestCase):
    def test_empty_line_is_free(self):
        self.assertEqual(unit_price(0, 0), 0)

    def test_line(self):
        self.assertEqual(unit_price(8, 4), 2)
"""
FAILING = [
    "tests/test_pricing.py::test_unit_price[0-0-0]",
    "tests/test_orders.py::OrderTest::test_empty_line_is_free",
]


def shop_repo(path: Path) -> Path:
    builder = RepoBuilder(path)
    builder.commit({"README.md": "shop\n"}, "Initial commit")
    files = {
        "shop/__init__.py": "",
        "shop/pricing.py": PRICING,
        "tests/__init__.py": "",
        "tests/test_pricing.py": PRICING_TESTS,
        "tests/test_orders.py": ORDER_TESTS,
    }
    builder.commit(files, "Unit prices")
    return builder.path


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

"""A small shop whose suite fails on the base commit: a parametrized case and a unittest case."""

from __future__ import annotations

from pathlib import Path

from tests.support.repo_builder import RepoBuilder

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

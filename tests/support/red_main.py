"""A repository whose last commit on main breaks a test that passed on its parent."""

from __future__ import annotations

from pathlib import Path

from tests.support.repo_builder import RepoBuilder

INVENTORY = '''\
def stock_level(item: dict) -> int:
    """Units on hand; items without a count have none."""
    return item.get("quantity", 0) - item.get("reserved", 0)
'''

INVENTORY_TESTS = """\
from inventory import stock_level


def test_counts_reserved_units():
    assert stock_level({"quantity": 5, "reserved": 2}) == 3


def test_item_without_quantity_has_no_stock():
    assert stock_level({"sku": "A-1"}) == 0
"""

BROKEN_TEST = "tests/test_inventory.py::test_item_without_quantity_has_no_stock"


def red_inventory_repo(path: Path) -> tuple[Path, str]:
    """The repository and its red commit (the head of main): `BROKEN_TEST` fails with a
    KeyError there and passes on the parent."""
    builder = RepoBuilder(path)
    builder.commit({"README.md": "inventory\n"}, "Initial commit")
    builder.commit({"inventory.py": INVENTORY, "tests/test_inventory.py": INVENTORY_TESTS}, "Stock")
    red = builder.commit(
        {"inventory.py": INVENTORY.replace('item.get("quantity", 0)', 'item["quantity"]')},
        "Read the quantity directly",
    )
    return builder.path, red

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

WARMING_TEST = """\
from pathlib import Path


def test_cache_warms_up():
    marker = Path(__file__).with_name(".warm")
    if not marker.exists():
        marker.write_text("warm")
        raise AssertionError("cold cache")
"""
"""Fails once in a fresh checkout, then passes: flaky, the way a test that depends on state left
behind by an earlier run is. The state is a file in the worktree, which the sandbox may write."""

BROKEN_TEST = "tests/test_inventory.py::test_item_without_quantity_has_no_stock"
FLAKY_TEST = "tests/test_cache.py::test_cache_warms_up"


def red_inventory_repo(path: Path, flaky: bool = False) -> tuple[Path, str]:
    """The repository and its red commit (the head of main): `BROKEN_TEST` fails with a
    KeyError there and passes on the parent; with `flaky`, the commit also makes `FLAKY_TEST`
    flaky (it passed on the parent)."""
    builder = RepoBuilder(path)
    builder.commit({"README.md": "inventory\n"}, "Initial commit")
    builder.commit(
        {
            "inventory.py": INVENTORY,
            "tests/test_inventory.py": INVENTORY_TESTS,
            "tests/test_cache.py": "def test_cache_warms_up():\n    pass\n",
        },
        "Stock",
    )
    red = builder.commit(
        {
            "inventory.py": INVENTORY.replace('item.get("quantity", 0)', 'item["quantity"]'),
            **({"tests/test_cache.py": WARMING_TEST} if flaky else {}),
        },
        "Read the quantity directly",
    )
    return builder.path, red

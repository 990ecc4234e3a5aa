"""Calls resolved through the caller's scopes and imports, never by bare name alone."""

from __future__ import annotations

import pytest

from agent import wiring
from agent.diagnosis.calls import imports_of, resolve
from agent.diagnosis.frames import RepoFiles
from agent.domain import Reference, Symbol
from agent.ports import CodeIndex
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder

FILES = {
    "src/shop/__init__.py": "",
    "src/shop/rates.py": "def rate_for(region):\n    return 0.2\n",
    "src/shop/cart.py": (
        "class Cart:\n"
        "    def total(self):\n"
        "        return 1\n"
        "\n"
        "    def average(self):\n"
        "        return self.total() / 2\n"
    ),
    "src/shop/plot.py": "class Plot:\n    def append(self, x):\n        return x\n",
    "src/shop/report.py": (
        "from shop import rates\n"
        "from .cart import Cart as Basket\n"
        "from shop.rates import rate_for as lookup\n"
        "\n"
        "\n"
        "def summary(items, region):\n"
        "    rows = []\n"
        "    rows.append(lookup(region))\n"
        "    basket = Basket()\n"
        "    rows.append(basket.total() * rates.rate_for(region))\n"
        "    return helper(rows)\n"
        "\n"
        "\n"
        "def helper(rows):\n"
        "    return rows\n"
    ),
}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[CodeIndex, str]:
    root = tmp_path_factory.mktemp("calls")
    builder = RepoBuilder(root / "repo")
    sha = builder.commit(dict(FILES), "shop")
    _, index = wiring.repo_and_index(Settings(home=root / "home"), builder.path)
    return index, sha


def resolved(
    indexed: tuple[CodeIndex, str], path: str, line: int, name: str, scope: str | None
) -> list[str]:
    index, sha = indexed
    imports = imports_of(FILES[path], path)
    files = RepoFiles(set(FILES))

    def symbols(file: str) -> list[Symbol]:
        return index.symbols(sha, file)

    call = Reference(name=name, path=path, line=line, scope=scope)
    text = FILES[path].splitlines()
    found = resolve(call, text, imports, symbols, files.module_file)
    return [f"{symbol.path}:{symbol.qualname}" for symbol in found]


def test_an_imported_name_an_alias_and_a_module_attribute(indexed: tuple[CodeIndex, str]) -> None:
    assert resolved(indexed, "src/shop/report.py", 8, "lookup", "summary") == [
        "src/shop/rates.py:rate_for"
    ]
    assert resolved(indexed, "src/shop/report.py", 10, "rate_for", "summary") == [
        "src/shop/rates.py:rate_for"
    ]
    assert resolved(indexed, "src/shop/report.py", 11, "helper", "summary") == [
        "src/shop/report.py:helper"
    ]


def test_a_method_of_a_local_object_made_from_an_imported_class(
    indexed: tuple[CodeIndex, str],
) -> None:
    assert resolved(indexed, "src/shop/report.py", 10, "total", "summary") == [
        "src/shop/cart.py:Cart.total"
    ]


def test_self_calls_resolve_in_the_enclosing_class(indexed: tuple[CodeIndex, str]) -> None:
    assert resolved(indexed, "src/shop/cart.py", 6, "total", "Cart.average") == [
        "src/shop/cart.py:Cart.total"
    ]


def test_a_method_of_an_object_of_unknown_type_is_not_guessed(
    indexed: tuple[CodeIndex, str],
) -> None:
    # `rows.append` is a list's: the repository's Plot.append never ran.
    assert resolved(indexed, "src/shop/report.py", 8, "append", "summary") == []
    assert resolved(indexed, "src/shop/report.py", 10, "append", "summary") == []

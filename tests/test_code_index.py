"""TreeSitterIndex with the real grammar over real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.repo_builder import RepoBuilder
from tools.code_index import TreeSitterIndex
from tools.git_repo import GitRepo

FIXTURES = Path(__file__).parent / "fixtures" / "code_index"
SAMPLE = (FIXTURES / "sample.py").read_text()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(
        {"pkg/sample.py": SAMPLE, "pkg/other.py": "def one():\n    return 1\n", "README.md": "x\n"},
        "Initial commit",
    )
    builder.commit({"pkg/other.py": "def one():\n    return 2\n"}, "Change other")
    builder.commit({"pkg/copy.py": SAMPLE}, "Copy sample")
    return GitRepo(builder.path)


def test_golden_symbols_of_the_sample_module(repo: GitRepo) -> None:
    symbols = TreeSitterIndex(repo).symbols("HEAD", "pkg/sample.py")
    expected = json.loads((FIXTURES / "sample.symbols.json").read_text())
    assert [s.model_dump(exclude={"path"}) for s in symbols] == expected
    assert {s.path for s in symbols} == {"pkg/sample.py"}


def test_enclosing_prefers_the_innermost_function(repo: GitRepo) -> None:
    index = TreeSitterIndex(repo)

    def qualname(line: int) -> str | None:
        symbol = index.enclosing("HEAD", "pkg/sample.py", line)
        return symbol.qualname if symbol else None

    assert qualname(30) == "Cart.total.add"
    assert qualname(32) == "Cart.total"
    assert qualname(27) == "Cart.total"  # the decorator line belongs to the method
    assert qualname(35) == "Cart.empty"
    assert qualname(22) == "Cart"  # a class attribute: no function, so the class
    assert qualname(54) == "outer.inner.innermost"
    assert qualname(60) == "outer.Local.method"
    assert qualname(3) is None
    assert qualname(500) is None


def test_files_without_symbols(repo: GitRepo) -> None:
    index = TreeSitterIndex(repo)
    assert index.symbols("HEAD", "README.md") == []
    assert index.symbols("HEAD", "pkg/missing.py") == []
    assert index.enclosing("HEAD", "pkg/missing.py", 1) is None
    assert index.parse_count == 0


def test_unchanged_blobs_are_parsed_once(repo: GitRepo) -> None:
    index = TreeSitterIndex(repo)
    first = index.symbols("HEAD~2", "pkg/sample.py")
    index.symbols("HEAD~2", "pkg/other.py")
    assert index.parse_count == 2

    # pkg/sample.py did not change in the next two commits; pkg/copy.py is the same blob.
    assert index.symbols("HEAD~1", "pkg/sample.py") == first
    assert index.symbols("HEAD", "pkg/sample.py") == first
    copy = index.symbols("HEAD", "pkg/copy.py")
    assert [s.qualname for s in copy] == [s.qualname for s in first]
    assert {s.path for s in copy} == {"pkg/copy.py"}
    assert index.parse_count == 2

    # pkg/other.py changed, so its new blob is parsed.
    assert index.symbols("HEAD", "pkg/other.py")[0].qualname == "one"
    assert index.parse_count == 3


def test_sqlite_cache_survives_a_new_index(repo: GitRepo, tmp_path: Path) -> None:
    cache_path = tmp_path / "state" / "symbols.sqlite"
    warm = TreeSitterIndex(repo, cache_path=cache_path)
    expected = warm.symbols("HEAD", "pkg/sample.py")
    assert warm.parse_count == 1

    cold = TreeSitterIndex(repo, cache_path=cache_path)
    assert cold.symbols("HEAD~1", "pkg/sample.py") == expected
    assert cold.enclosing("HEAD", "pkg/sample.py", 30) is not None
    assert cold.parse_count == 0

"""TreeSitterIndex with the real grammar over real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from agent.errors import RepoError
from tests.support.paths import FIXTURES
from tests.support.repo_builder import RepoBuilder
from tools.code_index import DirectoryTree, TreeSitterIndex
from tools.git_repo import GitRepo

CODE_INDEX = FIXTURES / "code_index"
SAMPLE = (CODE_INDEX / "sample.py").read_text()


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
    expected = json.loads((CODE_INDEX / "sample.symbols.json").read_text())
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


def _many_files(count: int) -> dict[str, str]:
    files = {
        f"pkg/mod{n}.py": f"def f{n}(x):\n    return g{n}(x)\n\n\nclass C{n}:\n    def m(self):\n"
        f"        return f{n}(1)\n"
        for n in range(count)
    }
    files["web/app.js"] = "function start() {\n  return f0(1);\n}\n"
    return files


def test_a_new_commit_reparses_only_changed_files(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(_many_files(12), "Twelve modules and a script")
    builder.commit({"pkg/mod3.py": "def changed():\n    return 3\n", "NOTES.md": "x\n"}, "One")
    cache_path = tmp_path / "state" / "index.db"

    first = TreeSitterIndex(GitRepo(builder.path), cache_path=cache_path).index("HEAD~1")
    assert (first.files, first.parsed, first.symbols) == (13, 13, 12 * 3 + 1)
    assert first.lines == 12 * 7 + 3

    index = TreeSitterIndex(GitRepo(builder.path), cache_path=cache_path)
    second = index.index("HEAD")
    assert (second.files, second.parsed, second.symbols) == (13, 1, 11 * 3 + 1 + 1)
    assert index.parse_count == 1
    assert index.index("HEAD").parsed == 0


def test_worker_processes_find_what_one_process_finds(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(_many_files(40), "Forty modules")
    repo = GitRepo(builder.path)
    serial = TreeSitterIndex(repo, workers=1)
    parallel = TreeSitterIndex(repo, workers=2, parallel_from=8)

    serial_stats, parallel_stats = serial.index("HEAD"), parallel.index("HEAD")
    assert (serial_stats.workers, parallel_stats.workers) == (1, 2)
    assert parallel_stats.worker_peak_mb > 0
    assert parallel.parse_count == serial.parse_count == 41
    for path in ("pkg/mod7.py", "web/app.js"):
        assert parallel.symbols("HEAD", path) == serial.symbols("HEAD", path)
        assert parallel.references("HEAD", path) == serial.references("HEAD", path)
    assert parallel.parse_count == 41  # the per-file questions were answered from memory


def test_callers_and_definitions_across_the_tree(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(_many_files(3), "Three modules")
    index = TreeSitterIndex(GitRepo(builder.path))

    callers = index.callers("HEAD", "pkg/mod0.py", "f0")
    assert [(r.path, r.line, r.scope) for r in callers] == [
        ("pkg/mod0.py", 7, "C0.m"),
        ("web/app.js", 2, "start"),
    ]
    assert [s.path for s in index.definitions("HEAD", "m")] == [f"pkg/mod{n}.py" for n in range(3)]
    assert index.callers("HEAD", "pkg/mod0.py", "missing") == []
    assert [r.name for r in index.callees("HEAD", "pkg/mod1.py", "f1")] == ["g1"]


def _age(path: Path, seconds: float = 60) -> None:
    """Make a file look written a while ago (outside the stat cache's racy window)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_a_plain_directory_is_keyed_by_gits_blob_ids(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    for name, text in _many_files(3).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for skipped in (".venv/lib/x.py", "__pycache__/y.py", "node_modules/z.js", "vendor/v.py"):
        (root / skipped).parent.mkdir(parents=True, exist_ok=True)
        (root / skipped).write_text("def hidden():\n    pass\n")
    tree = DirectoryTree(root, exclude=["vendor"])
    assert tree.tracked_files("") == ["pkg/mod0.py", "pkg/mod1.py", "pkg/mod2.py", "web/app.js"]
    hashed = subprocess.run(
        ["git", "hash-object", str(root / "pkg/mod1.py")], capture_output=True, text=True
    )
    assert tree.blob_id("", "pkg/mod1.py") == hashed.stdout.strip()
    assert tree.blob_id("", "pkg/missing.py") is None
    assert tree.blob_id("", "../outside.py") is None

    index = TreeSitterIndex(tree)
    assert index.index("").parsed == 4
    assert index.enclosing("", "pkg/mod2.py", 7).qualname == "C2.m"  # type: ignore[union-attr]


def test_a_plain_directory_rehashes_only_files_whose_size_or_mtime_moved(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "a.py").write_text("def a():\n    return 1\n")
    (root / "b.py").write_text("def b():\n    return 2\n")
    for name in ("a.py", "b.py"):
        _age(root / name)
    cache_path = tmp_path / "state" / "index.db"
    first = TreeSitterIndex(DirectoryTree(root, stat_cache=cache_path), cache_path=cache_path)
    assert first.index("").parsed == 2

    # Same size and the same mtime: the remembered blob id is trusted (as git trusts its
    # index), so the file is not read. Any move of the mtime makes it read again.
    remembered = (root / "a.py").stat().st_mtime_ns
    (root / "a.py").write_text("def a():\n    return 9\n")
    os.utime(root / "a.py", ns=(remembered, remembered))
    trusted = TreeSitterIndex(DirectoryTree(root, stat_cache=cache_path), cache_path=cache_path)
    assert trusted.index("").parsed == 0
    _age(root / "a.py", 30)
    moved = TreeSitterIndex(DirectoryTree(root, stat_cache=cache_path), cache_path=cache_path)
    assert moved.index("").parsed == 1

    # A file written just now is hashed every time, whatever its stat says.
    (root / "b.py").write_text("def c():\n    return 2\n")
    fresh = TreeSitterIndex(DirectoryTree(root, stat_cache=cache_path), cache_path=cache_path)
    assert fresh.index("").parsed == 1
    assert [s.name for s in fresh.symbols("", "b.py")] == ["c"]
    again = TreeSitterIndex(DirectoryTree(root, stat_cache=cache_path), cache_path=cache_path)
    assert again.index("").parsed == 0


def test_a_missing_directory_is_a_repo_error(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match="not a directory"):
        DirectoryTree(tmp_path / "nowhere")

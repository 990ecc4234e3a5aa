"""`fixloop index`: the real command line over a real git repository and a plain directory."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import fixloop
from tests.support.repo_builder import RepoBuilder

MODULE = (
    "class Shop:\n    def buy(self, item):\n        return price(item)\n\n\n"
    "def price(x):\n    return 1\n"
)


def test_index_a_git_repository_with_stats_then_from_the_cache(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    first = builder.commit({"shop.py": MODULE, "web/app.ts": "function go(): void {}\n"}, "one")
    builder.commit({"shop.py": MODULE + "\n\ndef refund():\n    return 0\n"}, "two")
    home = tmp_path / "state"

    result = fixloop(home, "index", str(builder.path), "--stats")
    assert result.returncode == 0, result.stderr
    report = result.stdout
    assert f"index of {builder.path} at " in report
    for line in ("files        2", "lines        12", "symbols      5", "parsed       2"):
        assert line in report
    assert "seconds" in report and "peak memory" in report and " MB" in report

    cached = json.loads(fixloop(home, "index", str(builder.path), "--json").stdout)
    assert (cached["files"], cached["symbols"], cached["parsed"]) == (2, 5, 0)
    assert cached["peak_memory_mb"] > 0

    older = json.loads(fixloop(home, "index", str(builder.path), "--rev", first, "--json").stdout)
    assert (older["rev"], older["symbols"], older["parsed"]) == (first, 4, 1)


def test_index_a_plain_directory(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "vendor").mkdir(parents=True)
    (root / "shop.py").write_text(MODULE)
    (root / "vendor" / "lib.py").write_text(MODULE)
    result = fixloop(tmp_path / "state", "index", str(root), "--exclude", "vendor")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("indexed 1 files (1 parsed): 7 lines, 3 symbols in ")


def test_index_refuses_what_it_cannot_index_in_one_line(tmp_path: Path) -> None:
    missing = fixloop(tmp_path / "state", "index", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"fixloop: not a directory: {tmp_path / 'nowhere'}"
    plain = fixloop(tmp_path / "state", "index", str(tmp_path), "--rev", "HEAD")
    assert plain.returncode == 2
    assert "is not a git repository, so it has no revision HEAD" in plain.stderr
    assert "Traceback" not in missing.stderr + plain.stderr

"""`fixloop diagnose --json` on every captured traceback shape: the sample application whose
crashes produced them (tests/fixtures/tracebacks/shapes/sample) is the repository, and the
function at fault ranks first whatever shape the traceback arrived in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import fixloop
from tests.support.paths import FIXTURES
from tests.support.repo_builder import RepoBuilder

SHAPES = FIXTURES / "tracebacks" / "shapes"
RATES = "src/tallykit/rates.py"

EXPECTED = {
    # fmean of no rates: the innermost frame of tallykit's own code.
    "python_plain.txt": (RATES, "average_rate"),
    "installed.txt": (RATES, "average_rate"),
    "repl_stdin.txt": (RATES, "average_rate"),
    "doctest.txt": (RATES, "average_rate"),
    "elided.txt": (RATES, "average_rate"),
    "path_cut.txt": (RATES, "average_rate"),
    "ipython9_neutral.txt": (RATES, "average_rate"),
    "ipython9_nocolor.txt": (RATES, "average_rate"),
    "ipython9_cell.txt": (RATES, "average_rate"),
    "ipython7_linux.txt": (RATES, "average_rate"),
    "ipython7_nocolor.txt": (RATES, "average_rate"),
    # An entry without a rate, raised in the comprehension of billable_rates.
    "pytest_long.txt": (RATES, "billable_rates"),
    "pytest_short.txt": (RATES, "billable_rates"),
    "pytest_line.txt": (RATES, "billable_rates"),
    "pytest_native.txt": (RATES, "billable_rates"),
    "unittest.txt": (RATES, "billable_rates"),
    # Two sub-exceptions: the one raised in tallykit's code ranks before the one raised in
    # the standard library.
    "exception_group.txt": (RATES, "billable_rates"),
    "python_recursion.txt": ("src/tallykit/teams.py", "chain_of_command"),
    "last_frame_only.txt": ("src/tallykit/teams.py", "chain_of_command"),
    # A chain: the ValueError that summarize_strict raises from the StatisticsError.
    "python_cause.txt": (RATES, "average_rate"),
    "python_during_handling.txt": (RATES, "average_rate"),
    "markdown_report.md": (RATES, "average_rate"),
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    builder = RepoBuilder(tmp_path_factory.mktemp("tallykit"))
    root = SHAPES / "sample"
    files = {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
    builder.commit(files, "tallykit 0.3.0")
    return builder.path


def test_every_fixture_has_its_expectation() -> None:
    captured = {path.name for path in SHAPES.iterdir() if path.suffix in (".txt", ".md")}
    assert captured == set(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_function_at_fault_ranks_first(sample: Path, name: str, tmp_path: Path) -> None:
    event = tmp_path / ("report.txt" if name.endswith(".md") else name)
    event.write_text((SHAPES / name).read_text())
    result = fixloop(
        tmp_path / "home", "diagnose", "--repo", str(sample), "--event", str(event), "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "diagnosed", report["reason"]
    top = report["diagnosis"]["suspects"][0]
    assert (top["file"], top["symbol"]) == EXPECTED[name]

"""A mutant suite built into cases: a small library's releases from a local package index, the
suite run under per-test coverage, mutants kept only when a test catches them, a crash replayed
through the real sentry-sdk, the other catching tests kept out of the visible suite."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from evals.builders.mutants import build_mutants
from evals.case import load_case
from evals.suite import load_suite
from tests.support.tiny_index import index, write_spec

pytestmark = [pytest.mark.slow, pytest.mark.nightly]
__all__ = ["index"]


def write_suite(directory: Path, patterns: list[str]) -> Path:
    path = directory / "suite.toml"
    path.write_text(
        'real = "."\nseed = 3\nquota = 1\ntries = 4\nprojects = ["tinysize-1.1"]\n'
        f"patterns = {json.dumps(patterns)}\n\n[floor]\ncorrect = 1\n"
    )
    return path


def test_a_caught_mutant_becomes_a_case_replayed_as_a_crash(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, hashes = index
    write_spec(tmp_path, hashes, "tests/test_mean.py::test_mean_of_nothing")
    suite = write_suite(tmp_path, ["negation", "swap-arguments"])
    built = build_mutants(suite, tmp_path / "cache", url, log=lambda line: None)

    (case_dir,) = built  # the library has no call with two arguments to swap
    assert isinstance(case_dir, Path)
    case = load_case(case_dir)
    assert case.id.startswith("tinysize-negation-")
    assert case.gold is not None and (case.gold.file, case.gold.function) == (
        "tinysize/__init__.py",
        "mean",
    )
    assert case.extra["mutation"]["original"] == "if not values:"
    assert case.extra["mutation"]["mutated"] == "if values:"
    # Both tests catch it; the incident's (the crash) is reported. The other would be kept out
    # of sight, but pytest deselects by node id prefix and `test_mean` starts
    # `test_mean_of_nothing`: deselecting it would hide the incident's test too, so it stays.
    assert case.extra["mutation"]["incident_test"] == "tests/test_mean.py::test_mean_of_nothing"
    assert case.extra["mutation"]["catching_tests"] == 2
    assert case.test_command == "python -m pytest -q tests"
    assert case.hidden_test_command == "python -m pytest -q tests"

    event = json.loads(case.incident_file.read_text())
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ZeroDivisionError"
    crash = exception["stacktrace"]["frames"][-1]
    assert crash["abs_path"] == "/srv/app/tinysize/__init__.py" and crash["function"] == "mean"
    assert crash["vars"]["values"] == []

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(case.bundle), str(clone)], check=True)
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log == ["Release 1.2", "Release 1.1"]
    tags = subprocess.run(["git", "tag"], cwd=clone, capture_output=True, text=True, check=True)
    assert tags.stdout.split() == ["v1.1", "v1.2"]
    assert "    if values:\n" in (clone / "tinysize" / "__init__.py").read_text()

    stamp = (case_dir / "repo.bundle").stat().st_mtime_ns
    assert build_mutants(suite, tmp_path / "cache", url, log=lambda line: None) == [case_dir]
    assert (case_dir / "repo.bundle").stat().st_mtime_ns == stamp

    assert load_suite(suite).cases == [suite] and load_suite(suite).floor == {"correct": 1}


def test_a_mutant_no_test_catches_is_not_kept(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, hashes = index
    write_spec(tmp_path, hashes, "tests/test_mean.py::test_mean_of_nothing")
    # 0 -> 1 in `return 0` is caught by test_mean_of_nothing; `not` dropped too: both kept.
    suite = write_suite(tmp_path, ["numeric-literal"])
    (case_dir,) = build_mutants(suite, tmp_path / "cache", url, log=lambda line: None)
    assert isinstance(case_dir, Path)
    case = load_case(case_dir)
    assert case.extra["mutation"]["mutated"] == "return 1"
    incident = json.loads(case.incident_file.read_text())
    assert incident["kind"] == "test_failure"
    assert incident["tests"] == ["tests/test_mean.py::test_mean_of_nothing"]
    decisions = next((tmp_path / "cache" / "mutants" / "projects").glob("*/decisions-*.json"))
    assert json.loads(decisions.read_text())

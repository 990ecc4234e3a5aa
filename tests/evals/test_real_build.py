"""A real-bug spec built into a case: sdists from a package index (a local one here, serving
three releases of a small library written for this test), the release history in git, the
witness checked on both releases, a crash captured by the real sentry-sdk, the cache reused.

The case's own environment is installed from the registry by pip, as for every real case."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from evals.builders.real import RealCaseError, materialize
from evals.case import load_case
from tests.support.tiny_index import index, write_spec

__all__ = ["index"]

pytestmark = [pytest.mark.slow, pytest.mark.nightly]


def test_a_spec_builds_into_a_case_with_history_event_and_hidden_tests(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, hashes = index
    spec = write_spec(tmp_path, hashes, "tests/test_mean.py::test_mean_of_nothing")
    case_dir = materialize(spec, tmp_path / "cache", url)

    case = load_case(case_dir)
    assert case.python is not None and Path(case.python).is_file()
    assert case.gold is not None and (case.gold.function, case.gold.lines) == ("mean", (1, 3))
    assert case.hidden_test_command == "python -m pytest -q -p no:cacheprovider tests/test_mean.py"
    assert "test_mean_of_nothing" in (case_dir / "hidden" / "tests" / "test_mean.py").read_text()

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(case.bundle), str(clone)], check=True)
    log = subprocess.run(
        ["git", "log", "--format=%s %D"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert [line.split(" ")[1] for line in log] == ["1.1", "1.0"]
    assert "tag: v1.1" in log[0] and "tag: v1.0" in log[1]
    assert "test_mean_of_nothing" not in (clone / "tests" / "test_mean.py").read_text()
    assert (
        case.gold.commit
        == subprocess.run(
            ["git", "rev-parse", "v1.1"], cwd=clone, capture_output=True, text=True, check=True
        ).stdout.strip()
    )

    event = json.loads(case.incident_file.read_text())
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ZeroDivisionError"
    crash = exception["stacktrace"]["frames"][-1]
    assert crash["abs_path"] == "/srv/app/tinysize/__init__.py"
    assert crash["function"] == "mean" and crash["vars"]["total"] == "0"

    stamp = (case_dir / "repo.bundle").stat().st_mtime_ns
    assert materialize(spec, tmp_path / "cache", url) == case_dir
    assert (case_dir / "repo.bundle").stat().st_mtime_ns == stamp


def test_a_witness_that_passes_on_the_buggy_release_is_refused(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, hashes = index
    spec = write_spec(tmp_path, hashes, "tests/test_mean.py::test_mean")
    with pytest.raises(RealCaseError, match="do not fail"):
        materialize(spec, tmp_path / "cache", url)


def test_a_pinned_sha256_the_index_does_not_serve_is_refused(
    index: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, hashes = index
    spec = write_spec(tmp_path, {**hashes, "1.2": "0" * 64}, "tests/test_mean.py::test_mean")
    with pytest.raises(RealCaseError, match="sha256"):
        materialize(spec, tmp_path / "cache", url)

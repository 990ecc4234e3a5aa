"""A mutant suite file: read with its real-bug specs, found in its directory, refused with one
line when malformed, and taken by `--suite` with its floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.builders.mutants import (
    MUTANTS_DIR,
    is_mutant_spec,
    load_mutant_suite,
    spec_files,
)
from evals.builders.mutations import PATTERNS
from evals.builders.real import RealCaseError
from evals.runner import _suite_name
from evals.suite import load_suite

REPO = Path(__file__).resolve().parents[2]


def test_the_committed_suites_name_real_specs_and_every_pattern() -> None:
    suite = load_mutant_suite(MUTANTS_DIR / "suite.toml")
    assert suite.patterns == PATTERNS
    assert len({spec.project for spec in suite.projects}) >= 8
    assert suite.quota * len(suite.projects) >= 20  # the 20 per pattern, where they allow
    ci = load_mutant_suite(REPO / "evals" / "ci-mutants.toml")
    assert ci.seed == suite.seed and ci.quota * len(ci.patterns) * len(ci.projects) <= 20
    assert {spec.id for spec in ci.projects} <= {spec.id for spec in suite.projects}
    assert spec_files(MUTANTS_DIR) == [MUTANTS_DIR / "suite.toml"]
    assert _suite_name(REPO / "evals" / "ci-mutants.toml") == "mutants"


def test_a_suite_file_that_is_a_mutant_suite_keeps_its_floor(tmp_path: Path) -> None:
    path = tmp_path / "ci.toml"
    path.write_text(
        "seed = 1\nquota = 1\ntries = 2\nprojects = []\n\n[floor]\ntop1 = 3\ncorrect = 1\n"
    )
    assert is_mutant_spec(path)
    suite = load_suite(path)
    assert suite.cases == [path] and suite.floor == {"top1": 3, "correct": 1}


def test_an_unknown_pattern_or_a_missing_key_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.toml"
    path.write_text('seed = 1\nquota = 1\ntries = 2\nprojects = []\npatterns = ["typo"]\n')
    with pytest.raises(RealCaseError, match="unknown patterns \\['typo'\\]"):
        load_mutant_suite(path)
    path.write_text("quota = 1\nprojects = []\n")
    with pytest.raises(RealCaseError, match="missing or malformed key 'seed'"):
        load_mutant_suite(path)
    path.write_text('seed = 1\nquota = 1\ntries = 2\nprojects = ["no-such-spec"]\n')
    with pytest.raises(RealCaseError, match=r"no-such-spec\.toml"):
        load_mutant_suite(path)
    assert not is_mutant_spec(tmp_path / "absent.toml")

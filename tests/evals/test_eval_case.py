"""Reading case directories: the format of evals/README.md, and one-line errors for bad ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals.case import CaseError, find_cases, load_case, parse_pytest_command

GOOD_TOML = """\
id = "web-none"
title = "AttributeError on a guest checkout"
expect = "fix"
tags = ["crash", "none-attribute", "python", "web-handler"]
test_command = "python -m pytest -q tests"
hidden_test_command = "python -m pytest -q tests/test_hidden.py"

[gold]
file = "app/cart.py"
function = "Cart.total"
lines = [10, 18]
commit = "abc123"
"""


def _case(root: Path, toml: str = GOOD_TOML, name: str = "web-none") -> Path:
    case = root / name
    case.mkdir(parents=True)
    (case / "case.toml").write_text(toml)
    (case / "repo.bundle").write_bytes(b"bundle")
    (case / "incident.json").write_text("{}")
    return case


def test_a_case_reads_with_gold_tags_and_commands(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path))
    assert (case.id, case.expect, case.bug_class, case.app, case.kind) == (
        "web-none",
        "fix",
        "none-attribute",
        "web-handler",
        "crash",
    )
    assert case.gold is not None
    assert (case.gold.file, case.gold.function, case.gold.lines, case.gold.commit) == (
        "app/cart.py",
        "Cart.total",
        (10, 18),
        "abc123",
    )
    assert case.setup is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('expect = "fix"', 'expect = "maybe"'), "expect is 'maybe'"),
        (lambda t: t.replace('id = "web-none"\n', ""), "id is missing"),
        (lambda t: t.replace('python -m pytest -q tests"', 'make test"'), "not a pytest command"),
        (lambda t: t.replace("lines = [10, 18]", "lines = [10]"), "lines must be [first, last]"),
        (lambda t: t + "oops = [", "case.toml"),
    ],
)
def test_a_bad_case_toml_is_one_clear_line(tmp_path: Path, change: object, message: str) -> None:
    assert callable(change)
    with pytest.raises(CaseError, match=re.escape(message)):
        load_case(_case(tmp_path, change(GOOD_TOML)))


def test_a_case_without_its_bundle_is_refused(tmp_path: Path) -> None:
    case = _case(tmp_path)
    (case / "repo.bundle").unlink()
    with pytest.raises(CaseError, match=r"missing repo\.bundle"):
        load_case(case)


def test_cases_are_found_in_a_directory_of_cases_or_one_case(tmp_path: Path) -> None:
    first = _case(tmp_path / "corpus", name="b-case")
    second = _case(tmp_path / "corpus", name="a-case")
    (tmp_path / "corpus" / "notes").mkdir()
    assert find_cases([tmp_path / "corpus"]) == [second.resolve(), first.resolve()]
    assert find_cases([first, tmp_path / "corpus"]) == [first.resolve(), second.resolve()]
    with pytest.raises(CaseError, match="no such case directory"):
        find_cases([tmp_path / "nowhere"])
    with pytest.raises(CaseError, match="neither a case"):
        find_cases([tmp_path / "corpus" / "notes"])


@pytest.mark.parametrize(
    ("command", "options", "paths"),
    [
        ("python -m pytest -q tests", ["-q"], ["tests"]),
        ("pytest", [], []),
        (
            "python3 -m pytest -k 'not slow' -x tests/unit tests/api",
            ["-k", "not slow", "-x"],
            ["tests/unit", "tests/api"],
        ),
        (
            "pytest --maxfail=1 -p no:cacheprovider t.py::test_a",
            ["--maxfail=1", "-p", "no:cacheprovider"],
            ["t.py::test_a"],
        ),
    ],
)
def test_pytest_commands_split_into_options_and_paths(
    command: str, options: list[str], paths: list[str]
) -> None:
    parsed = parse_pytest_command(command)
    assert (parsed.options, parsed.paths) == (options, paths)


def test_a_case_digest_changes_with_any_file(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path))
    before = case.digest()
    (case.path / "incident.json").write_text('{"changed": true}')
    assert case.digest() != before

"""Guardrails: each rule refuses with a reason naming the path; a normal fix passes."""

from __future__ import annotations

import pytest

from agent.domain import FileChange, Patch
from agent.guardrails.policy import DEFAULT_TEST_GLOBS, Policy, Verdict, check, glob_match
from agent.repair.diffs import make_patch
from agent.settings import DEFAULT_FORBIDDEN_PATHS, Settings

SOURCE = '''def average_basket(orders: list[dict]) -> float:
    """Mean order total in cents over the given orders."""
    total = sum(order["total_cents"] for order in orders)
    return total / len(orders)
'''
FIXED = SOURCE.replace(
    "    return total / len(orders)\n",
    "    if not orders:\n        return 0.0\n    return total / len(orders)\n",
)

TESTS = """import pytest

from app.reports import average_basket


def test_average_basket():
    assert average_basket([{"total_cents": 100}, {"total_cents": 300}]) == 200.0


class TestEmpty:
    def test_empty(self):
        assert average_basket([]) == 0.0

    def test_raises_on_none(self):
        with pytest.raises(TypeError):
            average_basket(None)
"""


def patch_of(*changes: tuple[str, str, str]) -> Patch:
    files = [FileChange(path=path, before=before, after=after) for path, before, after in changes]
    return make_patch("templates", "A fix", "Because.", files)


def verdict(path: str, before: str, after: str, policy: Policy | None = None) -> Verdict:
    return check(patch_of((path, before, after)), policy or Policy())


def refused(result: Verdict, path: str, words: str) -> None:
    assert not result.allowed
    assert any(path in reason and words in reason for reason in result.reasons), result.reasons


def test_a_normal_source_fix_passes() -> None:
    result = verdict("app/reports.py", SOURCE, FIXED)
    assert result == Verdict(allowed=True, reasons=[])


def test_adding_a_test_passes() -> None:
    more = TESTS + "\n\ndef test_one():\n    assert average_basket([{'total_cents': 5}]) == 5.0\n"
    assert verdict("tests/test_reports.py", TESTS, more).allowed


def test_policy_from_settings() -> None:
    settings = Settings(
        allowed_paths=["app/**"],
        forbidden_paths=["app/secret.py"],
        max_diff_lines=7,
    )
    policy = Policy.from_settings(settings)
    assert policy.allowed_paths == ["app/**"]
    assert policy.forbidden_paths == ["app/secret.py"]
    assert policy.max_diff_lines == 7
    assert policy.test_globs == DEFAULT_TEST_GLOBS
    assert Policy().forbidden_paths == DEFAULT_FORBIDDEN_PATHS


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/app/reports.py", "absolute"),
        ("../other/app.py", "'..'"),
        ("app/../../x.py", "'..'"),
        ("app/./reports.py", "not normalised"),
        ("app//reports.py", "not normalised"),
        (".git/hooks/pre-commit", ".git"),
        ("vendor/.git/config", ".git"),
        ("app\\reports.py", "backslashes"),
    ],
)
def test_bad_paths_are_refused(path: str, words: str) -> None:
    refused(verdict(path, "x = 1\n", "x = 2\n"), path, words)


def test_empty_path_is_refused() -> None:
    result = verdict("", "x = 1\n", "x = 2\n")
    assert not result.allowed and "empty" in result.reasons[0]


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        "config/.env",
        ".env.production",
        "deploy/server.pem",
        "poetry.lock",
        "requirements-dev.txt",
        "app/migrations/0002_orders.py",
        "config/secrets.yaml",
    ],
)
def test_forbidden_paths_are_refused(path: str) -> None:
    refused(verdict(path, "a = 1\n", "a = 2\n"), path, "forbidden")


def test_paths_outside_the_allowed_globs_are_refused() -> None:
    policy = Policy(allowed_paths=["app/**", "lib/*.py"])
    assert verdict("app/reports.py", SOURCE, FIXED, policy).allowed
    assert verdict("lib/util.py", "a = 1\n", "a = 2\n", policy).allowed
    refused(verdict("lib/deep/util.py", "a = 1\n", "a = 2\n", policy), "lib/deep/util.py", "none")
    refused(verdict("setup.py", "a = 1\n", "a = 2\n", policy), "setup.py", "allowed")


def test_a_diff_over_the_limit_is_refused() -> None:
    before = "".join(f"x{n} = {n}\n" for n in range(30))
    after = "".join(f"x{n} = {n + 1}\n" for n in range(30))
    refused(verdict("app/big.py", before, after), "app/big.py", "60 lines")
    assert verdict("app/big.py", before, after, Policy(max_diff_lines=60)).allowed


def test_size_counts_every_file() -> None:
    before = "".join(f"x{n} = {n}\n" for n in range(15))
    after = "".join(f"x{n} = {n + 1}\n" for n in range(15))
    patch = patch_of(("app/a.py", before, after), ("app/b.py", before, after))
    result = check(patch, Policy())
    assert not result.allowed and "app/a.py, app/b.py" in result.reasons[0]


def test_emptying_a_file_is_refused() -> None:
    refused(verdict("app/reports.py", SOURCE, ""), "app/reports.py", "deletes or empties")
    refused(verdict("app/reports.py", SOURCE, "\n  \n"), "app/reports.py", "deletes or empties")


def test_deleting_a_test_file_is_refused() -> None:
    refused(verdict("tests/test_reports.py", TESTS, ""), "tests/test_reports.py", "test file")


def test_removing_a_test_function_is_refused() -> None:
    after = TESTS.replace("def test_empty(self):", "def helper_empty(self):")
    refused(verdict("tests/test_reports.py", TESTS, after), "tests/test_reports.py", "TestEmpty")


def test_removing_a_test_class_is_refused() -> None:
    after = TESTS[: TESTS.index("class TestEmpty")]
    result = verdict("tests/test_reports.py", TESTS, after)
    refused(result, "tests/test_reports.py", "removes the test TestEmpty from")


def test_removing_an_assert_is_refused() -> None:
    after = TESTS.replace(
        "        assert average_basket([]) == 0.0\n", "        average_basket([])\n"
    )
    refused(verdict("tests/test_reports.py", TESTS, after), "tests/test_reports.py", "assertion")


def test_loosening_an_assert_is_refused() -> None:
    after = TESTS.replace("assert average_basket([]) == 0.0", "assert average_basket([]) >= 0.0")
    result = verdict("tests/test_reports.py", TESTS, after)
    refused(result, "tests/test_reports.py", "TestEmpty.test_empty")


def test_removing_pytest_raises_is_refused() -> None:
    after = TESTS.replace(
        "        with pytest.raises(TypeError):\n            average_basket(None)\n",
        "        average_basket([])\n",
    )
    refused(verdict("tests/test_reports.py", TESTS, after), "tests/test_reports.py", "raises")


@pytest.mark.parametrize(
    "marker",
    [
        "@pytest.mark.skip(reason='later')\n",
        "@pytest.mark.skipif(True, reason='no')\n",
        "@pytest.mark.xfail\n",
        "@unittest.skip('flaky')\n",
    ],
)
def test_adding_a_skip_marker_is_refused(marker: str) -> None:
    after = TESTS.replace("def test_average_basket", marker + "def test_average_basket")
    refused(verdict("tests/test_reports.py", TESTS, after), "tests/test_reports.py", "adds")


def test_adding_a_skip_call_is_refused() -> None:
    after = TESTS.replace(
        "    def test_empty(self):\n", "    def test_empty(self):\n        pytest.skip('no')\n"
    )
    refused(verdict("tests/test_reports.py", TESTS, after), "tests/test_reports.py", "pytest.skip")


def test_adding_an_imported_skip_is_refused() -> None:
    before = "from pytest import skip\n\n\ndef test_a():\n    assert 1\n"
    after = before.replace("def test_a():\n", "def test_a():\n    skip('x')\n")
    refused(verdict("app/tests_test.py", before, after), "app/tests_test.py", "adds skip")


def test_rules_for_tests_apply_to_conftest_and_test_suffix_files() -> None:
    before = "def test_x():\n    assert True\n"
    for path in ("conftest.py", "pkg/conftest.py", "pkg/orders_test.py", "pkg/test_orders.py"):
        refused(verdict(path, before, "def helper():\n    pass\n"), path, "removes the test")


def test_a_broken_test_file_is_refused() -> None:
    refused(
        verdict("tests/test_reports.py", TESTS, TESTS + "def (:\n"),
        "tests/test_reports.py",
        "unparseable",
    )


def test_source_files_may_drop_asserts() -> None:
    before = "def f(x):\n    assert x\n    return x\n"
    assert verdict("app/f.py", before, "def f(x):\n    return x\n").allowed


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("app/reports.py", "**", True),
        ("reports.py", "**/*.py", True),
        ("app/deep/reports.py", "**/*.py", True),
        ("app/reports.py", "*.py", False),
        ("reports.py", "*.py", True),
        ("app/reports.py", "app/*.py", True),
        ("app/sub/reports.py", "app/*.py", False),
        ("app/sub/reports.py", "app/**/*.py", True),
        ("app/reports.py", "app/**/*.py", True),
        ("tests", "tests/**", True),
        ("tests/unit/test_a.py", "tests/**", True),
        ("testsuite/a.py", "tests/**", False),
        ("migrations/0001.py", "**/migrations/**", True),
        ("app/migrations/0001.py", "**/migrations/**", True),
        ("app/migrations_old.py", "**/migrations/**", False),
        (".env", "**/.env", True),
        ("deploy/.env", "**/.env", True),
        ("deploy/.envrc", "**/.env", False),
        ("a1.py", "a?.py", True),
        ("a/1.py", "a?.py", False),
        ("a1.py", "a[0-9].py", True),
        ("ab.py", "a[!0-9].py", True),
        ("a1.py", "a[!0-9].py", False),
        ("app.py+", "app.py+", True),
        ("appXpy", "app.py", False),
    ],
)
def test_glob_match(path: str, pattern: str, expected: bool) -> None:
    assert glob_match(path, pattern) is expected


def test_too_many_files_are_refused() -> None:
    changes = [(f"app/m{n}.py", "x = 1\n", "x = 2\n") for n in range(4)]
    result = check(patch_of(*changes), Policy(max_changed_files=3))
    assert not result.allowed
    assert result.reasons == ["The change touches 4 files, more than the limit of 3."]
    assert check(patch_of(*changes[:3]), Policy(max_changed_files=3)).allowed


PYPROJECT = """[project]
name = "shop"
dependencies = ["requests>=2", "pydantic"]

[project.optional-dependencies]
dev = ["pytest"]
"""


@pytest.mark.parametrize(
    ("path", "before", "after", "added"),
    [
        (
            "pyproject.toml",
            PYPROJECT,
            PYPROJECT.replace('"pydantic"]', '"pydantic", "left_pad==1.0"]'),
            "left-pad",
        ),
        (
            "pyproject.toml",
            PYPROJECT,
            PYPROJECT.replace('["pytest"]', '["pytest", "hypothesis"]'),
            "hypothesis",
        ),
        (
            "setup.cfg",
            "[options]\ninstall_requires =\n    requests\n",
            "[options]\ninstall_requires =\n    requests\n    simplejson>=3\n",
            "simplejson",
        ),
        (
            "web/package.json",
            '{"dependencies": {"a": "1"}}',
            '{"dependencies": {"a": "1", "b": "2"}}',
            "b",
        ),
        ("app/reports.py", SOURCE, "import numpy as np\n" + SOURCE, "numpy"),
        ("app/reports.py", SOURCE, "from dateutil import parser\n" + SOURCE, "dateutil"),
    ],
)
def test_new_dependencies_are_refused(path: str, before: str, after: str, added: str) -> None:
    refused(verdict(path, before, after), path, f"adds the dependency {added}")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (SOURCE, "import math\n" + SOURCE),
        (SOURCE, "from app.money import cents\n" + SOURCE),
        ("import numpy\n" + SOURCE, "import numpy\nfrom numpy import mean\n" + SOURCE),
        (PYPROJECT, PYPROJECT.replace("requests>=2", "requests>=2.31")),
    ],
)
def test_existing_or_own_modules_are_not_new_dependencies(before: str, after: str) -> None:
    path = "pyproject.toml" if before.startswith("[project]") else "app/reports.py"
    # pyproject.toml is forbidden by default; an operator may allow it, and then a version bump
    # of an existing dependency is no new dependency.
    assert verdict(path, before, after, Policy(forbidden_paths=[])).allowed

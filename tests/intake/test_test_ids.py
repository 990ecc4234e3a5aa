"""Reported test ids in every shape resolve to the node ids pytest collected, and only to them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.intake.test_ids import named_failing, reported_path, resolve

COLLECTED = [
    "tests/test_mod.py::test_plain",
    "tests/test_mod.py::test_x[1]",
    "tests/test_mod.py::test_x[2.5]",
    "tests/test_mod.py::test_x[a::b]",
    "tests/test_mod.py::TestCase::test_m",
    "tests/test_mod.py::TestCase::test_n",
    "tests/test_mod.py::TestCase::test_p[x/y]",
    "tests/test_other.py::test_x",
    "tests/test_other.py::Outer::Inner::test_deep",
    "tests/unit/test_parse.py::test_tokens",
    "tests/unit/test_parse.py::test_mod",
    "pkg/tests/test_api.py::ApiTest::test_get",
    "src/app/tests/test_views.py::ViewTest::test_index",
    "tests/test_broken.py",
]
X_FAMILY = [
    "tests/test_mod.py::test_x[1]",
    "tests/test_mod.py::test_x[2.5]",
    "tests/test_mod.py::test_x[a::b]",
]


def names(reported: str) -> list[str]:
    resolution = resolve([reported], COLLECTED)
    return resolution.matches.get(reported, [])


@pytest.mark.parametrize(
    "reported",
    [
        "tests/test_mod.py::test_plain",
        "tests/test_mod.py::test_x[2.5]",
        "tests/test_mod.py::test_x[a::b]",
        "tests/test_mod.py::TestCase::test_p[x/y]",
        "tests/test_other.py::Outer::Inner::test_deep",
    ],
)
def test_an_exact_node_id_names_itself_only(reported: str) -> None:
    assert names(reported) == [reported]


@pytest.mark.parametrize(
    "reported", ["./tests/test_mod.py::test_plain", "tests\\test_mod.py::test_plain"]
)
def test_a_node_id_written_with_dot_slash_or_backslashes(reported: str) -> None:
    assert names(reported) == ["tests/test_mod.py::test_plain"]


def test_a_parametrized_family_by_path_names_all_its_members() -> None:
    assert names("tests/test_mod.py::test_x") == X_FAMILY


def test_a_bare_test_name_names_every_test_of_that_name() -> None:
    assert names("test_x") == [*X_FAMILY, "tests/test_other.py::test_x"]
    assert names("test_plain") == ["tests/test_mod.py::test_plain"]


def test_a_bare_name_with_its_parameter() -> None:
    assert names("test_x[1]") == ["tests/test_mod.py::test_x[1]"]
    assert names("test_x[2.5]") == ["tests/test_mod.py::test_x[2.5]"]


def test_class_and_method() -> None:
    assert names("TestCase::test_m") == ["tests/test_mod.py::TestCase::test_m"]
    assert names("tests/test_mod.py::TestCase::test_m") == ["tests/test_mod.py::TestCase::test_m"]
    assert names("Inner::test_deep") == ["tests/test_other.py::Outer::Inner::test_deep"]


def test_a_class_alone_names_all_its_tests() -> None:
    assert names("tests/test_mod.py::TestCase") == [
        "tests/test_mod.py::TestCase::test_m",
        "tests/test_mod.py::TestCase::test_n",
        "tests/test_mod.py::TestCase::test_p[x/y]",
    ]


def test_a_file_alone_names_all_its_tests() -> None:
    assert names("tests/test_other.py") == [
        "tests/test_other.py::test_x",
        "tests/test_other.py::Outer::Inner::test_deep",
    ]


def test_a_directory_names_every_test_under_it() -> None:
    assert names("tests/unit") == [
        "tests/unit/test_parse.py::test_tokens",
        "tests/unit/test_parse.py::test_mod",
    ]


def test_a_file_that_fails_to_collect_is_named_by_its_error_node() -> None:
    assert names("tests/test_broken.py") == ["tests/test_broken.py"]
    assert names("tests.test_broken") == ["tests/test_broken.py"]


def test_a_path_relative_to_another_root_matches_as_a_suffix() -> None:
    assert names("test_api.py::ApiTest::test_get") == ["pkg/tests/test_api.py::ApiTest::test_get"]
    assert names("unit/test_parse.py") == [
        "tests/unit/test_parse.py::test_tokens",
        "tests/unit/test_parse.py::test_mod",
    ]


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("tests.test_mod.TestCase.test_m", "tests/test_mod.py::TestCase::test_m"),
        ("test_mod.TestCase.test_m", "tests/test_mod.py::TestCase::test_m"),
        ("TestCase.test_m", "tests/test_mod.py::TestCase::test_m"),
        ("pkg.tests.test_api.ApiTest.test_get", "pkg/tests/test_api.py::ApiTest::test_get"),
        (
            "app.tests.test_views.ViewTest.test_index",
            "src/app/tests/test_views.py::ViewTest::test_index",
        ),
        ("tests.test_other.Outer.Inner.test_deep", "tests/test_other.py::Outer::Inner::test_deep"),
    ],
)
def test_unittest_dotted_ids(reported: str, expected: str) -> None:
    assert names(reported) == [expected]


def test_a_dotted_family_and_a_dotted_class_and_module() -> None:
    assert names("tests.test_mod.test_x") == X_FAMILY
    assert names("tests.test_mod.TestCase") == names("tests/test_mod.py::TestCase")
    assert names("tests.test_other") == names("tests/test_other.py")


@pytest.mark.parametrize(
    "reported",
    [
        "test_m (tests.test_mod.TestCase)",
        "test_m (tests.test_mod.TestCase.test_m)",
        "FAIL: test_m (tests.test_mod.TestCase)",
        "ERROR: test_m (tests.test_mod.TestCase.test_m)",
        "test_m (tests.test_mod.TestCase) (i=3)",
    ],
)
def test_what_unittest_prints_on_a_failure(reported: str) -> None:
    assert names(reported) == ["tests/test_mod.py::TestCase::test_m"]


@pytest.mark.parametrize(
    ("classname", "name", "expected"),
    [
        # pytest's junitxml: the path as dots, classes, then the test with its parameter.
        ("tests.test_mod.TestCase", "test_m", ["tests/test_mod.py::TestCase::test_m"]),
        ("tests.test_mod", "test_x[2.5]", ["tests/test_mod.py::test_x[2.5]"]),
        ("tests.test_mod", "test_x[a::b]", ["tests/test_mod.py::test_x[a::b]"]),
        ("tests.test_mod.TestCase", "test_p[x/y]", ["tests/test_mod.py::TestCase::test_p[x/y]"]),
        # unittest-xml-reporting: the class's dotted name; a subtest's parameters after the name.
        ("pkg.tests.test_api.ApiTest", "test_get", ["pkg/tests/test_api.py::ApiTest::test_get"]),
        (
            "pkg.tests.test_api.ApiTest",
            "test_get (n=2)",
            ["pkg/tests/test_api.py::ApiTest::test_get"],
        ),
        # nose: a module-level function under its module's dotted name.
        ("tests.unit.test_parse", "test_tokens", ["tests/unit/test_parse.py::test_tokens"]),
    ],
)
def test_junit_classname_and_name_pairs(classname: str, name: str, expected: list[str]) -> None:
    assert names(f"{classname}.{name}") == expected


def test_pytest_short_summary_lines() -> None:
    assert names("FAILED tests/test_mod.py::test_x[1] - assert 1 == 2") == [X_FAMILY[0]]
    assert names("ERROR tests/test_mod.py::test_plain") == ["tests/test_mod.py::test_plain"]


def test_a_test_name_wins_over_a_module_of_that_name() -> None:
    assert names("test_mod") == ["tests/unit/test_parse.py::test_mod"]
    assert names("test_parse") == [
        "tests/unit/test_parse.py::test_tokens",
        "tests/unit/test_parse.py::test_mod",
    ]


@pytest.mark.parametrize(
    "reported",
    [
        "tests/test_mod.py::test_gone",
        "tests/test_mod.py::test_x[3]",
        "tests/test_missing.py",
        "tests/test_missing.py::test_plain",
        "test_gone",
        "tests.test_mod.TestCase.test_gone",
        "OtherCase::test_m",
        "tests",
        "TestCase",
        "tests.test_mod.test_plain.extra",
        "est_plain",
        "test_mod.py::test_plain[1]",
    ],
)
def test_ids_that_name_nothing_are_unknown(reported: str) -> None:
    resolution = resolve([reported], COLLECTED)
    assert resolution.unknown == [reported]
    assert resolution.matches == {}


def test_resolution_keeps_each_reported_id_and_every_node_once() -> None:
    resolution = resolve(["test_x", "tests/test_mod.py::test_x[1]", "test_gone"], COLLECTED)
    assert resolution.unknown == ["test_gone"]
    assert resolution.matches["tests/test_mod.py::test_x[1]"] == [X_FAMILY[0]]
    assert resolution.node_ids == [*X_FAMILY, "tests/test_other.py::test_x"]


def test_nothing_collected_resolves_nothing() -> None:
    assert resolve(["tests/test_mod.py::test_plain"], []).unknown == [
        "tests/test_mod.py::test_plain"
    ]


def test_reported_path() -> None:
    assert reported_path("tests/a/test_b.py::test_c[1]") == "tests/a/test_b.py"
    assert reported_path("./tests/a") == "tests/a"
    assert reported_path("tests.a.test_b.test_c") is None
    assert reported_path("TestCase::test_m") is None


FAILING_MODULE = """\
import unittest


class CheckoutTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(1 + 1, 3)

    def test_broken(self):
        raise KeyError("sku")

    def test_fine(self):
        pass
"""


def test_the_tests_a_report_names_failing_as_pytest_and_unittest_print_them(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_checkout.py").write_text(FAILING_MODULE)
    runs = {
        "pytest": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        "unittest": [sys.executable, "-m", "unittest", "tests.test_checkout"],
    }
    output = {
        name: subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
        for name, run in runs.items()
    }

    assert sorted(named_failing(output["pytest"].stdout)) == [
        "tests/test_checkout.py::CheckoutTest::test_broken",
        "tests/test_checkout.py::CheckoutTest::test_total",
    ]
    named = named_failing(output["unittest"].stderr)
    assert len(named) == 2 and all("tests.test_checkout.CheckoutTest" in name for name in named)
    assert {name.split(" ")[0] for name in named} == {"test_total", "test_broken"}
    assert named_failing("ERROR tests/test_checkout.py - ImportError: no module x") == []

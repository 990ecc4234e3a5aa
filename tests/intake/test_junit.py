"""JUnit XML reports become failing-test incidents: failures and errors only, unsafe XML refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.errors import IntakeError
from agent.intake.junit import failing_tests
from agent.intake.payloads import load_event_file
from agent.intake.test_ids import resolve
from tests.support.sandbox import FAST

PYTEST_SUITE = {
    "tests/__init__.py": "",
    "tests/test_mod.py": """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("setup boom")

        @pytest.mark.parametrize("n", [1, 2.5])
        def test_x(n):
            assert n == 1

        def test_passes():
            pass

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass

        def test_setup_error(broken):
            pass

        class TestThing:
            def test_m(self):
                assert False
    """,
}


def ids(xml: str) -> list[str]:
    return failing_tests(xml.encode(), xml)


def test_a_report_written_by_pytest_resolves_to_its_failing_node_ids(tmp_path: Path) -> None:
    for name, text in PYTEST_SUITE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    report = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            *FAST,
            "-p",
            "no:cacheprovider",
            "--junitxml",
            report,
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )

    reported = ids(report.read_text())
    collected = [
        "tests/test_mod.py::test_x[1]",
        "tests/test_mod.py::test_x[2.5]",
        "tests/test_mod.py::test_passes",
        "tests/test_mod.py::test_skipped",
        "tests/test_mod.py::test_setup_error",
        "tests/test_mod.py::TestThing::test_m",
    ]

    assert reported == [
        "tests.test_mod.test_x[2.5]",
        "tests.test_mod.test_setup_error",
        "tests.test_mod.TestThing.test_m",
    ]
    resolution = resolve(reported, collected)
    assert resolution.unknown == []
    assert resolution.node_ids == [
        "tests/test_mod.py::test_x[2.5]",
        "tests/test_mod.py::test_setup_error",
        "tests/test_mod.py::TestThing::test_m",
    ]


def test_nested_suites_under_testsuites_and_a_bare_testsuite() -> None:
    nested = """<?xml version="1.0" encoding="UTF-8"?>
    <testsuites>
      <testsuite name="outer">
        <testsuite name="inner">
          <testcase classname="pkg.tests.test_api.ApiTest" name="test_get" time="0.1">
            <failure message="boom" type="AssertionError">Traceback ...</failure>
          </testcase>
          <testcase classname="pkg.tests.test_api.ApiTest" name="test_put"/>
        </testsuite>
      </testsuite>
    </testsuites>"""
    bare = """<testsuite name="nosetests" tests="3" errors="1" failures="0" skip="1">
      <testcase classname="tests.test_parse" name="test_tokens" time="0.001">
        <error type="KeyError" message="'x'"><![CDATA[Traceback ...]]></error>
      </testcase>
      <testcase classname="tests.test_parse" name="test_skip"><skipped/></testcase>
      <testcase classname="tests.test_parse" name="test_ok"/>
    </testsuite>"""
    assert ids(nested) == ["pkg.tests.test_api.ApiTest.test_get"]
    assert ids(bare) == ["tests.test_parse.test_tokens"]


def test_a_case_failing_twice_is_reported_once_and_namespaces_are_read() -> None:
    xml = """<testsuites xmlns="urn:example:junit"><testsuite>
      <testcase classname="t.TestA" name="test_a"><failure/><error/></testcase>
      <testcase name="test_b" file="tests/test_b.py"><error/></testcase>
      <testcase name="test_c"><failure/></testcase>
    </testsuite></testsuites>"""
    assert ids(xml) == ["t.TestA.test_a", "tests/test_b.py::test_b", "test_c"]


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        ("<testsuite><testcase name='a'><failure></testcase></testsuite>", "not well-formed XML"),
        ("<testsuite><testcase name='a'>", "not well-formed XML"),
        ("<html><body/></html>", "root element is <html>"),
        (
            "<testsuite><testcase name='a'/><testcase name='b'><skipped/></testcase></testsuite>",
            "no failed or errored test case (2 cases)",
        ),
        ("<testsuite><testcase classname='x'><failure/></testcase></testsuite>", "has no 'name'"),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
            "<testsuite><testcase name='&lol2;'><failure/></testcase></testsuite>",
            "DOCTYPE declaration is refused",
        ),
        (
            '<!DOCTYPE testsuite SYSTEM "file:///etc/passwd"><testsuite/>',
            "DOCTYPE declaration is refused",
        ),
    ],
)
def test_bad_reports_are_one_line_errors(xml: str, reason: str) -> None:
    with pytest.raises(IntakeError) as caught:
        ids(xml)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_xml_event_file_is_a_failing_test_incident(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_mod" name="test_x[2.5]"><failure message="x"/></testcase>'
        "</testsuite></testsuites>"
    )
    incident, payload = load_event_file(path)
    assert incident.source == "test_failure"
    assert incident.failing_tests == ["tests.test_mod.test_x[2.5]"]
    assert payload == {"kind": "test_failure", "tests": ["tests.test_mod.test_x[2.5]"]}
    again, _ = load_event_file(path)
    assert again.id == incident.id


def test_xml_is_recognised_by_its_content_and_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ci-output"
    path.write_text("<testsuite><testcase name='test_a'><error/></testcase></testsuite>")
    assert load_event_file(path)[0].failing_tests == ["test_a"]
    broken = tmp_path / "report.xml"
    broken.write_text("<testsuite><testcase")
    with pytest.raises(IntakeError, match=r"report\.xml: not well-formed XML"):
        load_event_file(broken)

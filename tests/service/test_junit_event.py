"""`fixloop run --event report.xml`: a JUnit XML report written by pytest is a failing-test
incident that reaches root cause with the failing node ids; a bad report is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import fixloop
from tests.support.repo_builder import git
from tests.support.sandbox import FAST
from tests.support.shop_tests import FAILING, shop_repo


def junit_report(repo: Path, path: Path) -> Path:
    """The repository's suite run by pytest with `--junitxml`, as CI runs it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            *FAST,
            "-p",
            "no:cacheprovider",
            f"--junitxml={path}",
        ],
        cwd=repo,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        check=False,
    )
    assert git(repo, "status", "--porcelain") == ""
    return path


@pytest.mark.slow
def test_a_junit_report_reaches_root_cause_with_its_failing_tests(tmp_path: Path) -> None:
    repo = shop_repo(tmp_path / "shop")
    report = junit_report(repo, tmp_path / "report.xml")

    result = fixloop(
        tmp_path / "state", "run", "--repo", str(repo), "--event", str(report), "--json"
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["source"] == "test_failure"
    detect = next(entry for entry in summary["audit"] if entry["node"] == "detect")
    assert detect["data"]["reported_tests"] == [
        "tests.test_orders.OrderTest.test_empty_line_is_free",
        "tests.test_pricing.test_unit_price[0-0-0]",
    ]
    assert detect["data"]["failing_tests"] == [FAILING[1], FAILING[0]]
    root_cause = next(entry for entry in summary["audit"] if entry["node"] == "root_cause")
    assert root_cause["decided"] == "top suspect unit_price in shop/pricing.py"
    assert "2 of the reported tests fail" in detect["why"]


@pytest.mark.slow
def test_a_report_naming_a_test_gone_from_the_base_commit_is_not_actionable(
    tmp_path: Path,
) -> None:
    repo = shop_repo(tmp_path / "shop")
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_orders.OrderTest" name="test_renamed">'
        '<failure message="boom"/></testcase></testsuite></testsuites>'
    )

    result = fixloop(tmp_path / "state", "run", "--repo", str(repo), "--event", str(report))

    assert result.returncode == 0, result.stderr
    assert "status: not_actionable" in result.stdout
    assert "'tests.test_orders.OrderTest.test_renamed'" in result.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("<testsuites><testsuite><testcase name='a'>", "not well-formed XML"),
        ('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><testsuite/>', "refused"),
        ("<testsuite><testcase name='a'/></testsuite>", "no failed or errored test case"),
    ],
)
def test_a_bad_report_is_one_line_and_writes_nothing(
    tmp_path: Path, content: str, reason: str
) -> None:
    repo = shop_repo(tmp_path / "shop")
    report = tmp_path / "report.xml"
    report.write_text(content)
    home = tmp_path / "state"

    result = fixloop(home, "run", "--repo", str(repo), "--event", str(report))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"fixloop: {report}: ")
    assert reason in lines[0]
    assert not home.exists()

"""`fixloop eval` end to end on cases written by hand: replay, score, report, resume, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evals.report import write_html
from evals.runner import EvalOptions, run_eval
from tests.support.cli import fixloop
from tests.support.eval_cases import write_rates_case
from tests.support.repo_builder import git

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_rates_case(root)
    broken = root / "broken-toml"
    shutil.copytree(root / "handwritten-rates", broken)
    (broken / "case.toml").write_text('id = "broken-toml"\nexpect = [\n')
    bad_bundle = root / "bad-bundle"
    shutil.copytree(root / "handwritten-rates", bad_bundle)
    (bad_bundle / "repo.bundle").write_bytes(b"not a bundle")
    toml = (bad_bundle / "case.toml").read_text()
    (bad_bundle / "case.toml").write_text(toml.replace("handwritten-rates", "bad-bundle"))
    return root


@pytest.fixture(scope="module")
def first_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("work")
    return run_eval([corpus], EvalOptions(engines=["templates"], jobs=2, workdir=workdir)) | {
        "_workdir": workdir
    }


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {case["id"]: case for case in report["cases"]}


def test_a_handwritten_case_replays_through_the_loop_and_scores(first_run: dict) -> None:
    case = _by_id(first_run)["handwritten-rates"]
    assert case["status"] == "awaiting_review"
    assert case["localized_rank"] == 1
    assert case["suspect_commit_hit"] is True
    assert (case["proven"], case["correct"]) == (True, True)
    assert case["hidden"]["outcomes"] == {
        "tests/test_hidden_rates.py::test_nothing_sold": "passed",
        "tests/test_hidden_rates.py::test_normal": "passed",
    }
    assert case["diff_lines"] == 2
    assert (case["tokens_in"], case["cost_usd"]) == (0, 0.0)


def test_broken_cases_score_as_errors_with_their_reason_and_the_run_goes_on(
    first_run: dict,
) -> None:
    cases = _by_id(first_run)
    assert set(cases) == {"handwritten-rates", "broken-toml", "bad-bundle"}
    assert cases["broken-toml"]["status"] == "error"
    assert "case.toml" in cases["broken-toml"]["error"]
    assert cases["bad-bundle"]["status"] == "error"
    assert "git clone failed" in cases["bad-bundle"]["error"]
    assert first_run["summary"]["errors"] == 2
    assert first_run["summary"]["correct"] == {"hits": 1, "of": 2, "rate": 0.5}


def test_resume_keeps_finished_results_and_reruns_changed_cases(
    corpus: Path, first_run: dict
) -> None:
    options = EvalOptions(engines=["templates"], jobs=1, workdir=first_run["_workdir"], resume=True)
    stored = first_run["_workdir"] / "results" / "handwritten-rates.json"
    written = stored.stat().st_mtime_ns
    kept = run_eval([corpus / "handwritten-rates"], options)
    assert kept["cases"][0] == _by_id(first_run)["handwritten-rates"]
    assert stored.stat().st_mtime_ns == written  # kept as it was: not replayed, not rewritten

    incident = corpus / "handwritten-rates" / "incident.json"
    original = incident.read_text()
    try:
        incident.write_text(original.replace("5f1c0a8e", "6f1c0a8e"))
        rerun = run_eval([corpus / "handwritten-rates"], options)
    finally:
        incident.write_text(original)
    assert rerun["cases"][0]["correct"] is True
    assert stored.stat().st_mtime_ns != written  # the changed case was replayed


def test_a_case_over_its_time_limit_is_an_error(corpus: Path, tmp_path: Path) -> None:
    options = EvalOptions(engines=["templates"], workdir=tmp_path, case_timeout=0.5)
    report = run_eval([corpus / "handwritten-rates"], options)
    assert report["cases"][0]["status"] == "error"
    assert report["cases"][0]["error"] == "timed out after 0.5s"


def test_the_html_report_has_charts_and_a_drill_down_per_case(
    first_run: dict, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    write_html(first_run, page)
    html = page.read_text()
    assert html.count("<svg") == 4
    assert html.count("<details id=") == 3
    assert "+    if count == 0:" in html  # the proposed diff, in the drill-down
    assert "tests/test_hidden_rates.py::test_nothing_sold" in html
    assert "<script" not in html


def test_the_cli_writes_both_files_and_compare_reads_them(corpus: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = tmp_path / "out.json"
    result = fixloop(
        home,
        "eval",
        str(corpus / "handwritten-rates"),
        "--json",
        str(out),
        "--report",
        str(tmp_path / "out.html"),
    )
    assert result.returncode == 0, result.stderr
    assert "fix passes the hidden tests" in result.stdout
    assert "1/1 handwritten-rates" in result.stderr
    report = json.loads(out.read_text())
    assert [case["id"] for case in report["cases"]] == ["handwritten-rates"]
    assert (tmp_path / "out.html").is_file()
    kept = list((home / "evals" / "reports").glob("*-templates.json"))
    assert [json.loads(path.read_text()) for path in kept] == [report], "kept for the console"

    worse = json.loads(out.read_text())
    worse["cases"][0] |= {"correct": False, "localized_rank": 2}
    worse["summary"]["correct"] = {"hits": 0, "of": 1, "rate": 0.0}
    (tmp_path / "worse.json").write_text(json.dumps(worse))
    compared = fixloop(home, "eval", "compare", str(out), str(tmp_path / "worse.json"))
    assert compared.returncode == 1
    assert "worse    handwritten-rates: localized_rank 1 -> 2, correct True -> False" in (
        compared.stdout
    )
    assert "worse than before: handwritten-rates" in compared.stderr
    unchanged = fixloop(home, "eval", "compare", str(out), str(out))
    assert unchanged.returncode == 0, unchanged.stderr


def test_the_cli_fails_below_a_suite_floor_and_on_an_unknown_engine(
    corpus: Path, tmp_path: Path
) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(f'root = "{corpus}"\ncases = ["handwritten-rates"]\n[floor]\ncorrect = 2\n')
    result = fixloop(tmp_path / "home", "eval", "--suite", str(suite))
    assert result.returncode == 1
    assert "below the floor: correct: 1 < floor 2" in result.stderr

    unknown = fixloop(tmp_path / "home", "eval", str(corpus), "--engine", "gpt")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "fixloop: unknown repair engine(s) ['gpt']; known: ['claude', 'templates']"
    ]
    bad = fixloop(tmp_path / "home", "eval", "compare", str(suite))
    assert bad.returncode == 2
    assert "usage: fixloop eval compare A.json B.json" in bad.stderr


def test_a_case_whose_repository_has_no_branch_replays(tmp_path: Path) -> None:
    """A bundle of one detached commit (no branch, no tag): the runner works on that commit."""
    case, _ = write_rates_case(tmp_path / "corpus", "detached-rates")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(case / "repo.bundle"), str(clone))
    git(clone, "checkout", "--quiet", "--detach", "HEAD")
    (case / "repo.bundle").unlink()
    git(clone, "bundle", "create", str(case / "repo.bundle"), "HEAD")

    report = run_eval(
        [tmp_path / "corpus"], EvalOptions(engines=["templates"], workdir=tmp_path / "work")
    )

    (result,) = report["cases"]
    assert result["status"] == "awaiting_review", result
    assert (result["localized_rank"], result["proven"], result["correct"]) == (1, True, True)

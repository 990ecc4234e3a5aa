"""Scorers, the summary, the comparison of two runs and suite floors: pure functions on records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.domain import Patch
from agent.domain import TestRun as SuiteRun
from agent.errors import FixloopError
from evals.case import Case, Gold
from evals.compare import compare, render_comparison
from evals.report import suites_table, terminal_summary
from evals.score import (
    RESULT_KEYS,
    correct,
    error_result,
    escalated_correctly,
    localized_rank,
    same_function,
    score,
    suspect_commit_hit,
)
from evals.suite import below_floor, load_suite
from evals.summary import summarize


def _case(expect: str = "fix", gold: Gold | None = None, tags: tuple[str, ...] = ()) -> Case:
    return Case(
        path=Path("/cases/x"),
        id="x",
        title="x",
        expect=expect,  # type: ignore[arg-type]
        tags=tags or ("crash", "missing-key", "python", "worker"),
        test_command="python -m pytest",
        hidden_test_command="python -m pytest tests/test_hidden.py",
        gold=gold if gold is not None else Gold("app/jobs.py", "Runner.step", commit="abc1234"),
    )


SUSPECTS = [
    {"file": "app/util.py", "symbol": "step"},
    {"file": "app/jobs.py", "symbol": "Other.step"},
    {"file": "app/jobs.py", "symbol": "Runner.step"},
]


def test_localized_rank_is_the_gold_functions_place_among_the_suspects() -> None:
    assert localized_rank(_case(), SUSPECTS) == 3
    assert localized_rank(_case(), SUSPECTS[:2]) is None
    assert localized_rank(_case(gold=Gold("app/util.py", "step")), SUSPECTS) == 1


@pytest.mark.parametrize(
    ("symbol", "gold", "same"),
    [
        ("Runner.step", "Runner.step", True),
        ("step", "Runner.step", True),
        ("Runner.step", "step", True),
        ("Other.step", "Runner.step", False),
        ("prestep", "step", False),
        (None, "step", False),
    ],
)
def test_same_function_matches_qualified_and_bare_names(
    symbol: str | None, gold: str, same: bool
) -> None:
    assert same_function(symbol, gold) is same


def test_suspect_commit_hit_accepts_either_sha_as_a_prefix() -> None:
    assert suspect_commit_hit(_case(), {"suspect_commit": {"sha": "abc1234deadbeef"}}) is True
    assert suspect_commit_hit(_case(), {"suspect_commit": {"sha": "fff1234"}}) is False
    assert suspect_commit_hit(_case(), {"suspect_commit": None}) is False
    assert suspect_commit_hit(_case(gold=Gold("a.py", "f")), {"suspect_commit": None}) is None


def test_correct_needs_a_proven_fix_that_passes_the_hidden_tests() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    failing = SuiteRun(outcomes={"t::a": "passed", "t::b": "failed"}, exit_code=1)
    nothing_ran = SuiteRun(outcomes={}, exit_code=5)
    assert correct(_case(), True, passing) is True
    assert correct(_case(), True, failing) is False
    assert correct(_case(), True, nothing_ran) is False
    assert correct(_case(), False, passing) is False
    assert correct(_case(expect="escalate"), True, passing) is None


def test_escalation_is_right_only_when_the_code_is_left_alone() -> None:
    case = _case(expect="escalate")
    assert escalated_correctly(case, "escalated") is True
    assert escalated_correctly(case, "not_actionable") is True
    assert escalated_correctly(case, "awaiting_review") is False
    assert escalated_correctly(_case(), "escalated") is None


MODEL_RUN = {"engine": "claude", "tokens_in": 5, "tokens_out": 2, "cost_usd": 0.000001}


def _state(**extra: Any) -> dict[str, Any]:
    diff = "--- a/app/jobs.py\n+++ b/app/jobs.py\n@@ -1 +1,2 @@\n+    if x is None:\n-    a\n b\n"
    return {
        "status": "awaiting_review",
        "diagnosis": {"suspects": SUSPECTS, "suspect_commit": {"sha": "abc1234"}},
        "proven": Patch(
            id="c1", engine="templates", title="guard", rationale="r", files=[], diff=diff
        ).model_dump(mode="json"),
        "reports": [{"candidate_id": "c1", "proven": True, "reason": "ok"}],
        "audit": [{"node": "detect", "decided": "actionable", "why": "frames map"}],
    } | extra


def test_a_result_record_has_every_headline_field() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    result = score(_case(), _state(model_runs=[MODEL_RUN, MODEL_RUN]), 1.234, passing)
    assert set(RESULT_KEYS) <= set(result)
    assert result["localized_rank"] == 3
    assert result["suspect_commit_hit"] is True
    assert (result["proven"], result["correct"]) == (True, True)
    assert (result["tokens_in"], result["tokens_out"], result["diff_lines"]) == (10, 4, 2)
    assert result["cost_usd"] == 0.000002
    assert result["seconds"] == 1.23
    assert result["bug_class"] == "missing-key"


def _reported(after: str | None) -> dict[str, Any]:
    failing = "tests/test_a.py::test_edge"
    outcomes = {failing: {"before": "failed", "after": after}} if after else {}
    report = {"candidate_id": "c1", "proven": True, "reason": "ok", "must_fix": outcomes}
    return _state(incident={"failing_tests": [failing]}, reports=[report])


def test_a_proof_counts_only_when_every_reported_failing_test_passes() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    fixed = score(_case(), _reported("passed"), 1.0, passing)
    assert (fixed["proven"], fixed["correct"]) == (True, True)
    assert fixed["reported_tests"] == {"tests/test_a.py::test_edge": "passed"}
    for after in ("failed", None):
        left = score(_case(), _reported(after), 1.0, passing)
        assert (left["proven"], left["correct"], left["diff_lines"]) == (False, False, None)
    failing = SuiteRun(outcomes={"t::b": "failed"}, exit_code=1)
    wrong = score(_case(), _reported("passed"), 1.0, failing)
    assert (wrong["proven"], wrong["correct"], wrong["wrong_proven"]) == (True, False, True)
    assert summarize([wrong, fixed])["wrong_proven"] == 1


def test_a_pr_without_a_failing_before_test_is_a_defect() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    with_pr = {"pr": {"id": 1}}
    evidenced = score(_case(), _reported("passed") | with_pr, 1.0, passing)
    assert evidenced["failing_before"] == ["tests/test_a.py::test_edge"]
    assert evidenced["pr_without_failing_test"] is False
    bare = score(_case(), _state(**with_pr), 1.0, passing)
    assert (bare["failing_before"], bare["pr_without_failing_test"]) == ([], True)
    assert summarize([evidenced, bare])["pr_without_failing_test"] == 1


def test_an_error_scores_as_a_miss_with_its_reason() -> None:
    result = error_result("x", "git clone failed", 0.5, _case())
    assert set(RESULT_KEYS) <= set(result)
    assert (result["status"], result["error"], result["correct"]) == (
        "error",
        "git clone failed",
        False,
    )
    assert result["suspect_commit_hit"] is False


def _result(case_id: str, **fields: Any) -> dict[str, Any]:
    base = error_result(case_id, "", 1.0, _case())
    return base | {"status": "awaiting_review", "error": None} | fields


def test_the_summary_counts_rates_over_the_cases_they_apply_to() -> None:
    results = [
        _result(
            "a",
            localized_rank=1,
            file_rank=1,
            proven=True,
            correct=True,
            suspect_commit_hit=True,
            seconds=2.0,
        ),
        _result(
            "b",
            localized_rank=3,
            file_rank=1,
            proven=True,
            correct=False,
            suspect_commit_hit=False,
            seconds=4.0,
        ),
        _result(
            "c",
            expect="escalate",
            status="escalated",
            escalated_correctly=True,
            correct=None,
            suspect_commit_hit=None,
            gold=None,
            bug_class="third-party",
        ),
    ]
    summary = summarize(results)
    assert summary["top1"] == {"hits": 1, "of": 2, "rate": 0.5}
    assert summary["top3"]["hits"] == 2
    assert summary["file_top1"]["hits"] == 2
    assert summary["suspect_commit"] == {"hits": 1, "of": 2, "rate": 0.5}
    assert (summary["proven"]["hits"], summary["correct"]["hits"]) == (2, 1)
    assert summary["escalated_correctly"] == {"hits": 1, "of": 1, "rate": 1.0}
    assert summary["seconds_median"] == 2.0
    assert set(summary["by_bug_class"]) == {"missing-key", "third-party"}
    assert summary["by_bug_class"]["missing-key"]["cases"] == 2


def test_compare_shows_metric_deltas_and_each_changed_case() -> None:
    before = [_result("a", localized_rank=2, proven=False, correct=False), _result("b")]
    after = [_result("a", localized_rank=1, proven=True, correct=True), _result("c")]
    delta = compare(
        {"summary": summarize(before), "cases": before},
        {"summary": summarize(after), "cases": after},
    )
    by_metric = {row["metric"]: row["delta_hits"] for row in delta["metrics"]}
    assert by_metric["correct"] == 1
    assert by_metric["top1"] == 1
    assert [(c["id"], c["verdict"]) for c in delta["changed"]] == [("a", "better")]
    assert delta["changed"][0]["localized_rank"] == {"before": 2, "after": 1}
    assert (delta["only_before"], delta["only_after"]) == (["b"], ["c"])
    text = render_comparison(delta)
    assert "better   a: localized_rank 2 -> 1" in text
    assert next((d["metric"], d["before"], d["after"]) for d in delta["defects"]) == (
        "wrong_proven",
        0,
        0,
    )
    assert "proven fixes the hidden tests reject (must be 0)" in text


def test_a_suite_names_cases_and_a_floor(tmp_path: Path) -> None:
    (tmp_path / "cases" / "one").mkdir(parents=True)
    (tmp_path / "cases" / "one" / "case.toml").write_text("")
    suite_file = tmp_path / "ci.toml"
    suite_file.write_text('cases = ["one"]\n[floor]\nproven = 2\ncorrect = 1\n')
    suite = load_suite(suite_file)
    assert suite.cases == [tmp_path / "cases" / "one"]
    summary = {"proven": {"hits": 1}, "correct": {"hits": 1}}
    assert below_floor(summary, suite.floor) == ["proven: 1 < floor 2"]
    defects = {**summary, "correct": {"hits": 2}, "wrong_proven": 1, "pr_without_failing_test": 0}
    assert below_floor(defects, {"correct": 1}) == [
        "proven fixes the hidden tests reject: 1 (must be 0)"
    ]
    suite_file.write_text('cases = ["one", "two"]\n')
    with pytest.raises(FixloopError, match=r"no such case under .*: two"):
        load_suite(suite_file)
    suite_file.write_text('cases = ["one"]\n[floor]\nspeed = 3\n')
    with pytest.raises(FixloopError, match=r"\[floor\] maps metrics"):
        load_suite(suite_file)


def _crash(way: str | None, reproduced: bool = True, **incident: Any) -> dict[str, Any]:
    reproduction = {"reproduced": reproduced, "way": way} if way else None
    return _state(
        incident={"exceptions": [{"type": "KeyError", "frames": [{"filename": "a.py"}]}]}
        | incident,
        diagnosis={"suspects": [], "reproduction": reproduction},
    )


def test_crash_incidents_count_their_reproductions_and_how_each_was_built() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    derived = score(_case(), _crash("derived_test"), 1.0, passing)
    assert (derived["crash"], derived["reproduced_by"]) == (True, "derived_test")
    held = score(_case(), _crash("frame", reproduced=False), 1.0, passing)
    assert (held["crash"], held["reproduced_by"]) == (True, None)
    # A failing-test incident is its own reproduction: it is not a crash incident.
    reported = score(_case(), _crash(None, failing_tests=["t::x"]), 1.0, passing)
    assert reported["crash"] is False
    summary = summarize([derived, held, reported])
    assert summary["reproduced"] == {"hits": 1, "of": 2, "rate": 0.5}
    assert summary["reproduced_by"] == {
        "frame": 0,
        "outer_frame": 0,
        "test_built_object": 0,
        "derived_test": 1,
    }
    report = {"summary": summary, "cases": [derived], "run": {"wall_seconds": 1}}
    text = terminal_summary(report)
    assert "crash incidents with a reproduction failing like them    1/2" in text
    built = "built from: crashing frame 0, outer frame 0, test-built object 0, derived test 1"
    assert built in text

    before = [_result("a", crash=True, reproduced_by=None)]
    after = [_result("a", crash=True, reproduced_by="derived_test")]
    delta = compare(
        {"summary": summarize(before), "cases": before},
        {"summary": summarize(after), "cases": after},
    )
    assert delta["changed"][0]["reproduced_by"] == {"before": None, "after": "derived_test"}
    assert {"metric": "reproduced", "delta_hits": 1}.items() <= next(
        row for row in delta["metrics"] if row["metric"] == "reproduced"
    ).items()
    text = render_comparison(delta)
    assert "reproduced, derived test" in text
    assert any(
        line.split()[-2:] == ["0", "1"] for line in text.splitlines() if "derived test" in line
    )


def test_a_suite_names_real_bug_specs_by_id(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "tiny-1.1.toml").write_text("")
    suite_file = tmp_path / "ci-real.toml"
    suite_file.write_text('root = "real"\ncases = ["tiny-1.1"]\n')
    assert load_suite(suite_file).cases == [tmp_path / "real" / "tiny-1.1.toml"]
    suite_file.write_text('root = "real"\ncases = ["tiny-1.2"]\n')
    with pytest.raises(FixloopError, match=r"no such case under .*: tiny-1.2"):
        load_suite(suite_file)


def test_suites_are_summarized_and_printed_side_by_side() -> None:
    results = [
        _result("a", suite="cases", localized_rank=1, proven=True, correct=True, seconds=2.0),
        _result("b", suite="cases", localized_rank=4, seconds=6.0),
        _result("c", suite="real", localized_rank=2, proven=True, correct=False, seconds=9.0),
    ]
    summary = summarize(results)
    assert summary["by_suite"]["cases"]["top1"] == {"hits": 1, "of": 2, "rate": 0.5}
    assert summary["by_suite"]["real"]["top3"] == {"hits": 1, "of": 1, "rate": 1.0}
    lines = suites_table(summary["by_suite"]).splitlines()
    assert lines[0].split() == ["cases", "real"]
    rows = {line[:18].strip(): line[18:].split() for line in lines[1:]}
    assert rows["cases"] == ["2", "1"]
    assert rows["function top 1"] == ["1/2", "50.0%", "0/1", "0.0%"]
    assert rows["correct"] == ["1/2", "50.0%", "0/1", "0.0%"]
    assert rows["median seconds"] == ["4.0s", "9.0s"]


def test_an_abstention_is_neither_correct_nor_wrong_and_is_counted_both_ways() -> None:
    passing = SuiteRun(outcomes={"t::a": "passed"}, exit_code=0)
    failing = SuiteRun(outcomes={"t::b": "failed"}, exit_code=1)
    below = {"status": "escalated", "evidence": {"clears": False, "below": ["low"]}}
    lost = score(_case(), _state(**below), 1.0, passing)
    assert (lost["proven"], lost["correct"], lost["abstained"]) == (True, False, True)
    assert (lost["right_pr_lost"], lost["wrong_pr_avoided"]) == (True, False)
    avoided = score(_case(), _state(**below), 1.0, failing)
    assert (avoided["wrong_proven"], avoided["wrong_pr_avoided"]) == (False, True)
    on_escalate = score(_case("escalate"), _state(**below), 1.0, None)
    assert on_escalate["wrong_pr_avoided"] and on_escalate["escalated_correctly"]
    opened = score(_case(), _state(pr={"id": 1}, evidence={"clears": True}), 1.0, passing)
    assert (opened["correct"], opened["pr_opened"], opened["abstained"]) == (True, True, False)
    summary = summarize([lost, avoided, on_escalate, opened])
    assert summary["abstain"] == {
        "prs_opened": 1,
        "abstained": 3,
        "wrong_prs_avoided": 2,
        "right_prs_lost": 1,
    }
    assert "1 PRs opened, 3 proven fixes held back: 2 wrong PRs avoided, 1 right PRs lost" in (
        terminal_summary({"summary": summary, "run": {"wall_seconds": 1.0}})
    )

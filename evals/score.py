"""Deterministic scorers: from a case and the run's final state to one result record.

No model is asked anything here. Every figure comes from the state fixloop recorded (its
diagnosis, its proof, its status), the case's gold location, and, for `correct`, a run of the
hidden tests on the proposed fix.
"""

from __future__ import annotations

from typing import Any

from agent.domain import Patch, Status, TestRun
from agent.state import run_usage
from evals.case import Case

NO_PATCH_STATUSES: tuple[Status, ...] = (
    "escalated",
    "no_fix_found",
    "budget_exceeded",
    "not_actionable",
)
"""End statuses that leave the code alone: the right outcome for a case to escalate."""

RESULT_KEYS = (
    "id",
    "expect",
    "tags",
    "status",
    "localized_rank",
    "suspect_commit_hit",
    "proven",
    "correct",
    "escalated_correctly",
    "abstained",
    "seconds",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "diff_lines",
)


def score(
    case: Case, state: dict[str, Any], seconds: float, hidden: TestRun | None
) -> dict[str, Any]:
    """The result record of one replayed case (see `RESULT_KEYS` for the headline fields)."""
    diagnosis = state.get("diagnosis") or {}
    suspects = diagnosis.get("suspects") or []
    reported = reported_tests(state)
    # A proof that leaves a reported failing test failing proves nothing the reporter asked for.
    proven = state.get("proven") if all(a == "passed" for a in reported.values()) else None
    usage = run_usage(state.get("model_runs") or [])
    status = state.get("status", "running")
    held_back = proven is not None and abstained(state)
    opened = proven is not None and not held_back
    return {
        "id": case.id,
        "title": case.title,
        "expect": case.expect,
        "tags": list(case.tags),
        "bug_class": case.bug_class,
        "app": case.app,
        "kind": case.kind,
        "status": status,
        "error": None,
        "localized_rank": localized_rank(case, suspects),
        "file_rank": file_rank(case, suspects),
        "suspect_commit_hit": suspect_commit_hit(case, diagnosis),
        "proven": proven is not None,
        "correct": correct(case, opened, hidden),
        "escalated_correctly": escalated_correctly(case, status),
        "seconds": round(seconds, 2),
        "tokens_in": usage["tokens_in"],
        "tokens_out": usage["tokens_out"],
        "cost_usd": usage["cost_usd"],
        "diff_lines": Patch.model_validate(proven).changed_lines if proven else None,
        "reported_tests": reported,
        "wrong_proven": wrong_proven(case, opened, hidden),
        "pr_opened": state.get("pr") is not None,
        "abstained": held_back,
        "wrong_pr_avoided": held_back and wrong_proven(case, True, hidden),
        "right_pr_lost": held_back and bool(correct(case, True, hidden)),
        "failing_before": failing_before(state),
        "pr_without_failing_test": state.get("pr") is not None and not failing_before(state),
        "crash": is_crash(state),
        "reproduced_by": reproduced_by(state),
        "gold": _gold(case),
        "diagnosis": _diagnosis(diagnosis),
        "diff": proven["diff"] if proven else None,
        "proof": _proof(state.get("reports") or []),
        "hidden": _hidden(hidden),
        "audit": [
            {"node": entry["node"], "decided": entry["decided"], "why": entry["why"]}
            for entry in state.get("audit", [])
        ],
    }


def error_result(case_id: str, reason: str, seconds: float, case: Case | None = None) -> dict:
    """The record of a case that could not be replayed: it scores as an error with its reason."""
    return {
        "id": case_id,
        "title": case.title if case else case_id,
        "expect": case.expect if case else None,
        "tags": list(case.tags) if case else [],
        "bug_class": case.bug_class if case else "unclassified",
        "app": case.app if case else None,
        "kind": case.kind if case else None,
        "status": "error",
        "error": reason,
        "localized_rank": None,
        "file_rank": None,
        "suspect_commit_hit": None if case is None or not _gold_commit(case) else False,
        "proven": False,
        "correct": False if case is not None and case.expect == "fix" else None,
        "escalated_correctly": False if case is not None and case.expect == "escalate" else None,
        "seconds": round(seconds, 2),
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
        "diff_lines": None,
        "reported_tests": {},
        "wrong_proven": False,
        "pr_opened": False,
        "abstained": False,
        "wrong_pr_avoided": False,
        "right_pr_lost": False,
        "failing_before": [],
        "pr_without_failing_test": False,
        "crash": False,
        "reproduced_by": None,
        "gold": _gold(case) if case else None,
        "diagnosis": None,
        "diff": None,
        "proof": None,
        "hidden": None,
        "audit": [],
    }


def localized_rank(case: Case, suspects: list[dict[str, Any]]) -> int | None:
    """1-based rank of the gold function among the suspects, or None (or no gold)."""
    if case.gold is None:
        return None
    for rank, suspect in enumerate(suspects, start=1):
        if suspect["file"] == case.gold.file and same_function(
            suspect.get("symbol"), case.gold.function
        ):
            return rank
    return None


def file_rank(case: Case, suspects: list[dict[str, Any]]) -> int | None:
    """1-based rank of the first suspect in the gold file, or None."""
    if case.gold is None:
        return None
    files = [suspect["file"] for suspect in suspects]
    return files.index(case.gold.file) + 1 if case.gold.file in files else None


def same_function(symbol: str | None, gold: str) -> bool:
    """`Cart.total` matches gold `Cart.total`, and a bare `total` matches it too (and back)."""
    if not symbol:
        return False
    return symbol == gold or symbol.endswith("." + gold) or gold.endswith("." + symbol)


def suspect_commit_hit(case: Case, diagnosis: dict[str, Any]) -> bool | None:
    """Whether the diagnosis named the commit that introduced the bug; None when no gold."""
    gold = _gold_commit(case)
    if gold is None:
        return None
    named = (diagnosis.get("suspect_commit") or {}).get("sha") or ""
    return bool(named) and (named.startswith(gold) or gold.startswith(named))


def abstained(state: dict[str, Any]) -> bool:
    """Whether a fix was proven but fell below the evidence bar, so no PR opened (scored as its
    own outcome: neither correct nor wrong)."""
    evidence = state.get("evidence") or {}
    return state.get("proven") is not None and not evidence.get("clears", True)


def correct(case: Case, proven: bool, hidden: TestRun | None) -> bool | None:
    """A proven fix (opened as a PR) that also passes the hidden tests; None for a case to
    escalate."""
    if case.expect != "fix":
        return None
    return proven and hidden is not None and hidden_passed(hidden)


def wrong_proven(case: Case, proven: bool, hidden: TestRun | None) -> bool:
    """fixloop proved a fix (opened as a PR) that the hidden tests reject (or, for a case to
    escalate, any fix)."""
    if case.expect == "escalate":
        return proven
    return proven and not (hidden is not None and hidden_passed(hidden))


def reported_tests(state: dict[str, Any]) -> dict[str, str | None]:
    """Each test the incident reported as failing, with its outcome under the proven patch
    (None when the proof did not run it). Empty without a proven patch or reported tests."""
    failing = (state.get("incident") or {}).get("failing_tests") or []
    if state.get("proven") is None or not failing:
        return {}
    outcomes = _proof_outcomes(state)
    return {test: (outcomes.get(test) or {}).get("after") for test in failing}


def failing_before(state: dict[str, Any]) -> list[str]:
    """The tests that failed on the base commit and pass with the proven patch: the evidence a
    PR must rest on (the suite still passing is never enough)."""
    return sorted(
        test
        for test, outcome in _proof_outcomes(state).items()
        if (outcome or {}).get("before") in ("failed", "error", "timeout")
        and (outcome or {}).get("after") == "passed"
    )


def is_crash(state: dict[str, Any]) -> bool:
    """Whether the incident is a crash: a stack, and no reported failing test (which would be
    its own reproduction)."""
    incident = state.get("incident") or {}
    frames = any(exception.get("frames") for exception in incident.get("exceptions") or [])
    return frames and not incident.get("failing_tests")


def reproduced_by(state: dict[str, Any]) -> str | None:
    """How the reproduction that failed like the incident was built (`Reproduction.way`), or
    None when there is none."""
    reproduction = (state.get("diagnosis") or {}).get("reproduction") or {}
    return reproduction.get("way", "frame") if reproduction.get("reproduced") else None


def _proof_outcomes(state: dict[str, Any]) -> dict[str, Any]:
    """The must-fix outcomes (before, after) recorded by the proven patch's proof."""
    proven = state.get("proven")
    if proven is None:
        return {}
    report: dict[str, Any] = next(
        (r for r in reversed(state.get("reports") or []) if r["candidate_id"] == proven["id"]),
        {},
    )
    return dict(report.get("must_fix") or {})


def hidden_passed(run: TestRun) -> bool:
    return not run.timed_out and run.exit_code == 0 and bool(run.passed()) and not run.failed()


def escalated_correctly(case: Case, status: str) -> bool | None:
    if case.expect != "escalate":
        return None
    return status in NO_PATCH_STATUSES


def _gold_commit(case: Case) -> str | None:
    return case.gold.commit if case.gold and case.gold.commit else None


def _gold(case: Case) -> dict[str, Any] | None:
    if case.gold is None:
        return None
    return {
        "file": case.gold.file,
        "function": case.gold.function,
        "lines": list(case.gold.lines) if case.gold.lines else None,
        "commit": case.gold.commit,
    }


def _diagnosis(diagnosis: dict[str, Any]) -> dict[str, Any] | None:
    if not diagnosis:
        return None
    return {
        "suspects": [
            {
                "file": s["file"],
                "symbol": s.get("symbol"),
                "lines": s.get("lines", []),
                "score": s.get("score"),
                "evidence": [f"{e['kind']}: {e['detail']}" for e in s.get("evidence", [])],
            }
            for s in diagnosis.get("suspects", [])[:5]
        ],
        "suspect_commit": diagnosis.get("suspect_commit"),
        "explanation": diagnosis.get("explanation", ""),
        "confidence": diagnosis.get("confidence"),
        "reproduced": bool((diagnosis.get("reproduction") or {}).get("reproduced")),
    }


def _proof(reports: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not reports:
        return None
    chosen = next((r for r in reports if r["proven"]), reports[-1])
    return {
        "candidate": chosen["candidate_id"],
        "proven": chosen["proven"],
        "reason": chosen["reason"],
        "candidates_tested": len(reports),
        "tried": [
            {"candidate": r["candidate_id"], "proven": r["proven"], "reason": r["reason"]}
            for r in reports
        ],
    }


def _hidden(run: TestRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "passed": hidden_passed(run),
        "outcomes": run.outcomes,
        "timed_out": run.timed_out,
        "output": run.output[-2000:],
    }

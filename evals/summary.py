"""Aggregate case results into the figures a report shows: overall, per bug class, per app."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

METRICS = (
    ("top1", "function-level localization, top 1"),
    ("top3", "function-level localization, top 3"),
    ("top5", "function-level localization, top 5"),
    ("file_top1", "file-level localization, top 1"),
    ("file_top3", "file-level localization, top 3"),
    ("file_top5", "file-level localization, top 5"),
    ("suspect_commit", "suspect commit named"),
    ("proven", "fix proven by fixloop's own tests"),
    ("correct", "fix passes the hidden tests"),
    ("escalated_correctly", "escalated instead of patching"),
    ("reproduced", "crash incidents with a reproduction failing like them"),
)
"""Every rate as (key, what it means); each is a {"hits", "of", "rate"} figure."""

DEFECTS = (
    ("wrong_proven", "proven fixes the hidden tests reject"),
    ("pr_without_failing_test", "PRs without a test that failed before"),
)
"""Counts that must stay 0, as (key, what it means)."""
WAYS = (
    ("frame", "crashing frame"),
    ("outer_frame", "outer frame"),
    ("test_built_object", "test-built object"),
    ("derived_test", "derived test"),
)
"""How a reproduction was built (`Reproduction.way`), as (key, what it means)."""


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    summary = _figures(results)
    summary["by_bug_class"] = _grouped(results, "bug_class")
    summary["by_app"] = _grouped(results, "app")
    summary["by_suite"] = _grouped(results, "suite")
    return summary


def _figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    fix = [r for r in results if r.get("expect") == "fix"]
    escalate = [r for r in results if r.get("expect") == "escalate"]
    located = [r for r in results if r.get("gold") is not None]
    with_commit = [r for r in results if r.get("suspect_commit_hit") is not None]
    crashes = [r for r in results if r.get("crash")]
    seconds = [r["seconds"] for r in results]
    figures: dict[str, Any] = {
        "cases": len(results),
        "errors": sum(r["status"] == "error" for r in results),
        "statuses": _counts(r["status"] for r in results),
        "top1": _rate(located, lambda r: _within(r.get("localized_rank"), 1)),
        "top3": _rate(located, lambda r: _within(r.get("localized_rank"), 3)),
        "top5": _rate(located, lambda r: _within(r.get("localized_rank"), 5)),
        "file_top1": _rate(located, lambda r: _within(r.get("file_rank"), 1)),
        "file_top3": _rate(located, lambda r: _within(r.get("file_rank"), 3)),
        "file_top5": _rate(located, lambda r: _within(r.get("file_rank"), 5)),
        "suspect_commit": _rate(with_commit, lambda r: bool(r["suspect_commit_hit"])),
        "proven": _rate(fix, lambda r: bool(r["proven"])),
        "correct": _rate(fix, lambda r: bool(r["correct"])),
        "escalated_correctly": _rate(escalate, lambda r: bool(r["escalated_correctly"])),
        "reproduced": _rate(crashes, lambda r: r.get("reproduced_by") is not None),
        "reproduced_by": {
            way: sum(r.get("reproduced_by") == way for r in crashes) for way, _ in WAYS
        },
        "patched_when_escalation_was_right": sum(bool(r["proven"]) for r in escalate),
        "wrong_proven": sum(bool(r.get("wrong_proven")) for r in results),
        "pr_without_failing_test": sum(bool(r.get("pr_without_failing_test")) for r in results),
        "abstain": {
            "prs_opened": sum(bool(r.get("pr_opened")) for r in results),
            "abstained": sum(bool(r.get("abstained")) for r in results),
            "wrong_prs_avoided": sum(bool(r.get("wrong_pr_avoided")) for r in results),
            "right_prs_lost": sum(bool(r.get("right_pr_lost")) for r in results),
        },
        "seconds_total": round(sum(seconds), 1),
        "seconds_median": round(statistics.median(seconds), 2) if seconds else 0.0,
        "seconds_p90": round(_percentile(seconds, 0.9), 2) if seconds else 0.0,
        "tokens_in": sum(r["tokens_in"] for r in results),
        "tokens_out": sum(r["tokens_out"] for r in results),
        "cost_usd": round(sum(r["cost_usd"] for r in results), 4),
    }
    diffs = [r["diff_lines"] for r in results if r.get("diff_lines") is not None]
    figures["diff_lines_median"] = statistics.median(diffs) if diffs else None
    return figures


def _grouped(results: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        groups.setdefault(str(result.get(key) or "unknown"), []).append(result)
    return {name: _figures(members) for name, members in sorted(groups.items())}


def _rate(results: list[dict[str, Any]], hit: Any) -> dict[str, Any]:
    hits = sum(1 for result in results if hit(result))
    rate = round(hits / len(results), 3) if results else None
    return {"hits": hits, "of": len(results), "rate": rate}


def _within(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def _counts(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]

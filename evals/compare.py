"""`fixloop eval compare A.json B.json`: what changed between two runs, metric by metric and
case by case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.errors import FixloopError
from evals.summary import DEFECTS, METRICS, WAYS

CASE_FIELDS = (
    "status",
    "localized_rank",
    "suspect_commit_hit",
    "reproduced_by",
    "proven",
    "correct",
)
CASE_FIELDS_ESCALATE = ("status", "escalated_correctly", "reproduced_by", "proven")


def load_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixloopError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FixloopError(f"{path}: not an eval report ({error})") from None
    if not isinstance(report, dict) or "summary" not in report or "cases" not in report:
        raise FixloopError(f"{path}: not an eval report (expected 'summary' and 'cases')")
    return report


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The delta of every metric, and every case whose headline fields changed."""
    metrics = []
    for key, label in METRICS:
        a, b = before["summary"].get(key), after["summary"].get(key)
        if not a or not b:
            continue
        metrics.append(
            {
                "metric": key,
                "label": label,
                "before": a,
                "after": b,
                "delta_hits": b["hits"] - a["hits"],
            }
        )
    defects = [
        {
            "metric": key,
            "label": label,
            "before": before["summary"].get(key),
            "after": after["summary"].get(key),
        }
        for key, label in DEFECTS
    ]
    ways = [
        {
            "way": key,
            "label": label,
            "before": (before["summary"].get("reproduced_by") or {}).get(key),
            "after": (after["summary"].get("reproduced_by") or {}).get(key),
        }
        for key, label in WAYS
    ]
    old = {case["id"]: case for case in before["cases"]}
    new = {case["id"]: case for case in after["cases"]}
    changed = []
    for case_id in sorted(old.keys() & new.keys()):
        fields = CASE_FIELDS_ESCALATE if new[case_id].get("expect") == "escalate" else CASE_FIELDS
        diffs = {
            name: {"before": old[case_id].get(name), "after": new[case_id].get(name)}
            for name in fields
            if old[case_id].get(name) != new[case_id].get(name)
        }
        if diffs:
            verdict = _verdict(old[case_id], new[case_id])
            changed.append({"id": case_id, "verdict": verdict, **diffs})
    seconds = {
        "before": before["summary"].get("seconds_total"),
        "after": after["summary"].get("seconds_total"),
    }
    return {
        "metrics": metrics,
        "defects": defects,
        "reproduced_by": ways,
        "changed": changed,
        "only_before": sorted(old.keys() - new.keys()),
        "only_after": sorted(new.keys() - old.keys()),
        "seconds_total": seconds,
    }


def _verdict(old: dict[str, Any], new: dict[str, Any]) -> str:
    def points(case: dict[str, Any]) -> tuple[int, int, int]:
        success = bool(case.get("correct") or case.get("escalated_correctly"))
        rank = case.get("localized_rank")
        return (int(success), int(bool(case.get("proven"))), -(rank or 99))

    if points(new) > points(old):
        return "better"
    if points(new) < points(old):
        return "worse"
    return "changed"


def render_comparison(delta: dict[str, Any]) -> str:
    lines = ["metric                                     before      after     delta"]
    for row in delta["metrics"]:
        before, after = row["before"], row["after"]
        lines.append(
            f"  {row['label']:<38} {before['hits']:>3}/{before['of']:<4} "
            f"{after['hits']:>4}/{after['of']:<4} {row['delta_hits']:>+5}"
        )
    for row in delta.get("reproduced_by", []):
        shown = tuple("-" if row[key] is None else str(row[key]) for key in ("before", "after"))
        lines.append(f"  {'  reproduced, ' + row['label']:<38} {shown[0]:>8} {shown[1]:>9}")
    for row in delta.get("defects", []):
        before, after = row["before"], row["after"]
        shown = ("-" if before is None else str(before), "-" if after is None else str(after))
        lines.append(f"  {row['label'] + ' (must be 0)':<38} {shown[0]:>8} {shown[1]:>9}")
    seconds = delta["seconds_total"]
    lines.append(f"  {'case seconds, total':<38} {seconds['before']:>8} {seconds['after']:>9}")
    lines.append("")
    if not delta["changed"]:
        lines.append("no case changed")
    for case in delta["changed"]:
        fields = ", ".join(
            f"{name} {value['before']} -> {value['after']}"
            for name, value in case.items()
            if isinstance(value, dict)
        )
        lines.append(f"  {case['verdict']:<8} {case['id']}: {fields}")
    for label, key in (("only in the first", "only_before"), ("only in the second", "only_after")):
        if delta[key]:
            lines.append(f"{label}: {', '.join(delta[key])}")
    return "\n".join(lines)

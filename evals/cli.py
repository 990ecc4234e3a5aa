"""The `fixloop eval` command: run cases, print the summary, write the files, check a floor."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.errors import FixloopError
from agent.settings import Settings
from evals.builders.kit import CASES_DIR
from evals.builders.pasted import cases_at, is_pasted
from evals.compare import compare, load_report, render_comparison
from evals.report import terminal_summary, write_html, write_json
from evals.runner import EvalOptions, run_eval
from evals.suite import below_floor, load_suite


def eval_command(args: argparse.Namespace, settings: Settings, engines: list[str]) -> int:
    floor: dict[str, int] = {}
    paths = list(args.cases)
    if args.suite is not None:
        suite = load_suite(args.suite)
        paths = [*paths, *suite.cases]
        floor = suite.floor
    pasted = [path for path in paths if is_pasted(path)]
    if pasted:
        if len(pasted) != len(paths):
            raise FixloopError("fixloop eval: score pasted cases (evals/pasted) on their own")
        from evals.builders.pasted_score import score

        return score(cases_at(pasted), args.workdir or settings.home / "pasted", args.json_out)
    options = EvalOptions(
        engines=engines,
        jobs=args.jobs,
        workdir=args.workdir or settings.home / "evals",
        resume=args.resume,
        case_timeout=args.case_timeout,
        real_cache=settings.home / "real",
        fleet=_fleet(settings, args.broker) if getattr(args, "broker", None) else None,
    )
    report = run_eval(paths or [CASES_DIR], options, _progress)
    print(terminal_summary(report))
    kept = keep_report(report, settings.home, engines)
    print(f"kept for the console: {kept}")
    if args.json_out is not None:
        write_json(report, args.json_out)
        print(f"results: {args.json_out}")
    if args.report is not None:
        write_html(report, args.report)
        print(f"report: {args.report}")
    failures = below_floor(report["summary"], floor)
    for failure in failures:
        print(f"fixloop eval: below the floor: {failure}", file=sys.stderr)
    return 1 if failures else 0


def keep_report(report: dict[str, Any], home: Path, engines: list[str]) -> Path:
    """Every run's report under `<home>/evals/reports/`, named by when it ended and the
    engines, where the console lists it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = home / "evals" / "reports" / f"{stamp}-{'-'.join(engines) or 'none'}.json"
    write_json(report, path)
    return path


def _fleet(settings: Settings, broker: str) -> Any:
    """The Celery app whose workers replay the cases (`--broker URL`)."""
    from pydantic import SecretStr

    from agent.service.fleet.app import make_app

    return make_app(settings.model_copy(update={"broker_url": SecretStr(broker)}))


def compare_command(paths: list[Path]) -> int:
    if len(paths) != 2:
        raise FixloopError("usage: fixloop eval compare A.json B.json")
    delta = compare(load_report(paths[0]), load_report(paths[1]))
    print(render_comparison(delta))
    worse = [case["id"] for case in delta["changed"] if case["verdict"] == "worse"]
    if worse:
        print(f"fixloop eval compare: worse than before: {', '.join(worse)}", file=sys.stderr)
    return 1 if worse else 0


def _progress(done: int, total: int, result: dict[str, Any]) -> None:
    width = 24
    filled = round(width * done / total) if total else width
    bar = "#" * filled + "." * (width - filled)
    outcome = _outcome(result)
    line = f"[{bar}] {done:>3}/{total} {result['id']:<40} {outcome:<22} {result['seconds']:>6}s"
    print(line, file=sys.stderr, flush=True)


def _outcome(result: dict[str, Any]) -> str:
    if result["status"] == "error":
        return "ERROR"
    if result.get("expect") == "escalate":
        right = result["escalated_correctly"]
        return "escalated (right)" if right else f"{result['status']} (wrong)"
    if result.get("abstained"):
        would_be = "right" if result.get("right_pr_lost") else "wrong"
        return f"abstained (PR would be {would_be})"
    if result["correct"]:
        return "correct"
    if result["proven"]:
        return "proven, hidden fail"
    return result["status"]

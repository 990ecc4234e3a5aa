"""The reproduction rate on the eval corpus: how many incidents get a test that fails like them.

    python -m evals.bench_reproduce [CASES...] [--json FILE]

For each case with stack frames, the reproduction candidates are built from the incident at the
head of the case's repository and run alone on that commit in the sandbox (the suite is not run),
each checked as root cause checks it, until one fails like the incident: the frames' calls (with
objects built as the tests build them), then objects from fixtures, then derived tests (without
the baseline's coverage, so every test that calls a function of the crash is a candidate).
Cheaper than `fixloop eval`: no repair, no model, a pytest run per candidate tried.

"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from agent import wiring
from agent.diagnosis.reproduce import (
    NotRebuildable,
    first_that_reproduces,
    reproduction_candidates,
)
from agent.diagnosis.reproduce.derived import derived_candidates
from agent.diagnosis.reproduce.fixtures import fixture_candidates
from agent.domain import Reproduction, TestRun
from agent.intake.payloads import load_event_file
from agent.proof.prove import write_reproduction
from agent.proof.workbench import Workbench
from agent.settings import Settings
from evals.case import find_cases, load_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_reproduce")
    parser.add_argument("cases", nargs="*", type=Path, default=[Path("evals/cases")])
    parser.add_argument("--json", type=Path, help="write the per-case rows here")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-repro-") as scratch:
        settings = Settings(home=Path(scratch) / "home")
        sandbox = wiring.sandbox(settings)
        for path in find_cases(args.cases):
            case = load_case(path)
            repo_path = Path(scratch) / case.id
            subprocess.run(
                ["git", "clone", "--quiet", str(case.bundle), str(repo_path)], check=True
            )
            repo, _ = wiring.repo_and_index(settings, repo_path)
            incident, _ = load_event_file(case.incident_file)
            row: dict[str, Any] = {"case": case.id, "crash": bool(incident.crash)}
            if incident.crash is not None and incident.crash.frames:
                row.update(_attempt(incident, repo, Workbench(repo, sandbox, repo_path / "..")))
            rows.append(row)
            print(f"{case.id:44s} {row.get('outcome', '-'):12s} {row.get('reason', '')}")
    crashes = [row for row in rows if "outcome" in row]
    built = [row for row in crashes if row["outcome"] != "none"]
    reproduced = [row for row in crashes if row["outcome"] == "reproduced"]
    print(
        f"{len(crashes)} crash incidents: {len(built)} with a reproduction, "
        f"{len(reproduced)} that fail like the incident "
        f"({100 * len(reproduced) / max(len(crashes), 1):.0f}%)"
    )
    ways: dict[str, int] = {}
    for row in reproduced:
        ways[row["way"]] = ways.get(row["way"], 0) + 1
    print("built as: " + ", ".join(f"{way} {count}" for way, count in sorted(ways.items())))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def _attempt(incident: Any, repo: Any, bench: Workbench) -> dict[str, Any]:
    """Each candidate in order until one fails like the incident."""
    base = repo.head(repo.default_branch())
    try:
        candidates = reproduction_candidates(incident, repo, base)
        refusal = ""
    except NotRebuildable as error:
        candidates, refusal = [], error.reason
    # The last ways, as root cause tries them: fixture-built objects, then derived tests.
    candidates += fixture_candidates(incident, repo, base)[0]
    candidates += derived_candidates(incident, repo, base)[0]
    if not candidates:
        return {"outcome": "none", "reason": refusal or "no candidate"}

    def run(reproduction: Reproduction) -> TestRun:
        with bench.worktree(base, "repro") as tree:
            write_reproduction(tree, reproduction)
            return bench.sandbox.run_tests(tree, [reproduction.nodeid])

    _, tried = first_that_reproduces(candidates, incident, run)
    checked = tried[-1]
    return {
        "outcome": "reproduced" if checked.reproduced else "not-reproduced",
        "reason": checked.reason,
        "function": checked.target_function,
        "attempt": len(tried),
        "of": len(candidates),
        "way": checked.way,
    }


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the demo: wall time from the event's arrival to the PR, over several fresh runs.

    python -m evals.bench_demo --runs 5
    python -m evals.bench_demo --runs 3 --postgres postgresql://127.0.0.1:5432/test

Each run builds the sample service in a fresh directory with a fresh state directory, crashes it
under sentry-sdk, and carries the event to a PR awaiting review. Prints one line per run and the
median, and with --json the figures as one object. With `--postgres URL` the checkpoints and
records of each run live in a schema of their own in that database, dropped after the run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from agent.demo.run import run_demo
from agent.settings import Settings
from evals.postgres import scratch_schema


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_demo")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--postgres", metavar="URL", help="stores in this PostgreSQL database")
    args = parser.parse_args(argv)

    event_to_pr: list[float] = []
    for number in range(1, args.runs + 1):
        schema = scratch_schema(args.postgres) if args.postgres else nullcontext(None)
        with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as scratch, schema as url:
            root = Path(scratch)
            settings = Settings(home=root / "state", database_url=url)
            summary = run_demo(settings, root / "work", lambda line: None)
            if summary["status"] != "awaiting_review":
                print(f"run {number}: ended as {summary['status']}", file=sys.stderr)
                return 1
            seconds = summary["demo"]["seconds_event_to_pr"]
            event_to_pr.append(seconds)
            print(f"run {number}: event -> PR {seconds:.2f} s", file=sys.stderr)

    figures = {
        "store": "postgresql" if args.postgres else "sqlite",
        "runs": args.runs,
        "event_to_pr_median_s": round(statistics.median(event_to_pr), 2),
        "event_to_pr_min_s": round(min(event_to_pr), 2),
        "event_to_pr_max_s": round(max(event_to_pr), 2),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"event -> PR over {args.runs} runs: median {figures['event_to_pr_median_s']} s "
            f"(min {figures['event_to_pr_min_s']}, max {figures['event_to_pr_max_s']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

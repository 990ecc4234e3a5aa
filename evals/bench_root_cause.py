"""Benchmark root cause's repository reads on the eval corpus: gathering once versus twice.

    python -m evals.bench_root_cause [CASES...] [--runs 3]

`root_cause` reads the repository once (`gather`: frames placed in code, blame, the release
window, data flow, the definitions the window's commits changed) and ranks once. Before, it
diagnosed twice whenever the baseline's coverage was usable (a failing test or a reproduction):
once to pick the frame to rebuild, once more with Ochiai. For each case this times `gather` and
`rank` (median of `--runs`, after one warm-up that fills the code index's cache), so the time
the second pass cost is `gather + rank`. Coverage itself is not run; its Ochiai step costs the
same either way. Each line also gives the gold function's rank in that diagnosis (`-` for a
case without gold or without a traceback to rank), and the last line how many are first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from agent import wiring
from agent.diagnosis.ranking import gather, rank
from agent.intake.payloads import load_event_file
from agent.settings import Settings
from evals.case import find_cases, load_case
from evals.score import same_function


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_root_cause")
    parser.add_argument("cases", nargs="*", type=Path, default=[Path("evals/cases")])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case")
    args = parser.parse_args(argv)
    rows: list[tuple[str, float, float]] = []
    gold_ranks: list[int | None] = []
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-rc-") as scratch:
        for path in find_cases(args.cases):
            case = load_case(path)
            repo_path = Path(scratch) / case.id
            subprocess.run(
                ["git", "clone", "--quiet", str(case.bundle), str(repo_path)], check=True
            )
            settings = Settings(home=Path(scratch) / "home")
            repo, index = wiring.repo_and_index(settings, repo_path)
            incident, _ = load_event_file(case.incident_file)
            base = repo.head(repo.default_branch())
            gathered = gather(incident, repo, index, base)  # warm-up: fills the index cache
            rank(gathered, repo, index)
            gathers, ranks = [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                gathered = gather(incident, repo, index, base)
                middle = time.perf_counter()
                diagnosis = rank(gathered, repo, index)
                gathers.append(middle - started)
                ranks.append(time.perf_counter() - middle)
            gathered_s, ranked_s = statistics.median(gathers), statistics.median(ranks)
            rows.append((case.id, gathered_s, ranked_s))
            found = None
            if case.gold is not None and incident.exceptions:
                file, function = case.gold.file, case.gold.function
                found = next(
                    (
                        position
                        for position, suspect in enumerate(diagnosis.suspects, start=1)
                        if suspect.file == file and same_function(suspect.symbol, function)
                    ),
                    0,
                )
                gold_ranks.append(found or None)
            shown = "-" if found is None else (found or "none")
            print(f"{case.id:44s} gather {gathered_s:8.3f} s  rank {ranked_s:6.3f} s  gold {shown}")
    saved = [g + r for _, g, r in rows]
    print(
        f"{len(rows)} cases: a second diagnosis cost median {statistics.median(saved):.3f} s, "
        f"max {max(saved):.2f} s, total {sum(saved):.2f} s; gather is "
        f"{100 * sum(g for _, g, _ in rows) / sum(saved):.0f}% of it"
    )
    first = sum(1 for position in gold_ranks if position == 1)
    print(f"gold function ranked first in {first} of {len(gold_ranks)} cases with a traceback")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

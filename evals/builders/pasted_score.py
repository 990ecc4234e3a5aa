"""Score localization on the pasted corpus: fixloop's diagnosis against the plain frame list.

For each case (its repository built by `evals.builders.pasted`): the report's text is read as a
traceback incident, as `fixloop diagnose --event report.txt` reads it, and diagnosed at the
reported version. A hit is a suspect in a gold file whose name is a gold function's (the last
part of its qualname: frames name functions, not classes). Printed over the same cases:

* intake refusals (the text was not read as a traceback at all),
* no frame mapped (read, but no frame placed in the repository),
* function top-1 and top-3 of fixloop's ranking,
* the baseline: the traceback's frames innermost first (no index, no history), each placed by
  the longest tail of its path that is a file of the repository or, folder and file at least,
  ends exactly one (`humanize/time.py` places `src/humanize/time.py`); its first frame is its
  top-1.

and the same figures for each shape of traceback (`shape` in the case's spec).

    fixloop eval evals/pasted [--json OUT]              # or one case: evals/pasted/NAME
    python -m evals.builders.pasted_score [--workdir DIR] [--json OUT] [CASE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agent.errors import FixloopError
from agent.intake.payloads import parse_payload
from agent.settings import Settings
from evals.builders.pasted import DEFAULT_WORKDIR, ROOT, PastedCase, build_repo, pasted_cases

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_FRAME_SHAPES = (
    re.compile(r'File "(?P<path>[^"]+)", line \d+, in (?P<func>[\w<>.]+)'),
    re.compile(r"File (?P<path>[^\s\"]+\.py):\d+, in (?P<func>[\w<>.]+)"),
    re.compile(r"^\s*(?P<path>[^\s\"]+\.py):\d+: in (?P<func>[\w<>.]+)"),
    re.compile(r"^\s*(?P<path>[^\s\"]+\.py) in (?P<func>[\w<>.]+)\("),
)


@dataclass
class Outcome:
    case: str
    shape: str
    intake: str
    """`read`, or why the text was refused."""
    mapped: bool
    rank: int | None
    """1-based rank of the first suspect that is a gold function; None when none is."""
    baseline_rank: int | None
    top: list[str]


def score_case(case: PastedCase, workdir: Path, settings: Settings) -> Outcome:
    from agent.diagnosis.report import diagnose_incident

    repo = build_repo(case, workdir)
    tracked = _tracked(repo)
    baseline = baseline_frames(case.report, tracked)
    baseline_rank = _rank(baseline, case.gold)
    try:
        incident = parse_payload({"kind": "traceback", "text": case.report})
    except FixloopError as error:
        return Outcome(case.name, case.shape, f"refused: {error}", False, None, baseline_rank, [])
    report = diagnose_incident(settings, repo, incident)
    if report["diagnosis"] is None:
        return Outcome(case.name, case.shape, "read", False, None, baseline_rank, [])
    suspects = [(s["file"], s["symbol"]) for s in report["diagnosis"]["suspects"]]
    top = [f"{file}::{symbol}" for file, symbol in suspects[:3]]
    return Outcome(
        case.name, case.shape, "read", True, _rank(suspects, case.gold), baseline_rank, top
    )


def baseline_frames(text: str, tracked: set[str]) -> list[tuple[str, str]]:
    """The traceback's frames placed in the repository, innermost first, each once."""
    frames = []
    for line in _ANSI.sub("", text).splitlines():
        match = next((m for shape in _FRAME_SHAPES if (m := shape.search(line))), None)
        if match is not None:
            frames.append((match["path"], match["func"]))
    placed: list[tuple[str, str]] = []
    for path, function in reversed(frames):
        file = _longest_tail(path, tracked)
        if file is not None and (file, function) not in placed:
            placed.append((file, function))
    return placed


def _longest_tail(path: str, tracked: set[str]) -> str | None:
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in tracked:
            return candidate
        if "/" not in candidate:  # a bare file name (`__init__.py`) names no file for sure
            break
        ending = [file for file in tracked if file.endswith("/" + candidate)]
        if len(ending) == 1:
            return ending[0]
    return None


def _rank(ranked: list[tuple[str, str]], gold: tuple[tuple[str, str], ...]) -> int | None:
    names = {(path, qualname.rsplit(".", 1)[-1]) for path, qualname in gold}
    for position, (file, symbol) in enumerate(ranked, start=1):
        if (file, symbol.rsplit(".", 1)[-1]) in names:
            return position
    return None


def _tracked(repo: Path) -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True
    )
    return set(listed.stdout.splitlines())


def by_shape(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """`summary` of the cases of each shape."""
    shapes = sorted({o.shape for o in outcomes})
    return {shape: summary([o for o in outcomes if o.shape == shape]) for shape in shapes}


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    def share(count: int) -> str:
        return f"{count}/{len(outcomes)}"

    return {
        "cases": len(outcomes),
        "refused_at_intake": share(sum(o.intake != "read" for o in outcomes)),
        "no_frame_mapped": share(sum(o.intake == "read" and not o.mapped for o in outcomes)),
        "function_top1": share(sum(o.rank == 1 for o in outcomes)),
        "function_top3": share(sum(o.rank is not None and o.rank <= 3 for o in outcomes)),
        "baseline_frames_top1": share(sum(o.baseline_rank == 1 for o in outcomes)),
    }


def score(cases: list[PastedCase], workdir: Path, json_out: Path | None) -> int:
    """Score `cases`, print a line per case, the totals and the totals per shape."""
    settings = Settings(home=workdir / "state")
    outcomes = []
    for case in cases:
        outcome = score_case(case, workdir, settings)
        outcomes.append(outcome)
        rank = "-" if outcome.rank is None else outcome.rank
        base = "-" if outcome.baseline_rank is None else outcome.baseline_rank
        state = (
            outcome.intake
            if outcome.intake != "read"
            else ("diagnosed" if outcome.mapped else "no frame mapped")
        )
        print(
            f"{case.name:<28} {case.shape:<15} rank {rank!s:>3}  baseline {base!s:>3}  {state[:70]}"
        )
    totals = summary(outcomes)
    shapes = by_shape(outcomes)
    print("all: " + "  ".join(f"{key} {value}" for key, value in totals.items()))
    for shape, figures in shapes.items():
        print(f"  {shape}: " + "  ".join(f"{key} {value}" for key, value in figures.items()))
    if json_out is not None:
        report = {"summary": totals, "by_shape": shapes, "cases": [asdict(o) for o in outcomes]}
        json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.builders.pasted_score", description=__doc__
    )
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path, help="write every case's outcome here")
    args = parser.parse_args(argv)
    try:
        return score(pasted_cases(ROOT, args.cases), args.workdir, args.json)
    except FixloopError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark the code index on the running interpreter's standard library.

    python -m evals.bench_index --runs 3

Copies the standard library (without site-packages) into a scratch directory and indexes it as
`fixloop index` does, each step in a fresh process so that peak memory is its own:

* plain directory: cold (empty state directory), warm (nothing changed), one file changed;
* the same files committed to a git repository (its own state directory): cold, warm, and a new
  commit that changes one file.

Wall seconds are the index's own (process start and imports are not counted); CPU seconds add
the worker processes. The machine's load average is printed alongside: on a shared machine the
wall time follows it. Targets (issue #4): cold <= 4 s on 2 cores, warm <= 0.3 s, peak <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

_IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_index")
    parser.add_argument("--runs", type=int, default=3, help="cold runs (the median is reported)")
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--step", nargs=2, metavar=("PATH", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(_step(Path(args.step[0]), Path(args.step[1]), args.workers)))
        return 0

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    results: dict[str, Any] = {"stdlib": str(stdlib), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-index-") as scratch:
        root = Path(scratch)
        tree = root / "stdlib"
        shutil.copytree(stdlib, tree, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))
        results["directory"] = _scenario(tree, root / "home-dir", args, _change_a_file)
        _git(tree, "init", "-q")
        _git(tree, "add", "-A")
        _git(tree, *_IDENTITY, "commit", "-q", "-m", "stdlib")
        results["git"] = _scenario(tree, root / "home-git", args, _commit_a_change)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def _scenario(tree: Path, home: Path, args: argparse.Namespace, change: Any) -> dict[str, Any]:
    colds = []
    for _ in range(args.runs):
        shutil.rmtree(home, ignore_errors=True)
        colds.append(_run(tree, home, args.workers))
    cold = sorted(colds, key=lambda step: step["seconds"])[len(colds) // 2]
    warm = _run(tree, home, args.workers)
    change(tree)
    changed = _run(tree, home, args.workers)
    name = "git repository" if (tree / ".git").exists() else "plain directory"
    print(
        f"{name}: {cold['files']} files, {cold['lines']} lines, {cold['symbols']} symbols",
        file=sys.stderr,
    )
    for label, step in (("cold", cold), ("warm", warm), ("one file changed", changed)):
        print(f"  {label:<17}{_describe(step)}", file=sys.stderr)
    if args.runs > 1:
        spread = ", ".join(f"{step['seconds']:.2f}" for step in colds)
        print(f"  cold runs        {spread} s", file=sys.stderr)
    return {
        "cold": cold,
        "cold_seconds": [step["seconds"] for step in colds],
        "cold_median_s": statistics.median(step["seconds"] for step in colds),
        "warm": warm,
        "one_file_changed": changed,
    }


def _describe(step: dict[str, Any]) -> str:
    return (
        f"{step['seconds']:6.2f} s wall, {step['cpu_seconds']:6.2f} s CPU "
        f"({step['main_cpu_seconds']:.2f} main), "
        f"parsed {step['parsed']:>4}, peak {step['peak_memory_mb']:.0f} MB "
        f"(worker {step['worker_peak_mb']:.0f} MB), load {step['load_before']:.1f}"
    )


def _run(tree: Path, home: Path, workers: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "evals.bench_index", "--workers", str(workers)]
    out = subprocess.run(
        [*command, "--step", str(tree), str(home)], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out))


def _step(tree: Path, home: Path, workers: int) -> dict[str, Any]:
    """One index run in this process, as `fixloop index` does it."""
    import dataclasses
    import resource

    from agent import wiring
    from agent.settings import Settings

    settings = Settings(home=home, index_workers=workers)
    load = os.getloadavg()[0]
    before = os.times()
    started = time.perf_counter()
    index, rev = wiring.code_index_of(settings, tree)
    stats = index.index(rev)
    seconds = time.perf_counter() - started
    after = os.times()
    main_cpu = sum(after[:2]) - sum(before[:2])
    worker_cpu = sum(after[2:4]) - sum(before[2:4])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **dataclasses.asdict(stats),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(main_cpu + worker_cpu, 2),
        "main_cpu_seconds": round(main_cpu, 2),
        "worker_cpu_seconds": round(worker_cpu, 2),
        "peak_memory_mb": round(peak, 1),
        "load_before": round(load, 2),
    }


def _change_a_file(tree: Path) -> None:
    target = tree / "json" / "decoder.py"
    target.write_text(target.read_text() + "\n\ndef added_by_bench():\n    return 1\n")
    past = time.time() - 10  # older than the stat cache's two-second racy window
    os.utime(target, (past, past))


def _commit_a_change(tree: Path) -> None:
    target = tree / "json" / "encoder.py"
    target.write_text(target.read_text() + "\n\ndef added_by_bench():\n    return 2\n")
    _git(tree, "add", "-A")
    _git(tree, *_IDENTITY, "commit", "-q", "-m", "change one file")


def _git(tree: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(tree), *args], check=True)


if __name__ == "__main__":
    sys.exit(main())

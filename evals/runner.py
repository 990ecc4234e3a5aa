"""Run many cases: one child process per case, `jobs` at a time, resumable.

Each case's result is written to `<workdir>/results/<case-id>.json` as soon as it is scored,
with the case's digest and the engines; `resume=True` keeps those results (same case files,
same engines) and runs only the rest. A case whose process crashes or outlives the time limit
scores as an error with its reason; the run goes on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.builders.mutants import build_mutants, is_mutant_spec
from evals.builders.mutants import spec_files as mutant_spec_files
from evals.builders.real import RealCaseError, materialize, spec_files
from evals.case import Case, CaseError, find_cases, load_case
from evals.score import error_result
from evals.summary import summarize

Progress = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class EvalOptions:
    engines: list[str]
    jobs: int = 2
    workdir: Path = Path(".fixloop/evals")
    resume: bool = False
    case_timeout: float = 900.0
    real_cache: Path = Path(".fixloop/real")
    """Where real-bug specs (`evals/real/*.toml`) and mutant suites (`evals/mutants/`) are built
    into cases, and kept."""
    fleet: Any = None
    """A fixloop Celery app (`fixloop eval --broker`): cases are replayed by its workers."""


def run_eval(
    paths: list[Path], options: EvalOptions, progress: Progress | None = None
) -> dict[str, Any]:
    """Replay every case under `paths`; return `{"summary", "cases", "run"}`."""
    started = time.monotonic()
    cases: list[Case | tuple[Path, str]] = []
    suites: dict[str, str] = {}
    for suite_path in paths:
        case_paths, built = _build_real_cases([suite_path], options.real_cache.resolve())
        for path in [*find_cases(case_paths), *built]:
            if isinstance(path, tuple):
                cases.append(path)
                suites[path[0].name] = _suite_name(suite_path)
                continue
            try:
                case = load_case(path)
            except CaseError as error:
                cases.append((path, str(error)))
                suites[path.name] = _suite_name(suite_path)
                continue
            cases.append(case)
            suites[case.id] = _suite_name(suite_path)
    results_dir = options.workdir.resolve() / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    done = 0
    lock = threading.Lock()

    def one(item: Case | tuple[Path, str]) -> dict[str, Any]:
        nonlocal done
        if isinstance(item, Case):
            digest = item.digest()
            result = _kept(item, digest, options, results_dir) or _replay(
                item, digest, options, results_dir
            )
        else:
            path, reason = item
            result = error_result(path.name, reason, 0.0)
        result["suite"] = suites.get(result["id"], "")
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(cases), result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        results = list(pool.map(one, cases))
    return {
        "summary": summarize(results),
        "cases": results,
        "run": {
            "engines": options.engines,
            "jobs": options.jobs,
            "wall_seconds": round(time.monotonic() - started, 1),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }


def _replay_on_fleet(case: Case, options: EvalOptions) -> dict[str, Any]:
    """Replay `case` on a worker of the fleet; a case not back within twice its time limit (it
    may wait for a worker first) is an error."""
    from celery.exceptions import TimeoutError as NotBack

    started = time.monotonic()
    args = [str(case.path.resolve()), options.engines, options.case_timeout]
    pending = options.fleet.send_task("fixloop.eval_case", args=args, queue="heavy")
    try:
        result = pending.get(timeout=2 * options.case_timeout, propagate=False)
    except NotBack:
        result = {"error": f"no worker sent it back within {2 * options.case_timeout:g}s"}
    finally:
        pending.forget()
    if isinstance(result, dict) and "id" in result:  # a scored case (its own `error` or None)
        return result
    reason = result["error"] if isinstance(result, dict) else f"the worker failed: {result!r}"
    return error_result(case.id, reason, time.monotonic() - started, case)


def _suite_name(path: Path) -> str:
    """The suite a path given to `run_eval` stands for: its directory's name (a case directory
    or spec file names the directory that holds it)."""
    if is_mutant_spec(path):
        return "mutants"
    if path.is_file() or (path / "case.toml").is_file():
        return path.resolve().parent.name
    return path.resolve().name


def _build_real_cases(
    paths: list[Path], cache: Path
) -> tuple[list[Path], list[Path | tuple[Path, str]]]:
    """Split `paths` into case directories, real-bug specs and mutant suites; build each spec
    into a case (each suite into its mutants) under `cache`, or reuse the one built before. A
    spec that cannot be built is an error result."""
    case_paths: list[Path] = []
    built: list[Path | tuple[Path, str]] = []
    for path in paths:
        suites = (
            mutant_spec_files(path) if path.is_dir() else [path] if is_mutant_spec(path) else []
        )
        for suite in suites:
            print(f"building the mutants of {suite} (cached under {cache})", file=sys.stderr)
            try:
                built.extend(build_mutants(suite, cache))
            except RealCaseError as error:
                built.append((suite.with_suffix(""), str(error)))
        if suites:
            continue
        specs = spec_files(path) if path.is_dir() else [path] if path.suffix == ".toml" else []
        if not specs or (path / "case.toml").is_file():
            case_paths.append(path)
            continue
        for spec in specs:
            print(f"building {spec.stem} (cached under {cache})", file=sys.stderr, flush=True)
            try:
                built.append(materialize(spec, cache))
            except RealCaseError as error:
                built.append((spec.with_suffix(""), str(error)))
    return case_paths, built


def _kept(
    case: Case, digest: str, options: EvalOptions, results_dir: Path
) -> dict[str, Any] | None:
    if not options.resume:
        return None
    stored = results_dir / f"{case.id}.json"
    if not stored.is_file():
        return None
    try:
        result: dict[str, Any] = json.loads(stored.read_text())
    except json.JSONDecodeError:
        return None
    meta = result.get("replay", {})
    if meta.get("digest") != digest or meta.get("engines") != options.engines:
        return None
    return result


def _replay(case: Case, digest: str, options: EvalOptions, results_dir: Path) -> dict[str, Any]:
    out = results_dir / f"{case.id}.json"
    out.unlink(missing_ok=True)
    if options.fleet is not None:
        result = _replay_on_fleet(case, options)
        result["replay"] = {"digest": digest, "engines": options.engines}
        out.write_text(json.dumps(result, indent=2, default=str))
        return result
    command = [
        sys.executable,
        "-m",
        "evals.replay",
        str(case.path),
        "--workdir",
        str(options.workdir.resolve() / "cases"),
        "--engine",
        ",".join(options.engines),
        "--out",
        str(out),
    ]
    started = time.monotonic()
    try:
        process = subprocess.run(
            command, capture_output=True, text=True, timeout=options.case_timeout
        )
    except subprocess.TimeoutExpired:
        result = error_result(
            case.id, f"timed out after {options.case_timeout:g}s", options.case_timeout, case
        )
    else:
        if out.is_file():
            result = json.loads(out.read_text())
        else:
            tail = " | ".join(process.stderr.strip().splitlines()[-3:])
            reason = f"the replay process died (exit {process.returncode}): {tail}"
            result = error_result(case.id, reason, time.monotonic() - started, case)
    result["replay"] = {"digest": digest, "engines": options.engines}
    out.write_text(json.dumps(result, indent=2, default=str))
    return result

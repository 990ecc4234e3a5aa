"""Mutants of real code: single-statement bugs injected into released packages, built on demand.

A mutant suite (`evals/mutants/suite.toml`) names real-bug specs of `evals/real/` whose projects
it mutates, a seed, a quota of mutants per pattern and project, and how many candidates per
pattern and project may be run at most. For each project, `build_mutants`:

* takes the spec's fixed release (the one mutated) and buggy release (its parent commit) from
  the index, pinned by sha256, into an environment with the spec's dependencies and coverage;
* runs the release's suite once under per-test coverage: the tests that pass, and the tests
  that run each line;
* lists the mutations of `mutations.py` per pattern, shuffled by the seed, and runs each one's
  covering test files with the mutation written in; a mutation that some passing test catches
  is kept, up to the quota (one no passing test runs is skipped without a run);
* builds each kept mutant into a case: the release with the mutation as the release commit over
  the release before it; the incident is one catching test (a crash raised in the release's
  code preferred) replayed, as the event the real sentry-sdk sends with local variables for a
  crash, else as a failing test; every other catching test is deselected from the visible
  suite, as a real incident comes with weak tests; the hidden tests are the whole suite; the
  gold is the mutated function, and the original statement is in the case's `[mutation]`.

Nothing is committed: cases, decisions and environments live under `<cache>/mutants/`, cached by
the release, the seed and this builder's code.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.builders.kit import HARNESS, _function_lines
from evals.builders.mutations import PATTERNS, Mutation, candidates
from evals.builders.real import (
    DEPLOY_PATH,
    RealCaseError,
    RealSpec,
    _commit,
    _git,
    _offline,
    _pytest_env,
    _replace_tree,
    capture_harness,
    environment,
    load_spec,
    visible_command,
)
from evals.builders.real_mine import CRASH_MESSAGE, is_source_path, is_test_path
from evals.builders.sdists import SdistError, download, find_sdist, unpack
from evals.case import parse_pytest_command

MUTANTS_DIR = Path(__file__).resolve().parents[1] / "mutants"
COVERAGE = "coverage==7.18.0"
RUN_TIMEOUT = 300
"""Seconds a mutant's covering tests may run: past it the mutant is not kept (it hangs)."""
BASELINE_TIMEOUT = 3600
"""Seconds the release's whole suite may run under coverage."""
DECISIONS = "1"
"""Bump when how a mutant is run or judged changes: the cached decisions are then remade."""
CASES = "3"
"""Bump when how a kept mutant becomes a case changes: the cached cases are then rebuilt."""
OUTCOMES_PLUGIN = '''\
"""Write each test's outcome, and its failure's message, to FIXLOOP_OUTCOMES; under coverage,
measure each test in a context of its own (its node id)."""
import json
import os

import pytest

OUTCOMES = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    try:
        import coverage
        cov = coverage.Coverage.current()
    except ImportError:
        cov = None
    if cov is not None:
        cov.switch_context(item.nodeid)
    yield
    if cov is not None:
        cov.switch_context("")


def pytest_runtest_logreport(report):
    if report.when != "call" and report.outcome == "passed":
        return
    seen = OUTCOMES.get(report.nodeid)
    if seen is not None and seen[0] != "passed":
        return
    crash = getattr(report.longrepr, "reprcrash", None)
    OUTCOMES[report.nodeid] = [report.outcome, crash.message if crash is not None else ""]


def pytest_sessionfinish(session):
    with open(os.environ["FIXLOOP_OUTCOMES"], "w") as out:
        json.dump(OUTCOMES, out)
'''
READ_COVERAGE = """\
import json, sys
import coverage
data = coverage.CoverageData(basename=sys.argv[1])
data.read()
lines = {
    path: {str(line): [c for c in contexts if c] for line, contexts in
           data.contexts_by_lineno(path).items()}
    for path in data.measured_files()
}
with open(sys.argv[2], "w") as out:
    json.dump(lines, out)
"""
Log = Callable[[str], None]


@dataclass(frozen=True)
class MutantSuite:
    path: Path
    seed: int
    quota: int
    tries: int
    projects: tuple[RealSpec, ...]
    patterns: tuple[str, ...]


def is_mutant_spec(path: Path) -> bool:
    if path.suffix != ".toml" or not path.is_file():
        return False
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return "projects" in data and "quota" in data


def spec_files(directory: Path) -> list[Path]:
    """The mutant suite of a directory: its `suite.toml`."""
    path = directory / "suite.toml"
    return [path] if is_mutant_spec(path) else []


def load_mutant_suite(path: Path) -> MutantSuite:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RealCaseError(f"{path}: {error}") from None
    real = path.parent / str(data.get("real", "../real"))
    try:
        projects = tuple(load_spec(real / f"{name}.toml") for name in data["projects"])
        patterns = tuple(data.get("patterns", PATTERNS))
        suite = MutantSuite(
            path=path,
            seed=int(data["seed"]),
            quota=int(data["quota"]),
            tries=int(data["tries"]),
            projects=projects,
            patterns=patterns,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RealCaseError(f"{path}: missing or malformed key {error}") from None
    unknown = sorted(set(patterns) - set(PATTERNS))
    if unknown:
        raise RealCaseError(f"{path}: unknown patterns {unknown}; known: {', '.join(PATTERNS)}")
    return suite


def build_mutants(
    path: Path, cache: Path, index: str | None = None, log: Log | None = None
) -> list[Path | tuple[Path, str]]:
    """Every mutant case of the suite at `path`, built under `cache/mutants` (or reused); a
    project that cannot be prepared is an error entry (its name, the reason)."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    suite = load_mutant_suite(path)
    built: list[Path | tuple[Path, str]] = []
    for spec in suite.projects:
        try:
            project = Project(spec, suite.seed, cache, index, say)
            try:
                for pattern in suite.patterns:
                    built.extend(project.mutants(pattern, suite.quota, suite.tries))
            finally:
                shutil.rmtree(project.work, ignore_errors=True)
        except (RealCaseError, SdistError) as error:
            built.append((path.with_name(f"{spec.project}-mutants"), str(error)))
    return built


class Project:
    """One release of a project, its suite's baseline and coverage, and its mutants."""

    def __init__(self, spec: RealSpec, seed: int, cache: Path, index: str | None, log: Log) -> None:
        self.spec = spec
        self.seed = seed
        self.cache = cache
        self.log = log
        self.home = cache / "mutants" / "projects" / f"{spec.project}-{spec.fixed.version}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.before = self._unpack("before", spec.buggy.version, spec.buggy.sha256, index)
        self.release = self._unpack("release", spec.fixed.version, spec.fixed.sha256, index)
        self.python = environment((*spec.deps, COVERAGE), cache / "venvs")
        self.command = visible_command(spec, self.python, self.release)
        self.baseline = self._baseline()
        self.passing = {
            t for t, (outcome, _) in self.baseline["outcomes"].items() if outcome == "passed"
        }
        self.failing = sorted(
            t for t, (outcome, _) in self.baseline["outcomes"].items() if outcome == "failed"
        )
        self._candidates: dict[str, list[Mutation]] | None = None
        self.work = self.home / f"work-{os.getpid()}"
        self.decisions_file = self.home / f"decisions-{seed}-{_mutations_digest()[:12]}.json"
        self.decisions: dict[str, dict[str, Any]] = (
            json.loads(self.decisions_file.read_text()) if self.decisions_file.is_file() else {}
        )

    def mutants(self, pattern: str, quota: int, tries: int) -> list[Path | tuple[Path, str]]:
        """Up to `quota` mutants of `pattern`, running at most `tries` candidates."""
        found: list[Path | tuple[Path, str]] = []
        run = 0
        for mutation in self._ordered(pattern):
            if len(found) >= quota or run >= tries:
                break
            decision = self._decide(mutation)
            if decision.get("uncovered"):
                continue
            run += 1
            if not decision["kept"]:
                continue
            try:
                found.append(self._case(mutation, decision))
            except RealCaseError as error:
                found.append((MUTANTS_DIR / self._id(mutation), str(error)))
        self.log(f"{self.spec.project} {pattern}: {len(found)} kept of {run} run")
        return found

    def _ordered(self, pattern: str) -> list[Mutation]:
        if self._candidates is None:
            self._candidates = {}
            for path in sorted(self.release.rglob("*.py")):
                relative = path.relative_to(self.release).as_posix()
                if not is_source_path(relative) or relative.startswith(("build/", ".")):
                    continue
                source = path.read_text(encoding="utf-8", errors="replace")
                for name, found in candidates(relative, source, self.seed).items():
                    self._candidates.setdefault(name, []).extend(found)
        ordered = list(self._candidates.get(pattern, []))
        random.Random(f"{self.seed}:{self.spec.project}:{pattern}").shuffle(ordered)
        return ordered

    def _id(self, mutation: Mutation) -> str:
        return f"{self.spec.project}-{mutation.pattern}-{mutation.key}"

    def _unpack(self, role: str, version: str, sha256: str, index: str | None) -> Path:
        tree = self.home / role
        if (self.home / f"{role}.ready").is_file():
            return tree
        sdist = find_sdist(self.spec.project, version, sha256, index)
        unpack(download(sdist, self.cache / "sdists"), tree)
        (self.home / f"{role}.ready").write_text(version)
        return tree

    def _baseline(self) -> dict[str, Any]:
        stored = self.home / "baseline.json"
        if stored.is_file():
            data: dict[str, Any] = json.loads(stored.read_text())
            if data.get("command") == self.command:
                return data
        self.log(f"{self.spec.project} {self.spec.fixed.version}: the suite under coverage")
        command = parse_pytest_command(self.command)
        scratch = Path(tempfile.mkdtemp(prefix="fixloop-mutants-"))
        try:
            data_file = scratch / "coverage.data"
            wrapper = ["-m", "coverage", "run", f"--data-file={data_file}"]
            wrapper += [f"--include={self.release}/*", "-m", "pytest"]
            outcomes = self._pytest(
                self.release, [*command.options, *command.paths], scratch, wrapper, BASELINE_TIMEOUT
            )
            if outcomes is None:
                raise RealCaseError(
                    f"{self.spec.id}: the suite ran over {BASELINE_TIMEOUT}s on "
                    f"{self.spec.fixed.version}"
                )
            lines_file = scratch / "lines.json"
            read = subprocess.run(
                [self.python, "-c", READ_COVERAGE, str(data_file), str(lines_file)],
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
            if read.returncode != 0:
                tail = " | ".join(read.stderr.strip().splitlines()[-2:])
                raise RealCaseError(f"{self.spec.id}: no coverage of the suite: {tail}")
            measured = json.loads(lines_file.read_text())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        root = f"{self.release}/"
        lines = {
            path.removeprefix(root): by_line
            for path, by_line in measured.items()
            if path.startswith(root)
        }
        data = {"command": self.command, "outcomes": outcomes, "lines": lines}
        stored.write_text(json.dumps(data))
        return data

    def _pytest(
        self,
        tree: Path,
        args: list[str],
        scratch: Path,
        wrapper: list[str] | None = None,
        timeout: float = RUN_TIMEOUT,
    ) -> dict[str, list[str]] | None:
        """Run pytest in `tree` with the outcomes plugin; None when it outlives the timeout."""
        boot = scratch / "boot"
        boot.mkdir(exist_ok=True)
        (boot / "fixloop_outcomes.py").write_text(OUTCOMES_PLUGIN)
        out = scratch / "outcomes.json"
        out.unlink(missing_ok=True)
        env = _pytest_env(tree, {"PYTHONPATH": str(boot), "FIXLOOP_OUTCOMES": str(out)})
        argv = [self.python, *(wrapper or ["-m", "pytest"]), "-q", "-p", "no:cacheprovider"]
        argv += ["-p", "fixloop_outcomes", f"--rootdir={tree}", *args]
        try:
            subprocess.run(
                [*_offline(), *argv],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return None
        if not out.is_file():
            return {}
        outcomes: dict[str, list[str]] = json.loads(out.read_text())
        return outcomes

    def _decide(self, mutation: Mutation) -> dict[str, Any]:
        known = self.decisions.get(mutation.key)
        if known is not None:
            return known
        covering = sorted(
            set(self.baseline["lines"].get(mutation.file, {}).get(str(mutation.line), []))
            & self.passing
        )
        source = _read(self.release / mutation.file)
        if not covering:
            decision: dict[str, Any] = {"kept": False, "uncovered": True}
        elif not mutation.changes(source):
            decision = {"kept": False, "uncovered": True, "reason": "the same code, or none"}
        else:
            decision = self._run_mutant(mutation, covering)
        self.decisions[mutation.key] = decision
        partial = self.decisions_file.with_suffix(".part")
        partial.write_text(json.dumps(self.decisions, indent=1))
        partial.replace(self.decisions_file)
        return decision

    def _run_mutant(self, mutation: Mutation, covering: list[str]) -> dict[str, Any]:
        if not self.work.is_dir():  # this process's own copy: the release stays as published
            shutil.copytree(self.release, self.work, symlinks=True)
        source_file = self.work / mutation.file
        original = _read(self.release / mutation.file)
        files = sorted({test.split("::")[0] for test in covering})
        options = parse_pytest_command(self.command).options
        scratch = Path(tempfile.mkdtemp(prefix="fixloop-mutant-"))
        try:
            _write(source_file, mutation.apply(original))
            outcomes = self._pytest(self.work, [*options, *files], scratch)
        finally:
            _write(source_file, original)
            shutil.rmtree(scratch, ignore_errors=True)
        if outcomes is None:
            return {"kept": False, "reason": f"the tests ran over {RUN_TIMEOUT}s"}
        if not outcomes:
            return {"kept": False, "reason": "pytest reported no test"}
        catchers = {
            test: outcome[1]
            for test, outcome in sorted(outcomes.items())
            if test in self.passing and outcome[0] == "failed"
        }
        if not catchers:
            return {"kept": False, "reason": f"no test of {len(covering)} running it fails"}
        return {"kept": True, "catchers": catchers}

    def _case(self, mutation: Mutation, decision: dict[str, Any]) -> Path:
        case_id = self._id(mutation)
        target = self.cache / "mutants" / "cases" / case_id
        stamp = target / "build.sha256"
        digest = hashlib.sha256(
            (_case_digest() + self.spec.digest() + json.dumps(decision)).encode()
        ).hexdigest()
        if stamp.is_file() and stamp.read_text() == digest and Path(self.python).exists():
            return target
        self.log(f"building {case_id}")
        scratch = Path(tempfile.mkdtemp(prefix=f"fixloop-{case_id}-"))
        try:
            self._build_case(case_id, mutation, decision, scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        stamp.write_text(digest)
        return target

    def _build_case(
        self,
        case_id: str,
        mutation: Mutation,
        decision: dict[str, Any],
        scratch: Path,
        target: Path,
    ) -> None:
        catchers: dict[str, str] = decision["catchers"]
        test = _incident_test(catchers, case_id)
        tree = scratch / "mutated"
        shutil.copytree(self.release, tree, symlinks=True)
        source = _read(self.release / mutation.file)
        _write(tree / mutation.file, mutation.apply(source))
        repo = scratch / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        shas = {}
        for step, (role, version, files) in enumerate(
            [
                ("before", self.spec.buggy.version, self.before),
                ("release", self.spec.fixed.version, tree),
            ]
        ):
            _replace_tree(repo, files)
            _commit(repo, f"Release {version}", f"2020-01-{step + 1:02d}T12:00:00+00:00")
            _git(repo, "tag", f"v{version}")
            shas[role] = _git(repo, "rev-parse", "HEAD").strip()
        incident: dict[str, Any] | None = None
        if _is_crash(catchers[test]):
            incident = self._capture(case_id, tree, scratch, shas["release"], test)
        if incident is None:
            incident = {
                "kind": "test_failure",
                "tests": [test],
                "project": self.spec.project,
                "release": shas["release"],
                "environment": "ci",
            }
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        _git(repo, "bundle", "create", str(target / "repo.bundle"), "--all")
        (target / "incident.json").write_text(json.dumps(incident, indent=2) + "\n")
        kind = "crash" if "exception" in incident else "wrong-value"
        # pytest deselects by node id prefix: a catching test whose id starts the incident's
        # (`test_x` of `test_x_more`) cannot be deselected without it, so it stays visible.
        others = [other for other in catchers if not test.startswith(other)]
        visible = " ".join(
            [self.command, *(f"--deselect {shlex.quote(t)}" for t in [*self.failing, *others])]
        )
        hidden = " ".join([self.command, *(f"--deselect {shlex.quote(t)}" for t in self.failing)])
        start, end = _function_lines(tree / mutation.file, mutation.function)
        before, after = mutation.statement(source)
        q = json.dumps
        tags = [kind, mutation.pattern, "mutant", "python", "library", self.spec.project]
        lines = [
            f"id = {q(case_id)}",
            f"title = {q(f'{self.spec.project} {self.spec.fixed.version}: {mutation.pattern}')}",
            'expect = "fix"',
            f"tags = [{', '.join(q(tag) for tag in tags)}]",
            f"test_command = {q(visible)}",
            f"hidden_test_command = {q(hidden)}",
            f"python = {q(self.python)}",
            "",
            "[gold]",
            f"file = {q(mutation.file)}",
            f"function = {q(mutation.function)}",
            f"lines = [{start}, {end}]",
            f"commit = {q(shas['release'])}",
            "",
            "[mutation]",
            f"pattern = {q(mutation.pattern)}",
            f"line = {mutation.line}",
            f"original = {q(before)}",
            f"mutated = {q(after)}",
            f"incident_test = {q(test)}",
            f"catching_tests = {len(catchers)}",
        ]
        (target / "case.toml").write_text("\n".join(lines) + "\n")

    def _capture(
        self, case_id: str, tree: Path, scratch: Path, release: str, test: str
    ) -> dict[str, Any] | None:
        """The event the real sentry-sdk sends when `test` crashes on the mutant, or None when
        no frame of the crash is the release's code (a crash in the test itself)."""
        boot, out = capture_harness(
            self.python, tree, scratch / "capture", self.spec.project, case_id, release
        )
        env = _pytest_env(
            tree, {"PYTHONPATH": str(boot), "FIXLOOP_CASE_CONFIG": str(boot / "config.json")}
        )
        argv = [self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tree}"]
        argv += ["-p", "fixloop_capture", test]
        try:
            subprocess.run(
                [*_offline(), *argv], cwd=tree, env=env, capture_output=True, timeout=RUN_TIMEOUT
            )
        except subprocess.TimeoutExpired:
            return None
        events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        if not events or not _raised_in_release(events[0]):
            return None
        event: dict[str, Any] = events[0]
        event["project"] = self.spec.project
        return event


def _read(path: Path) -> str:
    """A source file as it is, line endings and all."""
    with path.open(encoding="utf-8", newline="") as file:
        return file.read()


def _write(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(text)


def _incident_test(catchers: dict[str, str], case_id: str) -> str:
    """The catching test the incident reports: a crash if some test crashes (production would
    report the crash), drawn by the case's id among the candidates."""
    crashes = sorted(test for test, message in catchers.items() if _is_crash(message))
    return random.Random(case_id).choice(crashes or sorted(catchers))


def _is_crash(message: str) -> bool:
    return bool(CRASH_MESSAGE.match(message)) and not message.startswith("AssertionError")


def _raised_in_release(event: dict[str, Any]) -> bool:
    for value in event.get("exception", {}).get("values", []):
        for frame in value.get("stacktrace", {}).get("frames", []):
            path = str(frame.get("abs_path") or "")
            relative = path.removeprefix(DEPLOY_PATH + "/")
            if relative != path and not is_test_path(relative):
                return True
    return False


def _mutations_digest() -> str:
    """What a decision (caught or not) depends on: the mutations and how they are run."""
    here = Path(__file__).resolve().parent
    return hashlib.sha256((here / "mutations.py").read_bytes() + DECISIONS.encode()).hexdigest()


def _case_digest() -> str:
    """What a case depends on beyond its decision: the mutations, the harness, `CASES`."""
    payload = _mutations_digest().encode() + HARNESS.read_bytes() + CASES.encode()
    return hashlib.sha256(payload).hexdigest()


def main(argv: list[str] | None = None) -> int:
    import argparse

    from agent.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m evals.builders.mutants",
        description="Build the mutants of a mutant suite into the state directory.",
    )
    parser.add_argument("suite", type=Path, nargs="?", default=MUTANTS_DIR / "suite.toml")
    args = parser.parse_args(argv)
    if not is_mutant_spec(args.suite):
        print(f"{args.suite}: not a mutant suite (needs 'projects' and 'quota')", file=sys.stderr)
        return 2
    try:
        built = build_mutants(args.suite, (Settings().home / "real").resolve())
    except RealCaseError as error:
        print(f"mutants: {error}", file=sys.stderr)
        return 1
    cases = [entry for entry in built if isinstance(entry, Path)]
    counts: dict[str, int] = {}
    for case in cases:
        pattern = tomllib.loads((case / "case.toml").read_text())["mutation"]["pattern"]
        counts[pattern] = counts.get(pattern, 0) + 1
    for pattern in PATTERNS:
        print(f"{pattern:<20} {counts.get(pattern, 0)}")
    print(f"{'mutants':<20} {len(cases)}")
    for entry in built:
        if isinstance(entry, tuple):
            print(f"error: {entry[0].name}: {entry[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn a real-bug spec (`evals/real/<id>.toml`) into a case in the state directory, on demand.

A spec names a pure-Python project and three of its releases from the package index, each
pinned by sha256: `before`, `buggy` (release N, where the bug is) and `fixed` (a later release
whose new or changed tests fail on N). `materialize` builds, in `<cache>/<id>/`:

* `repo.bundle`: `before` committed and tagged, `buggy` on top of it, tagged; for a wrong-value
  case, or a crash raised in the test itself rather than in the release's code, one more commit
  adds the tests of `fixed` that fail on N (the failing test on main);
* a virtualenv with the spec's pinned dependencies from the index (shared by every case with the
  same dependencies), named in `case.toml` as the interpreter that runs the case's tests;
* `incident.json`: a `test_failure` naming the witness tests, or for a crash raised in the
  release's code the event the real sentry-sdk sent while the witness test crashed on N
  (`harness.py` starts the SDK);
* `hidden/`: the `fixed` release's versions of the test files that changed in the fix.

The build checks the case is sound (each witness fails on N with the fixed tests overlaid and
passes on `fixed`) and is cached by the spec's digest: a changed spec is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from evals.builders.kit import HARNESS, SITE_PACKAGES, STDLIB, _function_lines, _junit_key
from evals.builders.sdists import Sdist, SdistError, download, find_sdist, unpack
from evals.case import parse_pytest_command

REAL_DIR = Path(__file__).resolve().parents[1] / "real"
DEPLOY_PATH = "/srv/app"
RUN_TIMEOUT = 600
AUTHOR = ("Release Manager", "releases@example.invalid")
CAPTURE_PLUGIN = '''\
"""Report each test's crash (an exception that is not a failed assertion) to sentry-sdk."""
import pytest
import sentry_sdk


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "call" and call.excinfo is not None:
        if not call.excinfo.errisinstance(AssertionError):
            sentry_sdk.capture_exception(call.excinfo.value)
            sentry_sdk.flush()
'''


class RealCaseError(Exception):
    """A spec does not make a sound case here; the message says which step failed."""


@dataclass(frozen=True)
class Release:
    version: str
    sha256: str


@dataclass(frozen=True)
class RealSpec:
    path: Path
    id: str
    project: str
    before: Release
    buggy: Release
    fixed: Release
    kind: Literal["crash", "wrong-value"]
    witness: tuple[str, ...]
    hidden: tuple[str, ...]
    deselect: tuple[str, ...]
    test_command: str
    deps: tuple[str, ...]
    gold_file: str
    gold_function: str
    introduced_in_buggy: bool

    def digest(self) -> str:
        payload = self.path.read_bytes() + HARNESS.read_bytes() + Path(__file__).read_bytes()
        return hashlib.sha256(payload).hexdigest()


def load_spec(path: Path) -> RealSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RealCaseError(f"{path}: {error}") from None
    try:
        gold = data["gold"]
        kind = data["kind"]
        if kind not in ("crash", "wrong-value"):
            raise RealCaseError(f"{path}: kind is {kind!r}, expected 'crash' or 'wrong-value'")
        return RealSpec(
            path=path,
            id=str(data["id"]),
            project=str(data["project"]),
            before=_release(data["before"]),
            buggy=_release(data["buggy"]),
            fixed=_release(data["fixed"]),
            kind=kind,
            witness=tuple(data["witness"]),
            hidden=tuple(data["hidden"]),
            deselect=tuple(data.get("deselect", ())),
            test_command=str(data["test_command"]),
            deps=tuple(data["deps"]),
            gold_file=str(gold["file"]),
            gold_function=str(gold["function"]),
            introduced_in_buggy=bool(gold.get("introduced_in_buggy", False)),
        )
    except (KeyError, TypeError) as error:
        raise RealCaseError(f"{path}: missing or malformed key {error}") from None


def _release(raw: dict[str, Any]) -> Release:
    return Release(version=str(raw["version"]), sha256=str(raw["sha256"]))


def _has_spec_keys(path: Path) -> bool:
    if path.suffix != ".toml" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8", errors="replace")
    return "[buggy]" in head and "witness" in head


def spec_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.toml") if _has_spec_keys(path))


def materialize(spec_path: Path, cache: Path, index: str | None = None) -> Path:
    """The case built from `spec_path` under `cache` (built now unless already cached), its
    sdists from `index` (a PEP 691 simple index; default: the one pip uses)."""
    spec = load_spec(spec_path)
    target = cache / "cases" / spec.id
    stamp = target / "spec.sha256"
    if stamp.is_file() and stamp.read_text() == spec.digest():
        python = _case_python(target)
        if python is not None and Path(python).exists():
            return target
    # Outside any project: pytest would otherwise take a config file above the tree for its own.
    scratch = Path(tempfile.mkdtemp(prefix=f"fixloop-real-{spec.id}-"))
    try:
        _build(spec, cache, scratch, target, index)
    except SdistError as error:
        raise RealCaseError(f"{spec.id}: {error}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    stamp.write_text(spec.digest())
    return target


def _case_python(case_dir: Path) -> str | None:
    try:
        data = tomllib.loads((case_dir / "case.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    python = data.get("python")
    return python if isinstance(python, str) else None


def _build(spec: RealSpec, cache: Path, scratch: Path, target: Path, index: str | None) -> None:
    trees = {}
    for role, release in (("before", spec.before), ("buggy", spec.buggy), ("fixed", spec.fixed)):
        sdist = find_sdist(spec.project, release.version, release.sha256, index)
        trees[role] = unpack(download(sdist, cache / "sdists"), scratch / role)
    python = environment(spec.deps, cache / "venvs")
    overlaid = scratch / "overlaid"
    shutil.copytree(trees["buggy"], overlaid)
    _overlay(trees["fixed"], overlaid, spec.hidden)
    failed = _failing(python, overlaid, spec.witness, scratch / "buggy.xml")
    if set(failed) != {_junit_key(t) for t in spec.witness}:
        raise RealCaseError(
            f"{spec.id}: on {spec.buggy.version} these witness tests do not fail: "
            f"{sorted(set(map(_junit_key, spec.witness)) - set(failed))}"
        )
    still = _failing(python, trees["fixed"], spec.witness, scratch / "fixed.xml")
    if still:
        raise RealCaseError(f"{spec.id}: on {spec.fixed.version} still failing: {sorted(still)}")
    repo = scratch / "repo"
    shas = _commit_releases(spec, repo, trees)
    event = (
        _capture(spec, python, overlaid, scratch, shas["buggy"]) if spec.kind == "crash" else None
    )
    if event is not None and raised_in_the_release(event, spec):
        incident = event
    else:
        # A wrong value, or a crash raised in the test itself: the failing test on main.
        message = f"Add the tests of {spec.fixed.version} that fail on {spec.buggy.version}"
        _overlay(trees["fixed"], repo, _witness_files(spec))
        _commit(repo, message, "2020-01-03T12:00:00+00:00")
        shas["head"] = _git(repo, "rev-parse", "HEAD").strip()
        incident = {
            "kind": "test_failure",
            "tests": list(spec.witness),
            "project": spec.project,
            "release": shas["head"],
            "environment": "ci",
        }
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _git(repo, "bundle", "create", str(target / "repo.bundle"), "--all")
    (target / "incident.json").write_text(json.dumps(incident, indent=2) + "\n")
    _overlay(trees["fixed"], target / "hidden", spec.hidden)
    test_command = visible_command(spec, python, repo)
    (target / "case.toml").write_text(_case_toml(spec, python, trees["buggy"], shas, test_command))


def environment(deps: tuple[str, ...], venvs: Path) -> str:
    """A virtualenv with exactly `deps` from the index (and sentry-sdk for capturing crashes),
    shared by every case with the same list; return its interpreter."""
    wanted = sorted({*deps, f"sentry-sdk=={_sentry_version()}"})
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    venv = venvs / key
    python = venv / "bin" / "python"
    if (venv / "ready").is_file():
        return str(python)
    if venv.exists():
        shutil.rmtree(venv)
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(venv)], venvs, "create the case's virtualenv")
    _run(
        [str(python), "-m", "pip", "install", "-q", "--no-input", *wanted],
        venvs,
        "install the case's dependencies",
    )
    (venv / "ready").write_text("\n".join(wanted) + "\n")
    return str(python)


def _sentry_version() -> str:
    import sentry_sdk

    return str(sentry_sdk.VERSION)


def _overlay(source: Path, target: Path, files: tuple[str, ...]) -> None:
    for name in files:
        origin = source / name
        if not origin.is_file():
            raise RealCaseError(f"{name}: not in {source.name}")
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, destination)


def run_pytest(
    python: str, tree: Path, args: list[str], report: Path, extra_env: dict[str, str] | None = None
) -> dict[tuple[str, str], str]:
    """Run pytest in `tree`; return (classname, name) -> outcome ('passed', 'failed' with the
    failure's message after a tab, 'skipped') for every test the JUnit report lists."""
    from xml.etree import ElementTree

    env = _pytest_env(tree, extra_env)
    argv = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--rootdir={tree}"]
    argv += [f"--junitxml={report}", *args]
    try:
        subprocess.run(
            [*_offline(), *argv],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise RealCaseError(f"pytest did not finish in {RUN_TIMEOUT}s in {tree.name}") from None
    if not report.is_file():
        return {}
    outcomes: dict[tuple[str, str], str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            outcomes[key] = "failed\t" + (problem.get("message") or "")
        elif case.find("skipped") is not None:
            outcomes[key] = "skipped"
        else:
            outcomes[key] = "passed"
    return outcomes


def _pytest_env(tree: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tree.parent),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(extra_env or {}),
    }
    if (tree / "src").is_dir():  # as the sandbox does: a src layout imports the tree's code
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [env.get("PYTHONPATH"), str(tree / "src")])
        )
    return env


def visible_command(spec: RealSpec, python: str, head: Path) -> str:
    """The spec's test command, less the test files that do not even collect in the case's
    environment (a test dependency the release's metadata does not name, a warning that a
    newer pytest turns into an error): the suite as it can run here. A witness file or a
    suite that still does not collect makes the case unsound."""
    command = parse_pytest_command(spec.test_command, spec.path)
    ignored: list[str] = []
    for _ in range(2):
        args = [*command.options, *(f"--ignore={path}" for path in ignored), *command.paths]
        argv = [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        argv += [f"--rootdir={head}", *args]
        try:
            result = subprocess.run(
                [*_offline(), *argv],
                cwd=head,
                env=_pytest_env(head),
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise RealCaseError(
                f"{spec.id}: collecting the suite took over {RUN_TIMEOUT}s"
            ) from None
        broken = sorted(
            {
                line.split()[1].split("::")[0]
                for line in result.stdout.splitlines()
                if line.startswith("ERROR ") and len(line.split()) > 1
            }
        )
        if not broken:
            return " ".join([spec.test_command, *(f"--ignore={path}" for path in ignored)])
        witnessed = {test.split("::")[0] for test in spec.witness}
        if ignored or witnessed & set(broken) or not all((head / p).is_file() for p in broken):
            tail = " | ".join(result.stdout.strip().splitlines()[-3:])
            raise RealCaseError(f"{spec.id}: the visible suite does not collect here: {tail}")
        ignored = broken
    raise RealCaseError(f"{spec.id}: the visible suite does not collect here")


def _failing(
    python: str, tree: Path, tests: tuple[str, ...], report: Path
) -> dict[tuple[str, str], str]:
    outcomes = run_pytest(python, tree, list(tests), report)
    wanted = {_junit_key(test) for test in tests}
    missing = wanted - set(outcomes)
    if missing:
        raise RealCaseError(f"not collected in {tree.name}: {sorted(missing)}")
    return {key: out for key, out in outcomes.items() if out.startswith("failed")}


def _commit_releases(spec: RealSpec, repo: Path, trees: dict[str, Path]) -> dict[str, str]:
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    shas: dict[str, str] = {}
    steps = [("before", spec.before), ("buggy", spec.buggy)]
    for step, (role, release) in enumerate(steps):
        _replace_tree(repo, trees[role])
        date = f"2020-01-{step + 1:02d}T12:00:00+00:00"
        _commit(repo, f"Release {release.version}", date)
        _git(repo, "tag", f"v{release.version}")
        shas[role] = _git(repo, "rev-parse", "HEAD").strip()
    shas["head"] = shas["buggy"]
    return shas


def raised_in_the_release(event: dict[str, Any], spec: RealSpec) -> bool:
    """Whether some frame of the crash is the release's own code, not a test: only then is it
    an incident production could report; a crash in the test itself is a failing test."""
    tests = set(spec.hidden) | {test.split("::")[0] for test in spec.witness}
    for value in event.get("exception", {}).get("values", []):
        for frame in value.get("stacktrace", {}).get("frames", []):
            path = str(frame.get("abs_path") or "")
            if path.startswith(DEPLOY_PATH + "/"):
                relative = path.removeprefix(DEPLOY_PATH + "/")
                if relative not in tests and "/tests/" not in f"/{relative}":
                    return True
    return False


def _witness_files(spec: RealSpec) -> tuple[str, ...]:
    files = dict.fromkeys(test.split("::")[0] for test in spec.witness)
    helpers = [name for name in spec.hidden if Path(name).name == "conftest.py"]
    return tuple([*helpers, *files])


def _replace_tree(repo: Path, tree: Path) -> None:
    for child in repo.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(tree, repo, dirs_exist_ok=True, symlinks=True)


def _commit(repo: Path, message: str, date: str) -> None:
    name, email = AUTHOR
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_COMMITTER_DATE": date,
    }
    _git(repo, "add", "-A", "-f")
    _git(repo, "commit", "-q", "--allow-empty", "-m", message, env=env)


def _capture(
    spec: RealSpec, python: str, tree: Path, scratch: Path, release: str
) -> dict[str, Any]:
    """Run the witness tests on N under the real sentry-sdk; return the first crash's event."""
    boot, out = capture_harness(python, tree, scratch / "boot", spec.project, spec.id, release)
    run_pytest(
        python,
        tree,
        ["-p", "fixloop_capture", *spec.witness],
        scratch / "capture.xml",
        {"PYTHONPATH": str(boot), "FIXLOOP_CASE_CONFIG": str(boot / "config.json")},
    )
    events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not events:
        raise RealCaseError(f"{spec.id}: the witness tests crashed, but sentry-sdk sent no event")
    event: dict[str, Any] = events[0]
    event["project"] = spec.project
    return event


def _case_toml(
    spec: RealSpec, python: str, buggy: Path, shas: dict[str, str], test_command: str
) -> str:
    q = json.dumps
    hidden_command = " ".join(
        [
            "python -m pytest -q -p no:cacheprovider",
            *(name for name in spec.hidden if Path(name).name != "conftest.py"),
            *(f"--deselect {test}" for test in spec.deselect),
        ]
    )
    start, end = _function_lines(buggy / spec.gold_file, spec.gold_function)
    tags = [spec.kind, "real-bug", "python", "library", spec.project]
    lines = [
        f"id = {q(spec.id)}",
        f"title = {q(f'{spec.project} {spec.buggy.version}, fixed in {spec.fixed.version}')}",
        'expect = "fix"',
        f"tags = [{', '.join(q(tag) for tag in tags)}]",
        f"test_command = {q(test_command)}",
        f"hidden_test_command = {q(hidden_command)}",
        f"python = {q(python)}",
        "",
        "[gold]",
        f"file = {q(spec.gold_file)}",
        f"function = {q(spec.gold_function)}",
        f"lines = [{start}, {end}]",
    ]
    if spec.introduced_in_buggy:
        lines.append(f"commit = {q(shas['buggy'])}")
    return "\n".join(lines) + "\n"


def _offline() -> list[str]:
    if shutil.which("bwrap") is None:
        return []
    return ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--"]


def _run(argv: list[str], cwd: Path, what: str) -> None:
    cwd.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RealCaseError(f"{what} did not finish in {RUN_TIMEOUT}s") from None
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise RealCaseError(f"{what} failed (exit {result.returncode}): {tail}")


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
        cwd=repo,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RealCaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


__all__ = ["RealCaseError", "RealSpec", "Sdist", "load_spec", "materialize", "spec_files"]


def capture_harness(
    python: str, tree: Path, boot: Path, project: str, case_id: str, release: str
) -> tuple[Path, Path]:
    """Set up a capture run of the real sentry-sdk in `boot` (put it on PYTHONPATH, with
    `FIXLOOP_CASE_CONFIG` pointing at `boot/config.json` and `-p fixloop_capture`): paths of
    `tree`, site-packages and the standard library read as a deployment's, fixed event ids.
    Returns the folder and the file the events are written to."""
    boot.mkdir()
    shutil.copy(HARNESS, boot / "sitecustomize.py")
    (boot / "fixloop_capture.py").write_text(CAPTURE_PLUGIN)
    out = boot / "events.jsonl"
    paths = json.loads(
        subprocess.run(
            [python, "-c", "import json,sysconfig;print(json.dumps(sysconfig.get_paths()))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    config = {
        "out": str(out),
        "rewrite": {
            str(tree): DEPLOY_PATH,
            paths["purelib"]: SITE_PACKAGES,
            paths["stdlib"]: STDLIB,
        },
        "release": release,
        "environment": "production",
        "server_name": f"{project}-{hashlib.sha256(case_id.encode()).hexdigest()[:4]}",
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"fixloop-evals/{case_id}").hex,
        "timestamp": 1577880000 + 86400 * 3,
    }
    (boot / "config.json").write_text(json.dumps(config))
    return boot, out

"""Build one eval case from a spec: a git history, a real sentry-sdk event, hidden tests.

A builder module describes its application as a list of `Commit`s and its cases as `CaseSpec`s.
`build_case` then, in a scratch directory:

1. commits the history with fixed authors and dates (the same shas every time) and bundles it;
2. checks the case is sound: the visible suite passes on HEAD (a crash case) or the reported
   tests fail there (a wrong-value case); the hidden tests fail on HEAD and, with the reference
   fix applied, pass together with the visible suite;
3. for a crash, really runs the buggy code under sentry-sdk (`trigger`, a Python snippet run in
   the HEAD checkout) and keeps the event the SDK sent, with the checkout's path rewritten to the
   deploy path and the volatile fields (event id, timestamps, trace ids, host) pinned;
4. writes `case.toml`, `repo.bundle`, `incident.json` and `hidden/` into `evals/cases/<id>/`.

Nothing here is imported by fixloop itself; builders run only when a case is (re)built.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from xml.etree import ElementTree

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"
HARNESS = Path(__file__).resolve().parent / "harness.py"
SITE_PACKAGES = "/usr/local/lib/python3.11/site-packages"
"""Where third-party modules (`CaseSpec.libraries`, sentry-sdk) appear to live in the event."""
STDLIB = "/usr/local/lib/python3.11"
"""Where the standard library appears to live in the event."""

Shape = Literal["sentry_event", "sentry_webhook", "sentry_api"]


class CaseBuildError(Exception):
    """The spec does not make a sound case; the message says which check failed."""


@dataclass(frozen=True)
class Commit:
    message: str
    author: str
    """`Name <email>`."""
    date: str
    """ISO 8601 with offset, e.g. `2026-03-02T10:15:00+01:00`."""
    files: Mapping[str, str | None]
    """Path -> new content (dedented); None deletes the file."""
    tag: str | None = None
    """A release tag on this commit, e.g. `v1.4.0`."""


@dataclass(frozen=True)
class Gold:
    file: str
    function: str
    """Qualified name as the code index gives it: `fn`, `Class.method`, `outer.inner`."""
    commit_message: str | None = None
    """The message of the commit that introduced the bug; its sha goes into `case.toml`."""
    lines: tuple[int, int] | None = None
    """Defaults to the function's line range at HEAD."""


@dataclass(frozen=True)
class CaseSpec:
    id: str
    title: str
    app: str
    """The kind of application: web-handler, cli, data-pipeline, library, worker, config."""
    bug_class: str
    history: tuple[Commit, ...]
    gold: Gold | None
    expect: Literal["fix", "escalate"] = "fix"
    kind: Literal["crash", "wrong-value"] = "crash"
    trigger: str | None = None
    """Python run in the HEAD checkout under sentry-sdk; it must end in an exception that the
    SDK reports (uncaught, or passed to `sentry_sdk.capture_exception` as the app does)."""
    failing_tests: tuple[str, ...] = ()
    """The pytest node ids that fail on HEAD: for a wrong-value case each fails by a wrong
    value; a crash case that names them (instead of a `trigger`) is reported by CI, and each
    fails by an exception."""
    fix: Mapping[str, str] = field(default_factory=dict)
    """The reference fix on top of HEAD: path -> full new content (dedented)."""
    hidden: Mapping[str, str] = field(default_factory=dict)
    """Hidden tests: path (relative to the repo root) -> content (dedented)."""
    libraries: Mapping[str, str] = field(default_factory=dict)
    """Third-party modules the trigger imports, not part of the repo: path -> content."""
    shape: Shape = "sentry_event"
    deploy_path: str = "/srv/app"
    project: str = "4507000"
    environment: str = "production"
    test_command: str = "python -m pytest -q tests"
    setup: str | None = None
    extra_tags: tuple[str, ...] = ()
    language: str = "python"

    @property
    def hidden_test_command(self) -> str:
        return "python -m pytest -q " + " ".join(sorted(self.hidden)) if self.hidden else ""


def build_case(spec: CaseSpec, cases_dir: Path = CASES_DIR) -> Path:
    """Build `spec` into `cases_dir/<id>/` (replacing what is there); return that directory."""
    with tempfile.TemporaryDirectory(prefix=f"fixloop-case-{spec.id}-") as scratch_name:
        scratch = Path(scratch_name)
        repo = scratch / "repo"
        shas = _commit_history(repo, spec.history)
        _check_sound(spec, repo, scratch)
        incident = _incident(spec, repo, scratch, shas)
        target = cases_dir / spec.id
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        _git(repo, "bundle", "create", str(target / "repo.bundle"), "--all")
        (target / "incident.json").write_text(json.dumps(incident, indent=2) + "\n")
        for path, content in spec.hidden.items():
            destination = target / "hidden" / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(_text(content))
        (target / "case.toml").write_text(_case_toml(spec, repo, shas))
    return target


# --- history ------------------------------------------------------------------------------


def _commit_history(repo: Path, history: tuple[Commit, ...]) -> dict[str, str]:
    """Commit `history` into a new repo at `repo`; return commit message -> sha."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    shas: dict[str, str] = {}
    for commit in history:
        _write_files(repo, commit.files)
        _git(repo, "add", "-A")
        name, email = commit.author.rsplit(" <", 1)
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_AUTHOR_DATE": commit.date,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_DATE": commit.date,
        }
        _git(repo, "commit", "-q", "--allow-empty", "-m", commit.message, env=env)
        sha = _git(repo, "rev-parse", "HEAD").strip()
        if commit.message in shas:
            raise CaseBuildError(f"two commits share the message {commit.message!r}")
        shas[commit.message] = sha
        if commit.tag:
            _git(repo, "tag", commit.tag, env=env)
    return shas


def _write_files(root: Path, files: Mapping[str, str | None]) -> None:
    for path, content in files.items():
        target = root / path
        if content is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_text(content))


def _text(content: str) -> str:
    text = textwrap.dedent(content)
    return text.lstrip("\n") if text.startswith("\n") else text


# --- soundness ----------------------------------------------------------------------------


def _check_sound(spec: CaseSpec, repo: Path, scratch: Path) -> None:
    head = _copy_tree(repo, scratch / "head")
    suite = _run(spec.test_command, head)
    if spec.kind == "crash" and not spec.failing_tests and suite.returncode != 0:
        raise CaseBuildError(f"{spec.id}: the visible suite fails on HEAD:\n{_tail(suite)}")
    if spec.kind == "wrong-value" and not spec.failing_tests:
        raise CaseBuildError(f"{spec.id}: a wrong-value case names its failing tests")
    if spec.failing_tests:
        _check_red_tests(spec, head, scratch / "suite.xml")
    if spec.expect == "escalate" and not spec.hidden:
        return
    if not spec.hidden or not spec.fix:
        raise CaseBuildError(f"{spec.id}: a case to fix needs hidden tests and a reference fix")
    _write_files(head, spec.hidden)
    if _run(spec.hidden_test_command, head).returncode == 0:
        raise CaseBuildError(f"{spec.id}: the hidden tests pass on HEAD; they test nothing")
    fixed = _copy_tree(repo, scratch / "fixed")
    _write_files(fixed, spec.fix)
    _write_files(fixed, spec.hidden)
    for command in (spec.hidden_test_command, spec.test_command):
        result = _run(command, fixed)
        if result.returncode != 0:
            raise CaseBuildError(f"{spec.id}: {command!r} fails with the fix:\n{_tail(result)}")


def _check_red_tests(spec: CaseSpec, head: Path, report: Path) -> None:
    """On HEAD, exactly the reported tests fail, each with a wrong value (a wrong-value case)
    or each by an exception (a crash case)."""
    _run(f"{spec.test_command} --junitxml={report}", head)
    failures: dict[tuple[str, str], str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is not None:
            key = (case.get("classname", ""), case.get("name", ""))
            failures[key] = failure.get("message", "")
    reported = {_junit_key(nodeid) for nodeid in spec.failing_tests}
    if set(failures) != reported:
        raise CaseBuildError(
            f"{spec.id}: failing on HEAD: {sorted(failures)}; reported: {sorted(reported)}"
        )
    crashes = {
        name: message
        for (_, name), message in failures.items()
        if not message.startswith(("assert", "AssertionError"))
    }
    if spec.kind == "wrong-value" and crashes:
        raise CaseBuildError(f"{spec.id}: these fail by a crash, not a wrong value: {crashes}")
    wrong = sorted(name for (_, name) in failures if name not in crashes)
    if spec.kind == "crash" and wrong:
        raise CaseBuildError(f"{spec.id}: these fail by a wrong value, not a crash: {wrong}")


def _junit_key(nodeid: str) -> tuple[str, str]:
    """`tests/test_a.py::TestB::test_c` as JUnit XML names it: (`tests.test_a.TestB`, `test_c`)."""
    path, *parts = nodeid.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *parts[:-1]]), parts[-1] if parts else ""


def _copy_tree(repo: Path, target: Path) -> Path:
    shutil.copytree(repo, target, ignore=shutil.ignore_patterns(".git"))
    return target


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = command.split()
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _tail(result: subprocess.CompletedProcess[str], lines: int = 25) -> str:
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-lines:])


# --- the incident -------------------------------------------------------------------------


def _incident(spec: CaseSpec, repo: Path, scratch: Path, shas: dict[str, str]) -> dict[str, Any]:
    head_sha = _git(repo, "rev-parse", "HEAD").strip()
    if spec.failing_tests:
        if spec.trigger is not None:
            raise CaseBuildError(f"{spec.id}: a case names failing tests or a trigger, not both")
        return {
            "kind": "test_failure",
            "tests": list(spec.failing_tests),
            "project": spec.project,
            "release": head_sha,
            "environment": "ci",
        }
    if spec.trigger is None:
        raise CaseBuildError(f"{spec.id}: a crash case needs a trigger")
    event = _capture(spec, repo, scratch, head_sha)
    if spec.shape == "sentry_webhook":
        return _as_webhook(event, spec)
    if spec.shape == "sentry_api":
        return _as_api_event(event, spec)
    return event


def _capture(spec: CaseSpec, repo: Path, scratch: Path, release: str) -> dict[str, Any]:
    """Run the trigger in a checkout of HEAD under sentry-sdk; return the event it sent."""
    checkout = _copy_tree(repo, scratch / "deployed")
    libraries = scratch / "lib" / "site-packages"
    _write_files(libraries, spec.libraries)
    out = scratch / "events.jsonl"
    boot = scratch / "boot"
    boot.mkdir()
    shutil.copy(HARNESS, boot / "sitecustomize.py")
    launcher = scratch / "bin" / spec.app
    launcher.parent.mkdir()
    launcher.write_text(_text(spec.trigger or ""))
    config = {
        "checkout": str(checkout),
        "libraries": str(libraries),
        "out": str(out),
        "rewrite": {
            str(checkout): spec.deploy_path,
            str(libraries): SITE_PACKAGES,
            str(launcher): f"/usr/local/bin/{spec.app}",
            sysconfig.get_paths()["purelib"]: SITE_PACKAGES,
            sysconfig.get_paths()["stdlib"]: STDLIB,
        },
        "release": release,
        "environment": spec.environment,
        "server_name": f"{spec.app}-{hashlib.sha256(spec.id.encode()).hexdigest()[:4]}",
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"fixloop-evals/{spec.id}").hex,
        "timestamp": _last_date(spec) + 86400,
    }
    (scratch / "config.json").write_text(json.dumps(config))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(map(str, (boot, checkout, checkout / "src", libraries))),
        "FIXLOOP_CASE_CONFIG": str(scratch / "config.json"),
    }
    result = subprocess.run(
        [*_offline(), sys.executable, str(launcher)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    events = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if not events:
        raise CaseBuildError(f"{spec.id}: the trigger reported no event:\n{_tail(result)}")
    event = events[0]
    event["project"] = spec.project
    return event


def _offline() -> list[str]:
    """A prefix that runs the trigger without network (its own network namespace), so that a
    trigger can never reach a service of the machine that builds it; empty without bubblewrap."""
    if shutil.which("bwrap") is None:
        print("warning: no bubblewrap; the trigger runs with the host's network", file=sys.stderr)
        return []
    return ["bwrap", "--dev-bind", "/", "/", "--unshare-net", "--die-with-parent", "--"]


def _last_date(spec: CaseSpec) -> float:
    return datetime.fromisoformat(spec.history[-1].date).timestamp()


def _as_webhook(event: dict[str, Any], spec: CaseSpec) -> dict[str, Any]:
    """Sentry's `event_alert` integration webhook around the stored event."""
    issue_id = str(int(hashlib.sha256(spec.id.encode()).hexdigest()[:8], 16))
    base = f"https://sentry.io/api/0/projects/acme/{spec.app}"
    stored = {
        **event,
        "issue_id": issue_id,
        "url": f"{base}/events/{event['event_id']}/",
        "web_url": f"https://acme.sentry.io/issues/{issue_id}/events/{event['event_id']}/",
        "issue_url": f"https://sentry.io/api/0/issues/{issue_id}/",
    }
    return {
        "action": "triggered",
        "installation": {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "fixloop-evals/install"))},
        "data": {"event": stored, "triggered_rule": "New issue in production"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
    }


def _as_api_event(event: dict[str, Any], spec: CaseSpec) -> dict[str, Any]:
    """The same event as Sentry's REST API returns it: `entries`, camelCase frame keys."""
    values = []
    for value in event.get("exception", {}).get("values", []):
        frames = [
            {
                "filename": frame.get("filename"),
                "absPath": frame.get("abs_path"),
                "module": frame.get("module"),
                "function": frame.get("function"),
                "lineNo": frame.get("lineno"),
                "inApp": frame.get("in_app"),
                "context": _api_context(frame),
                "vars": frame.get("vars"),
            }
            for frame in value.get("stacktrace", {}).get("frames", [])
        ]
        values.append(
            {
                "type": value.get("type"),
                "value": value.get("value"),
                "module": value.get("module"),
                "mechanism": value.get("mechanism"),
                "stacktrace": {"frames": frames},
            }
        )
    return {
        "id": event["event_id"],
        "eventID": event["event_id"],
        "projectID": spec.project,
        "entries": [{"type": "exception", "data": {"values": values}}],
        "release": {"version": event.get("release")},
        "environment": event.get("environment"),
        "platform": "python",
        "dateCreated": event.get("timestamp"),
        "tags": [{"key": "environment", "value": event.get("environment")}],
    }


def _api_context(frame: dict[str, Any]) -> list[list[Any]]:
    lineno = frame.get("lineno") or 0
    pre = frame.get("pre_context") or []
    post = frame.get("post_context") or []
    lines = [*pre, frame.get("context_line") or "", *post]
    first = lineno - len(pre)
    return [[first + offset, line] for offset, line in enumerate(lines)]


# --- case.toml ----------------------------------------------------------------------------


def _case_toml(spec: CaseSpec, repo: Path, shas: dict[str, str]) -> str:
    tags = [spec.kind, spec.bug_class, spec.language, spec.app, *spec.extra_tags]
    lines = [
        f"id = {_q(spec.id)}",
        f"title = {_q(spec.title)}",
        f"expect = {_q(spec.expect)}",
        f"tags = [{', '.join(_q(tag) for tag in tags)}]",
        f"test_command = {_q(spec.test_command)}",
        f"hidden_test_command = {_q(spec.hidden_test_command)}",
    ]
    if spec.setup:
        lines.append(f"setup = {_q(spec.setup)}")
    if spec.gold is not None:
        gold = spec.gold
        start, end = gold.lines or _function_lines(repo / gold.file, gold.function)
        lines += [
            "",
            "[gold]",
            f"file = {_q(gold.file)}",
            f"function = {_q(gold.function)}",
            f"lines = [{start}, {end}]",
        ]
        if gold.commit_message is not None:
            if gold.commit_message not in shas:
                raise CaseBuildError(f"{spec.id}: no commit with message {gold.commit_message!r}")
            lines.append(f"commit = {_q(shas[gold.commit_message])}")
    return "\n".join(lines) + "\n"


def _q(value: str) -> str:
    return json.dumps(value)


def _function_lines(path: Path, qualified: str) -> tuple[int, int]:
    tree = ast.parse(path.read_text())
    Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    scope: list[ast.AST] = [tree]
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None = None
    for part in qualified.split("."):
        node = next(
            (
                child
                for parent in scope
                for child in ast.iter_child_nodes(parent)
                if isinstance(child, Definition) and child.name == part
            ),
            None,
        )
        if node is None:
            raise CaseBuildError(f"{path.name}: no {qualified!r}")
        scope = [node]
    assert node is not None
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return start, node.end_lineno or node.lineno


def _git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
        cwd=repo,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise CaseBuildError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout

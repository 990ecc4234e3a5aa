"""`fixloop doctor`: check each configured repository as someone setting fixloop up would.

The stores open (SQLite in the state directory, or PostgreSQL) with their migrations applied.
Per repository table: the checkout is a git repository with its base branch; the interpreter
runs, with its Python and pytest versions; one baseline run of the suite in the sandbox (which
loads fixloop's pytest plugin) collects tests, and how long it takes; the forge's and the
tracker's settings are complete. Only `online` checks call the forge's and tracker's APIs.
Every problem is one line.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent import wiring
from agent.errors import FixloopError
from agent.settings import Settings


@dataclass
class RepoCheck:
    """What `doctor` found for one repository table."""

    name: str
    checkout: str
    github_repo: str | None
    python: str
    python_version: str | None = None
    pytest: str | None = None
    tests: int | None = None
    baseline_seconds: float | None = None
    base_branch: str | None = None
    problems: list[str] = field(default_factory=list)


def check_all(settings: Settings, online: bool = False, baseline: bool = True) -> dict[str, Any]:
    """The doctor's findings: the sandbox and why, and one object per repository table.
    Without `baseline` no suite runs (the checks `fixloop serve` makes at start)."""
    sandbox, why = wiring.sandbox_choice(settings)
    repos = [asdict(check_repo(settings, name, online, baseline)) for name in settings.repos]
    problems = [] if settings.repos else ["no repository is configured (setting repos)"]
    if sandbox == "none":
        problems.append(why)
    store = {"name": wiring.store_name(settings), "problem": wiring.store_problem(settings)}
    if store["problem"] is not None:
        problems.append(store["problem"])
    return {
        "sandbox": {"name": sandbox, "why": why},
        "store": store,
        "problems": problems,
        "repos": repos,
    }


def problem_lines(report: dict[str, Any]) -> list[str]:
    """One line per problem, each naming its repository table."""
    lines = [f"fixloop doctor: {problem}" for problem in report["problems"]]
    for repo in report["repos"]:
        lines += [f"fixloop doctor: repos.{repo['name']}: {p}" for p in repo["problems"]]
    return lines


def render(report: dict[str, Any]) -> str:
    """The findings for a reader, one block per repository."""
    lines = [
        f"sandbox: {report['sandbox']['name']} ({report['sandbox']['why']})",
        f"store: {report['store']['name']} ({report['store']['problem'] or 'ok'})",
    ]
    for repo in report["repos"]:
        tests = "?" if repo["tests"] is None else repo["tests"]
        seconds = repo["baseline_seconds"]
        lines += [
            f"repos.{repo['name']}: {repo['checkout']} (base {repo['base_branch'] or '?'})",
            f"  github_repo  {repo['github_repo'] or '-'}",
            f"  python       {repo['python']} ({repo['python_version'] or '?'}), "
            f"pytest {repo['pytest'] or '-'}",
            f"  suite        {tests} tests"
            + (f", baseline run {seconds:.2f} s" if seconds is not None else ""),
            f"  status       {'ok' if not repo['problems'] else 'PROBLEMS (see below)'}",
        ]
    return "\n".join(lines)


def check_repo(
    settings: Settings, name: str, online: bool = False, baseline: bool = True
) -> RepoCheck:
    effective = settings.for_repo(name)
    checkout = settings.repos[name].checkout
    check = RepoCheck(name, str(checkout), effective.github_repo, effective.python)
    runs = _interpreter(check)
    base = _checkout(check, effective, checkout)
    if base is not None and runs and baseline:
        _baseline(check, effective, checkout, base)
    _forge_and_tracker(check, effective, checkout if base is not None else None)
    if online:
        check.problems += [_one_line(problem) for problem in wiring.online_problems(effective)]
    return check


def _interpreter(check: RepoCheck) -> bool:
    """The interpreter's versions; whether fixloop's pytest plugin reports a test under it."""
    info = wiring.probe_interpreter(check.python)
    check.python_version = info.python_version
    check.pytest = info.pytest_version
    if info.problem is not None:
        check.problems.append(info.problem)
    return info.plugin_loads


def _checkout(check: RepoCheck, settings: Settings, checkout: Path) -> str | None:
    """The base branch's commit when the checkout is a git repository that has it."""
    if not checkout.is_dir():
        check.problems.append(f"checkout {checkout} does not exist")
        return None
    try:
        repo = wiring.open_repo(checkout)
        check.base_branch = settings.base_branch or repo.default_branch()
    except FixloopError as error:
        check.problems.append(f"checkout: {_one_line(str(error))}")
        return None
    if settings.base_branch is None and repo.resolve("HEAD") == check.base_branch:
        return check.base_branch  # HEAD is detached: the commit checked out is the base
    sha = repo.resolve(f"refs/heads/{check.base_branch}")
    if sha is None:
        check.problems.append(f"base branch {check.base_branch!r} is not a branch of {checkout}")
    return sha


def _baseline(check: RepoCheck, settings: Settings, checkout: Path, base: str) -> None:
    """One run of the whole suite at the base commit in a scratch worktree, in the sandbox."""
    repo = wiring.open_repo(checkout)
    with tempfile.TemporaryDirectory(prefix="fixloop-doctor-") as scratch:
        try:
            where = repo.add_worktree(Path(scratch) / "tree", base)
            try:
                run = wiring.sandbox(settings).run_tests(where)
            finally:
                repo.remove_worktree(where)
        except FixloopError as error:
            check.problems.append(f"the baseline run failed: {_first_and_last(str(error))}")
            return
    check.tests = len(run.outcomes)
    check.baseline_seconds = round(run.duration, 2)
    if run.timed_out:
        check.problems.append(f"the baseline run took longer than {settings.test_timeout:g} s")
    elif not run.outcomes:
        errors = [line for line in run.output.splitlines() if "error" in line.lower()]
        why = _one_line(errors[-1] if errors else run.output) or f"exit code {run.exit_code}"
        check.problems.append(f"the suite collects no test: {why}")


def _forge_and_tracker(check: RepoCheck, settings: Settings, checkout: Path | None) -> None:
    """The forge and the tracker can be built from the settings (no network call)."""
    uses_github = "github" in (settings.forge, settings.tracker)
    name = settings.github_repo
    if uses_github and name and not re.fullmatch(r"[\w.-]+/[\w.-]+", name):
        check.problems.append(f"github_repo {name!r} is not `owner/name`")
    try:
        wiring.tracker(settings)
    except FixloopError as error:
        check.problems.append(_one_line(str(error)))
    if settings.forge == "github" and checkout is None:
        if not settings.github_repo or settings.github_token is None:
            check.problems.append("forge 'github' needs the settings github_repo and github_token")
        return
    if checkout is not None:
        try:
            wiring.forge(settings, wiring.open_repo(checkout))
        except FixloopError as error:
            check.problems.append(_one_line(str(error)))


def _one_line(text: str) -> str:
    """The last non-empty line of `text` (where an error's message usually is), shortened."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _first_and_last(text: str) -> str:
    """An error's first line (what failed) and last line (usually why), as one line."""
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    last = _one_line(text)
    return first[:300] if first == last else f"{first[:300]} ... {last}"

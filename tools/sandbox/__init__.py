"""Run a worktree's pytest suite in a sandbox and read back fixloop's JSON report.

`BwrapSandbox` runs pytest under bubblewrap: the whole filesystem read-only, a private /tmp,
writes only in the worktree, no network, its own pid namespace. `SubprocessSandbox` runs the
same command as a plain child process (no isolation). Both give the child a clean environment
(no secrets of the caller), an address-space limit and a wall-time limit that kills the whole
process group. `make_sandbox` picks one; `auto` uses bubblewrap when it works here.

Test failures are results. `SandboxError` means pytest could not run, stopped with an internal
error or wrote no report; when the interpreter cannot run the plugin (no pytest, a pytest too
old), its message is one line naming the versions (`probe.probe_interpreter`).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from agent.domain import ExceptionInfo, TestRun
from agent.errors import ConfigError, SandboxError
from agent.ports import Sandbox
from tools.sandbox.probe import last_error_line, probe_interpreter

log = logging.getLogger(__name__)

PLUGIN_DIR = Path(__file__).resolve().parent
"""Holds the plugins `pytest_report.py` and `pytest_collect.py`, put on the child's PYTHONPATH."""

OUTPUT_TAIL = 4096
INTERNAL_ERROR = 3
"""pytest's exit code when a hook crashed: the run stopped, its report holds no verdict."""
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
SandboxMode = Literal["auto", "bwrap", "subprocess"]


class _PytestSandbox(abc.ABC):
    """The command, environment, limits and report reading both sandboxes share."""

    name = "base"

    def __init__(
        self,
        python: str,
        pytest_args: list[str],
        timeout: float,
        memory_limit_mb: int,
        *,
        test_paths: list[str] | None = None,
    ) -> None:
        self.python = python
        self.pytest_args = list(pytest_args)
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.test_paths = list(test_paths or [])
        """What the whole suite is: the paths pytest collects when no test is named."""

    def run_tests(
        self, worktree: Path, tests: list[str] | None = None, *, coverage: bool = False
    ) -> TestRun:
        worktree = worktree.resolve()
        private = Path(tempfile.mkdtemp(prefix="fixloop-sandbox-"))
        try:
            return self._run(worktree, private, tests, coverage)
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def collect(self, worktree: Path, tests: list[str] | None = None) -> list[str]:
        worktree = worktree.resolve()
        private = Path(tempfile.mkdtemp(prefix="fixloop-sandbox-"))
        try:
            run = self._run(worktree, private, tests, False, collect_only=True)
            collected = private / "collected.json"
            if run.timed_out or not collected.exists():
                why = "timed out" if run.timed_out else "wrote no list"
                raise SandboxError(f"collecting tests in {self.name} sandbox {why}:\n{run.output}")
            nodeids: list[str] = json.loads(collected.read_text(encoding="utf-8"))
        finally:
            shutil.rmtree(private, ignore_errors=True)
        errors = [nodeid for nodeid, outcome in run.outcomes.items() if outcome == "error"]
        return list(dict.fromkeys([*nodeids, *errors]))

    def _run(
        self,
        worktree: Path,
        private: Path,
        tests: list[str] | None,
        coverage: bool,
        *,
        collect_only: bool = False,
    ) -> TestRun:
        report = private / "report.json"
        output = private / "output.txt"
        command = self._pytest_command(worktree, tests)
        environment = self._environment(worktree, private, report, coverage)
        if collect_only:
            command[3:3] = ["-p", "pytest_collect", "--collect-only"]
            environment["FIXLOOP_COLLECTED"] = str(private / "collected.json")
        command = self._wrap(command, worktree, private)
        started = time.monotonic()
        timed_out = False
        with output.open("wb") as sink:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=worktree,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_address_space_limit(self.memory_limit_mb),
                )
            except OSError as error:
                raise SandboxError(f"cannot start pytest with {command[0]!r}: {error}") from error
            try:
                process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(process)
        duration = time.monotonic() - started
        tail = _tail(output)
        if timed_out:
            return TestRun(
                exit_code=-signal.SIGKILL,
                duration=duration,
                timed_out=True,
                sandbox=self.name,
                output=f"{tail}\n[fixloop: killed after {self.timeout:g}s wall time]",
            )
        data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
        if data is None or process.returncode == INTERNAL_ERROR:
            raise SandboxError(self._failure(data, process.returncode, tail))
        return TestRun(
            outcomes=data["outcomes"],
            failures={
                nodeid: [ExceptionInfo.model_validate(item) for item in chain]
                for nodeid, chain in data["failures"].items()
            },
            exit_code=process.returncode,
            duration=duration,
            sandbox=self.name,
            output=tail,
            coverage=data.get("coverage", {}),
        )

    def _failure(self, report: dict[str, Any] | None, exit_code: int, tail: str) -> str:
        """Why pytest gave no verdict; one line when the plugin loaded or could not load."""
        if report is not None:
            return (
                f"pytest {report.get('pytest')} (Python {report.get('python')}) stopped with an "
                f"internal error in the {self.name} sandbox: {last_error_line(tail)}"
            )
        problem = probe_interpreter(self.python).problem
        if problem is not None:
            return f"cannot run the tests: {problem}"
        return (
            f"pytest in {self.name} sandbox wrote no report "
            f"(exit code {exit_code}); output tail:\n{tail}"
        )

    def _pytest_command(self, worktree: Path, tests: list[str] | None) -> list[str]:
        return [
            self.python,
            "-m",
            "pytest",
            "-p",
            "pytest_report",
            "-p",
            "no:cacheprovider",
            "-q",
            # Node ids stay relative to the worktree whichever tests are selected.
            f"--rootdir={worktree}",
            *self.pytest_args,
            *(tests or self.test_paths),
        ]

    def _environment(
        self, worktree: Path, private: Path, report: Path, coverage: bool = False
    ) -> dict[str, str]:
        """Built from nothing: the caller's environment (and its secrets) never reaches pytest."""
        python_path = [str(PLUGIN_DIR)]
        if (worktree / "src").is_dir():
            # A src layout imports the worktree's code, not an installed copy of the main checkout.
            python_path.append(str(worktree / "src"))
        environment = {
            "PATH": os.environ.get("PATH", DEFAULT_PATH),
            "HOME": self._home(private),
            "PYTHONPATH": os.pathsep.join(python_path),
            "PYTHONDONTWRITEBYTECODE": "1",
            "FIXLOOP_REPORT": str(report),
            "LANG": "C.UTF-8",
        }
        if coverage:
            environment["FIXLOOP_COVERAGE"] = "1"
        return environment

    @abc.abstractmethod
    def _home(self, private: Path) -> str:
        """HOME for the child."""

    @abc.abstractmethod
    def _wrap(self, command: list[str], worktree: Path, private: Path) -> list[str]:
        """The command that runs `command` inside this sandbox."""


class SubprocessSandbox(_PytestSandbox):
    """pytest as a plain child process: clean environment and limits, but no isolation."""

    name = "subprocess"

    def _home(self, private: Path) -> str:
        home = private / "home"
        home.mkdir(exist_ok=True)
        return str(home)

    def _wrap(self, command: list[str], worktree: Path, private: Path) -> list[str]:
        return command


class BwrapSandbox(_PytestSandbox):
    """pytest under bubblewrap: read-only root, private /tmp, writable worktree, no network."""

    name = "bwrap"

    def __init__(
        self,
        python: str,
        pytest_args: list[str],
        timeout: float,
        memory_limit_mb: int,
        bwrap: str = "bwrap",
        *,
        test_paths: list[str] | None = None,
    ) -> None:
        super().__init__(python, pytest_args, timeout, memory_limit_mb, test_paths=test_paths)
        self.bwrap = bwrap

    def _home(self, private: Path) -> str:
        return "/tmp"

    def _wrap(self, command: list[str], worktree: Path, private: Path) -> list[str]:
        interpreter = [
            arg
            for path in interpreter_paths_in_tmp(self.python)
            for arg in ("--ro-bind", path, path)
        ]
        return [
            self.bwrap,
            *_ISOLATION,
            # Binds come after --tmpfs /tmp so that paths under /tmp stay visible: the
            # interpreter's own (a virtualenv or an editable install may live there) first,
            # so that the worktree's writable bind wins when it lies inside one of them.
            *interpreter,
            "--ro-bind", str(PLUGIN_DIR), str(PLUGIN_DIR),
            "--bind", str(worktree), str(worktree),
            "--bind", str(private), str(private),
            "--chdir", str(worktree),
            "--",
            *command,
        ]  # fmt: skip


_ISOLATION = [
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    "--unshare-net",
    "--unshare-pid",
    "--die-with-parent",
    "--new-session",
]  # fmt: skip


def make_sandbox(
    mode: SandboxMode,
    python: str,
    pytest_args: list[str],
    timeout: float,
    memory_limit_mb: int,
    *,
    bwrap: str = "bwrap",
    test_paths: list[str] | None = None,
) -> Sandbox:
    """The sandbox for `mode`; `auto` falls back to a subprocess (one warning) without bwrap."""
    if mode == "subprocess":
        return SubprocessSandbox(
            python, pytest_args, timeout, memory_limit_mb, test_paths=test_paths
        )
    problem = bwrap_problem(bwrap)
    if problem is None:
        return BwrapSandbox(
            python, pytest_args, timeout, memory_limit_mb, bwrap=bwrap, test_paths=test_paths
        )
    if mode == "bwrap":
        raise ConfigError(f"sandbox 'bwrap' was requested but bubblewrap does not work: {problem}")
    _warn_no_isolation(problem)
    return SubprocessSandbox(python, pytest_args, timeout, memory_limit_mb, test_paths=test_paths)


PREFIX_SCRIPT = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path]))"
"""Runs in the target interpreter (Python 3.8 or later)."""


@functools.cache
def interpreter_paths_in_tmp(python: str) -> tuple[str, ...]:
    """The directories under /tmp that `python` needs: its prefixes and import path.

    bubblewrap's private /tmp would hide them, so the sandbox binds them back read-only.
    """
    try:
        out = subprocess.run(
            [python, "-c", PREFIX_SCRIPT], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxError(f"cannot run the test interpreter {python}: {error}") from None
    under_tmp = sorted(
        {
            str(Path(entry).resolve())
            for entry in json.loads(out)
            if entry and Path(entry).resolve().is_relative_to("/tmp") and Path(entry).exists()
        }
    )
    kept: list[str] = []
    for path in under_tmp:
        if not any(Path(path).is_relative_to(parent) for parent in kept):
            kept.append(path)
    return tuple(kept)


@functools.cache
def bwrap_problem(bwrap: str = "bwrap") -> str | None:
    """Why bubblewrap cannot isolate tests here, or None when it works (checked once a process)."""
    executable = shutil.which(bwrap)
    if executable is None:
        return f"{bwrap!r} is not installed"
    try:
        probe = subprocess.run(
            [executable, *_ISOLATION, "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{executable} could not run: {error}"
    if probe.returncode != 0:
        return f"{executable} failed (exit code {probe.returncode}): {probe.stderr.strip()}"
    return None


_warned: list[str] = []


def _warn_no_isolation(problem: str) -> None:
    """Warn once per process that tests run without isolation."""
    if _warned:
        return
    _warned.append(problem)
    log.warning(
        "bubblewrap does not work here (%s): tests of the target repository run WITHOUT "
        "isolation (network, filesystem) in a plain subprocess",
        problem,
    )


def _address_space_limit(memory_limit_mb: int) -> Callable[[], None]:
    limit = memory_limit_mb * 1024 * 1024

    def apply() -> None:
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill pytest and everything it started; the child leads its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _tail(output: Path) -> str:
    with output.open("rb") as stream:
        stream.seek(0, os.SEEK_END)
        stream.seek(max(0, stream.tell() - OUTPUT_TAIL))
        return stream.read().decode("utf-8", errors="replace")

"""Run a worktree's pytest suite in a sandbox and read back fixloop's JSON report.

`BwrapSandbox` runs pytest under bubblewrap, built to hold when fixloop runs as root: a new user
namespace in which pytest runs as an unprivileged uid with every capability dropped (and
no-new-privileges, which bubblewrap always sets); the whole filesystem read-only with only the
worktree writable and a private /tmp; /var/tmp, /run, /home, /root, `$HOME` and the directories
the caller names as hidden (fixloop's state directory) replaced by empty tmpfs, so neither their
files nor the Unix sockets in them are reachable; new network (no interfaces but loopback, so no
abstract sockets of the host either), pid, IPC and UTS namespaces. A control group bounds the
process count and the memory of all processes together (`limits.Cgroup`; per-process rlimits
where no cgroup can be made), and a wall-time limit kills everything.

In the user namespace the sandbox's uid maps to an unprivileged host uid: run as root, fixloop
starts bubblewrap as `nobody` (`unprivileged.py`: the worktree handed to that uid's group, the
binds staged where it can reach them, directories it cannot enter hidden), so root-only host
files stay shut. Run as another user, the sandbox's uid maps to that user, and files the user
owns outside the hidden directories stay readable (read-only). Hide what matters with `hidden`.

`SubprocessSandbox` runs the same command as a plain child process: no isolation at all, so
`make_sandbox` gives it only when asked for by name (`unsafe-subprocess`); without bubblewrap,
`auto` refuses. Its child gets a minimal environment (PATH, HOME, PYTHONPATH, LANG,
PYTHONDONTWRITEBYTECODE and the report descriptor), and fixloop's process is made
non-dumpable so that a child of the same (non-root) uid cannot read fixloop's own environment
in `/proc/<pid>/environ`; a child running as root still can.

The outcome comes back over a pipe the parent holds (`channel.py`). Test failures are results.
`UntrustedOutcome` (a `SandboxError`) means the tests ran but their report cannot be trusted:
forged, written twice, contradicted by the exit code, or missing after an exit 0; the proof
treats it as a verdict on the candidate. `SandboxError` means pytest could not run, stopped with
an internal error or wrote no report;
when the interpreter cannot run the plugin (no pytest, a pytest too old), its message is one line
naming the versions (`probe.probe_interpreter`).
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
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
from agent.errors import ConfigError, NoVerdict, SandboxError, UntrustedOutcome
from agent.ports import Sandbox
from tools.sandbox.channel import ReportPipe, disagreement, parse_report
from tools.sandbox.limits import Cgroup, rlimit_prefix
from tools.sandbox.probe import last_error_line, probe_interpreter
from tools.sandbox.unprivileged import (
    SANDBOX_UID,
    Staging,
    closed_ancestors,
    drop_to_sandbox_uid,
    drops_privileges,
    share_worktree,
)

log = logging.getLogger(__name__)

PLUGIN_DIR = Path(__file__).resolve().parent
"""Holds `pytest_report.py`; put on the child's PYTHONPATH and loaded with `-p pytest_report`."""

OUTPUT_TAIL = 4096
INTERNAL_ERROR = 3
"""pytest's exit code when a hook crashed: the run stopped, its report holds no verdict."""
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_PROCESSES = 512
"""Processes (threads included, as the kernel counts them) one test run may have at once."""
SandboxMode = Literal["auto", "bwrap", "unsafe-subprocess", "subprocess"]
UNSAFE_MODES = ("unsafe-subprocess", "subprocess")
"""Modes that run the tests without isolation; `subprocess` is the older name."""


class _PytestSandbox(abc.ABC):
    """The command, environment, limits and report reading both sandboxes share."""

    name = "base"
    own_user_namespace = False

    def __init__(
        self,
        python: str,
        pytest_args: list[str],
        timeout: float,
        memory_limit_mb: int,
        *,
        test_paths: list[str] | None = None,
        max_processes: int = MAX_PROCESSES,
        per_test_timeout: float = 0.0,
    ) -> None:
        self.python = python
        self.pytest_args = list(pytest_args)
        self.timeout = timeout
        self.memory_limit_mb = memory_limit_mb
        self.max_processes = max_processes
        self.test_paths = list(test_paths or [])
        """What the whole suite is: the paths pytest collects when no test is named."""
        self.per_test_timeout = per_test_timeout
        """Seconds one test may run before the plugin cuts it (outcome `timeout`); 0: no limit."""

    def run_tests(
        self, worktree: Path, tests: list[str] | None = None, *, coverage: bool = False
    ) -> TestRun:
        return self._run_limited(worktree, tests, coverage)[0]

    def collect(self, worktree: Path, tests: list[str] | None = None) -> list[str]:
        """The node ids pytest collects (no test runs), then files that failed to collect."""
        run, nodeids = self._run_limited(worktree, tests, False, collect_only=True)
        if run.timed_out or nodeids is None:
            why = "timed out" if run.timed_out else "sent no list"
            raise SandboxError(f"collecting tests in {self.name} sandbox {why}:\n{run.output}")
        errors = [nodeid for nodeid, outcome in run.outcomes.items() if outcome == "error"]
        return list(dict.fromkeys([*nodeids, *errors]))

    def _run_limited(
        self, worktree: Path, tests: list[str] | None, coverage: bool, *, collect_only: bool = False
    ) -> tuple[TestRun, list[str] | None]:
        """One pytest run in its own scratch directory and control group, both removed after."""
        worktree = worktree.resolve()
        git_link = _git_link(worktree)
        private = Path(tempfile.mkdtemp(prefix="fixloop-sandbox-"))
        cgroup = Cgroup.create(self.max_processes, self.memory_limit_mb * 1024 * 1024)
        try:
            return self._run(worktree, private, tests, coverage, cgroup, collect_only)
        finally:
            if cgroup is not None:
                cgroup.close()
            shutil.rmtree(private, ignore_errors=True)
            if git_link is not None:
                _restore_git_link(worktree, git_link)

    def _run(
        self,
        worktree: Path,
        private: Path,
        tests: list[str] | None,
        coverage: bool,
        cgroup: Cgroup | None,
        collect_only: bool,
    ) -> tuple[TestRun, list[str] | None]:
        """The run, and with `collect_only` the node ids collected (None if none were sent)."""
        output = private / "output.txt"
        command = self._pytest_command(worktree, tests)
        if collect_only:
            command[3:3] = ["--collect-only"]
        if cgroup is None and self.own_user_namespace:
            # Outside a fresh user namespace RLIMIT_NPROC would count all of the user's processes.
            command = [*rlimit_prefix(self.python, self.max_processes), *command]
        command, as_sandbox_user = self._wrap(command, worktree, private)
        pipe = ReportPipe()
        started = time.monotonic()
        timed_out = False
        with output.open("wb") as sink:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=worktree,
                    env=self._environment(worktree, private, pipe.write_fd, coverage),
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    pass_fds=(pipe.write_fd,),
                    preexec_fn=_child_setup(self.memory_limit_mb, cgroup, as_sandbox_user),
                )
            except OSError as error:
                pipe.read(grace=0)
                raise SandboxError(f"cannot start pytest with {command[0]!r}: {error}") from error
            pipe.close_write_end()
            try:
                process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(process)
        data = pipe.read(grace=0 if timed_out else 5.0)
        duration = time.monotonic() - started
        tail = _tail(output)
        if timed_out:
            return TestRun(
                exit_code=-signal.SIGKILL,
                duration=duration,
                timed_out=True,
                sandbox=self.name,
                output=f"{tail}\n[fixloop: killed after {self.timeout:g}s wall time]",
            ), None
        report = self._trusted_report(data, process.returncode, tail)
        collected = report.get("collected")
        return TestRun(
            outcomes=report["outcomes"],
            failures={
                nodeid: [ExceptionInfo.model_validate(item) for item in chain]
                for nodeid, chain in report["failures"].items()
            },
            exit_code=process.returncode,
            duration=duration,
            sandbox=self.name,
            output=tail,
            coverage=report.get("coverage", {}),
        ), collected if isinstance(collected, list) else None

    def _trusted_report(self, data: bytes, exit_code: int, tail: str) -> dict[str, Any]:
        """The report, when there is exactly one and pytest's exit code agrees with it."""
        try:
            report = parse_report(data)
        except ValueError as error:
            raise UntrustedOutcome(f"the test outcome cannot be trusted: {error}") from None
        if report is None and exit_code == 0:
            # pytest exits 0 only after its session finished, which writes the report.
            raise UntrustedOutcome(
                f"the test outcome cannot be trusted: pytest in {self.name} sandbox wrote no "
                "report but exited with 0: something ended the process before the report"
            )
        if report is None or exit_code == INTERNAL_ERROR:
            raise NoVerdict(self._failure(report, exit_code, tail))
        conflict = disagreement(report, exit_code)
        if conflict is not None:
            raise UntrustedOutcome(f"the test outcome cannot be trusted: {conflict}")
        return report

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
        self, worktree: Path, private: Path, report_fd: int, coverage: bool = False
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
            "FIXLOOP_REPORT_FD": str(report_fd),
            "LANG": "C.UTF-8",
        }
        if coverage:
            environment["FIXLOOP_COVERAGE"] = "1"
        if self.per_test_timeout > 0:
            environment["FIXLOOP_PER_TEST_TIMEOUT"] = f"{self.per_test_timeout:g}"
        return environment

    @abc.abstractmethod
    def _home(self, private: Path) -> str:
        """HOME for the child."""

    @abc.abstractmethod
    def _wrap(
        self, command: list[str], worktree: Path, private: Path
    ) -> tuple[list[str], Callable[[], None] | None]:
        """The command that runs `command` inside this sandbox, and what the child does last
        before it execs (leave root for the sandbox's user), if anything."""


class SubprocessSandbox(_PytestSandbox):
    """pytest as a plain child process: minimal environment and limits, but NO isolation.

    The code under test can read and write whatever fixloop's user can, and reach the network.
    """

    name = "subprocess"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _not_dumpable()

    def _home(self, private: Path) -> str:
        home = private / "home"
        home.mkdir(exist_ok=True)
        return str(home)

    def _wrap(
        self, command: list[str], worktree: Path, private: Path
    ) -> tuple[list[str], Callable[[], None] | None]:
        return command, None


class BwrapSandbox(_PytestSandbox):
    """pytest under bubblewrap: see the module's docstring for what it isolates."""

    name = "bwrap"
    own_user_namespace = True

    def __init__(
        self,
        python: str,
        pytest_args: list[str],
        timeout: float,
        memory_limit_mb: int,
        bwrap: str = "bwrap",
        *,
        test_paths: list[str] | None = None,
        hidden: list[Path] | None = None,
        max_processes: int = MAX_PROCESSES,
        per_test_timeout: float = 0.0,
    ) -> None:
        super().__init__(
            python,
            pytest_args,
            timeout,
            memory_limit_mb,
            test_paths=test_paths,
            max_processes=max_processes,
            per_test_timeout=per_test_timeout,
        )
        self.bwrap = bwrap
        self.hidden = masked_paths(hidden or [])
        """The directories replaced by an empty tmpfs."""

    def _home(self, private: Path) -> str:
        return "/tmp"

    def _wrap(
        self, command: list[str], worktree: Path, private: Path
    ) -> tuple[list[str], Callable[[], None] | None]:
        unprivileged = drops_privileges()
        hidden = self.hidden
        if unprivileged:
            # The unprivileged bubblewrap cannot reach into directories closed to other users.
            needed = [str(worktree), str(PLUGIN_DIR), *interpreter_paths(self.python)]
            covered = ("/tmp", *hidden)
            closed = closed_ancestors(needed)
            hidden = (*hidden, *(p for p in closed if not _under(p, covered)))
        masks = [arg for path in hidden for arg in ("--tmpfs", path)]
        # Binds come after the masks so that what lies under a hidden directory stays visible:
        # the interpreter's own paths (a virtualenv or an editable install may live in $HOME
        # or /tmp) first, so that the worktree's writable bind wins when it lies inside one.
        rebound = _rebound(interpreter_paths(self.python), hidden)
        sources = [*rebound, str(PLUGIN_DIR), str(worktree)]
        staging = None
        if unprivileged:
            share_worktree(worktree)
            staging = Staging(private, sources)
        source = staging.staged if staging is not None else str
        interpreter = [arg for path in rebound for arg in ("--ro-bind", source(path), path)]
        command = [
            self.bwrap,
            *_ISOLATION,
            *masks,
            *interpreter,
            "--ro-bind", source(str(PLUGIN_DIR)), str(PLUGIN_DIR),
            "--bind", source(str(worktree)), str(worktree),
            "--chdir", str(worktree),
            "--",
            *command,
        ]  # fmt: skip
        if staging is None:
            return command, None
        return command, functools.partial(_leave_root, staging)


def _leave_root(staging: Staging) -> None:
    """In the child, as root: stage the sources, then become the sandbox's user."""
    staging.prepare()
    drop_to_sandbox_uid()


_ISOLATION = [
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    "--unshare-user",
    "--uid", str(SANDBOX_UID),
    "--gid", str(SANDBOX_UID),
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--cap-drop", "ALL",
    "--die-with-parent",
    "--new-session",
]  # fmt: skip

ALWAYS_HIDDEN = ("/var/tmp", "/run", "/var/run", "/home", "/root", "/dev/shm")
"""Hidden in every bubblewrap sandbox (when they exist): scratch space other programs share,
host sockets and pid files, and home directories. /tmp is replaced too, by `_ISOLATION`."""


def masked_paths(hidden: list[Path]) -> tuple[str, ...]:
    """The existing directories to hide: `ALWAYS_HIDDEN`, `$HOME` and `hidden`, resolved.

    `/`, and directories that hold the bubblewrap binary's or the interpreter's system files,
    are never hidden wholesale: `/usr`, `/etc` and the like are left to the read-only root.
    """
    candidates = [*map(Path, ALWAYS_HIDDEN), Path.home(), *hidden]
    found: list[str] = []
    for candidate in candidates:
        path = candidate.resolve()
        if path == Path("/") or not path.is_dir() or str(path) in found:
            continue
        if path in (Path("/dev"), Path("/proc"), Path("/tmp")):
            continue
        found.append(str(path))
    return tuple(found)


def make_sandbox(
    mode: SandboxMode,
    python: str,
    pytest_args: list[str],
    timeout: float,
    memory_limit_mb: int,
    *,
    bwrap: str = "bwrap",
    test_paths: list[str] | None = None,
    hidden: list[Path] | None = None,
    per_test_timeout: float = 0.0,
) -> Sandbox:
    """The sandbox for `mode`: bubblewrap, or a plain subprocess only when named explicitly.

    `auto` and `bwrap` both need bubblewrap and refuse (`ConfigError`) without it; fixloop never
    falls back to running untrusted tests unisolated on its own. `timeout` bounds a whole run;
    `per_test_timeout` (0: none) one test, which the plugin cuts with the stack where it hung.
    """
    if mode in UNSAFE_MODES:
        _warn_no_isolation(f"the setting sandbox is {mode!r}")
        return SubprocessSandbox(
            python,
            pytest_args,
            timeout,
            memory_limit_mb,
            test_paths=test_paths,
            per_test_timeout=per_test_timeout,
        )
    problem = bwrap_problem(bwrap)
    if problem is not None:
        raise ConfigError(
            f"bubblewrap does not work here ({problem}); fixloop will not run untrusted tests "
            "without it: install bubblewrap, or set sandbox = 'unsafe-subprocess' to run them "
            "unisolated at your own risk"
        )
    return BwrapSandbox(
        python,
        pytest_args,
        timeout,
        memory_limit_mb,
        bwrap=bwrap,
        test_paths=test_paths,
        hidden=hidden,
        per_test_timeout=per_test_timeout,
    )


PREFIX_SCRIPT = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path]))"
"""Runs in the target interpreter (Python 3.8 or later)."""


@functools.cache
def interpreter_paths(python: str) -> tuple[str, ...]:
    """The directories `python` needs (its prefixes and import path), resolved, that exist.

    A hidden directory (a private /tmp, `$HOME`) may hold them, so the sandbox binds those that
    lie under one back read-only.
    """
    try:
        out = subprocess.run(
            [python, "-c", PREFIX_SCRIPT], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise SandboxError(f"cannot run the test interpreter {python}: {error}") from None
    return tuple(
        sorted(
            {
                str(Path(entry).resolve())
                for entry in json.loads(out)
                if entry and Path(entry).exists()
            }
        )
    )


def _under(path: str, parents: tuple[str, ...]) -> bool:
    return any(Path(path).is_relative_to(parent) for parent in parents)


def _rebound(paths: tuple[str, ...], hidden: tuple[str, ...]) -> list[str]:
    """The paths that lie under a hidden directory (or /tmp), without their descendants."""
    under = sorted(p for p in paths if any(Path(p).is_relative_to(h) for h in ("/tmp", *hidden)))
    kept: list[str] = []
    for path in under:
        if not any(Path(path).is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


@functools.cache
def bwrap_problem(bwrap: str = "bwrap") -> str | None:
    """Why bubblewrap cannot isolate tests here, or None when it works (checked once a process)."""
    executable = shutil.which(bwrap)
    if executable is None:
        return f"{bwrap!r} is not installed"
    try:
        probe = subprocess.run(
            [executable, *_ISOLATION, "--", "true"],
            preexec_fn=drop_to_sandbox_uid if drops_privileges() else None,
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


def _warn_no_isolation(reason: str) -> None:
    """Say once per process (at info level: the operator asked for it) that tests run unisolated."""
    if _warned:
        return
    _warned.append(reason)
    log.info(
        "%s: tests of the target repository run WITHOUT isolation (network, filesystem, "
        "fixloop's files) in a plain subprocess",
        reason,
    )


def _child_setup(
    memory_limit_mb: int, cgroup: Cgroup | None, last: Callable[[], None] | None
) -> Callable[[], None]:
    """Runs in the child before exec: join the run's cgroup, cap each process's address space,
    then `last` (the sandbox's own step, such as leaving root)."""
    limit = memory_limit_mb * 1024 * 1024

    def apply() -> None:
        if cgroup is not None:
            cgroup.enter()
        if limit > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if last is not None:
            last()

    return apply


PR_SET_DUMPABLE = 4


def _not_dumpable() -> None:
    """Make this process's /proc files (its environment among them) readable by root only."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill pytest and everything it started; the child leads its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _git_link(worktree: Path) -> bytes | None:
    """The worktree's `.git` file (its link to the repository's git directory), if it has one."""
    link = worktree / ".git"
    if link.is_symlink() or not link.is_file():
        return None
    return link.read_bytes()


def _restore_git_link(worktree: Path, content: bytes) -> None:
    """Put back the `.git` file the tested code may have replaced: fixloop runs git in the
    worktree after the tests, and a `.git` pointing at a directory the tests wrote would hand
    git a config (hooks, fsmonitor) of their choosing."""
    link = worktree / ".git"
    if link.is_symlink() or link.is_file():
        if not link.is_symlink() and link.read_bytes() == content:
            return
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.write_bytes(content)


def _tail(output: Path) -> str:
    with output.open("rb") as stream:
        stream.seek(0, os.SEEK_END)
        stream.seek(max(0, stream.tell() - OUTPUT_TAIL))
        return stream.read().decode("utf-8", errors="replace")

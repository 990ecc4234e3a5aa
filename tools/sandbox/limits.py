"""Limits on everything one test run starts: a control group when one can be made here.

`Cgroup.create` makes a fresh group with a process-count limit (`pids`) and a total-memory
limit (`memory`, all processes together), in cgroup v2 when its controllers can be delegated to
a child of fixloop's own group, else in the v1 hierarchies, else returns None. The child joins
it before it execs (`enter`, run as a `preexec_fn`), so bubblewrap and everything the tests
start are counted; `close` kills whatever is left and removes the group.

Without a writable cgroup the sandbox falls back to per-process rlimits (`rlimit_prefix`):
RLIMIT_AS per process, and RLIMIT_NPROC set inside the sandbox. The kernel never enforces
RLIMIT_NPROC on host root, so it holds when the sandbox's uid maps to an unprivileged host uid
(always when fixloop runs as root, see `unprivileged.py`); its count is kept per user namespace,
so concurrent sandboxes do not share it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

PREFIX = "fixloop-"
STALE_AFTER = 600.0
V1_FILES = {"pids": "pids.max", "memory": "memory.limit_in_bytes"}
RLIMIT_SCRIPT = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); os.execvp(sys.argv[2], sys.argv[2:])"
)
"""Runs in the target interpreter (Python 3.8 or later) inside the sandbox, then execs pytest."""


class Cgroup:
    """One control group (or a v1 pair) holding one test run."""

    def __init__(self, directories: list[Path], version: int) -> None:
        self.directories = directories
        self.version = version
        self._procs = [str(d / "cgroup.procs") for d in directories]

    @classmethod
    def create(cls, max_processes: int, memory_bytes: int) -> Cgroup | None:
        """A new group with both limits, or None when no writable cgroup has the controllers."""
        name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
        group = _create_v2(name, max_processes, memory_bytes) or _create_v1(
            name, max_processes, memory_bytes
        )
        if group is not None:
            for directory in group.directories:
                remove_stale_groups(directory.parent)
        return group

    def enter(self) -> None:
        """Move the calling process into the group (in the child, before exec)."""
        for procs in self._procs:
            with open(procs, "w") as stream:
                stream.write(str(os.getpid()))

    def close(self) -> None:
        """Kill every process still in the group and remove it."""
        for _ in range(50):
            pids = self._members()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        for directory in self.directories:
            for _ in range(50):  # a group stays busy for a moment after its last process exits
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)

    def _members(self) -> set[int]:
        pids: set[int] = set()
        for procs in self._procs:
            with contextlib.suppress(OSError):
                pids.update(int(line) for line in Path(procs).read_text().split())
        return pids


def remove_stale_groups(parent: Path, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove the empty groups a killed fixloop left under `parent`; return them.

    A group is removed only when no process is in it and it is older than `older_than` seconds
    (a group another run just made may not have its first process yet); rmdir refuses a group
    that still holds one, so a live run's group is never touched.
    """
    removed: list[Path] = []
    now = time.time()
    with contextlib.suppress(OSError):
        for directory in parent.glob(f"{PREFIX}*"):
            with contextlib.suppress(OSError):
                if now - directory.stat().st_mtime < older_than:
                    continue
                if (directory / "cgroup.procs").read_text().strip():
                    continue
                directory.rmdir()
                removed.append(directory)
    return removed


def _mounts(kind: str) -> list[tuple[Path, set[str]]]:
    """Mount points of filesystems of type `kind`, with their mount options."""
    found: list[tuple[Path, set[str]]] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[2] == kind:
                found.append((Path(fields[1]), set(fields[3].split(","))))
    return found


def _own_groups() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's group path, from /proc/self/cgroup."""
    groups: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                groups[controller] = path
    return groups


def _create_v2(name: str, max_processes: int, memory_bytes: int) -> Cgroup | None:
    own = _own_groups().get("")
    for mount, _ in _mounts("cgroup2"):
        parent = mount / (own or "/").lstrip("/")
        child = parent / name
        try:
            available = (parent / "cgroup.controllers").read_text().split()
            if not {"pids", "memory"} <= set(available):
                continue
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            if not {"pids", "memory"} <= set(enabled):
                (parent / "cgroup.subtree_control").write_text("+pids +memory")
            child.mkdir()
        except OSError:
            continue
        try:
            (child / "pids.max").write_text(str(max_processes))
            (child / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (child / "memory.swap.max").write_text("0")
        except OSError:
            with contextlib.suppress(OSError):
                child.rmdir()
            continue
        return Cgroup([child], 2)
    return None


def _create_v1(name: str, max_processes: int, memory_bytes: int) -> Cgroup | None:
    own = _own_groups()
    made: list[Path] = []
    values = {"pids": max_processes, "memory": memory_bytes}
    try:
        for controller, limit_file in V1_FILES.items():
            mount = next((m for m, options in _mounts("cgroup") if controller in options), None)
            if mount is None:
                raise OSError(f"no cgroup v1 {controller} hierarchy")
            directory = mount / own.get(controller, "/").lstrip("/") / name
            directory.mkdir()
            made.append(directory)
            (directory / limit_file).write_text(str(values[controller]))
        with contextlib.suppress(OSError):
            (made[1] / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
    except OSError:
        for directory in made:
            with contextlib.suppress(OSError):
                directory.rmdir()
        return None
    return Cgroup(made, 1)


def rlimit_prefix(python: str, max_processes: int) -> list[str]:
    """A command prefix that sets RLIMIT_NPROC inside the sandbox, then runs the rest."""
    return [python, "-c", RLIMIT_SCRIPT, str(max_processes)]

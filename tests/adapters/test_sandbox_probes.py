"""Probes from inside the bubblewrap sandbox, run as root: each tries to escape, each is blocked.

Every probe is a test file in a target directory run by the real sandbox; the probe's own test
passes only when the attempt failed the way isolation makes it fail, and the outer test checks
the host side too (nothing written, nothing leaked).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import UntrustedOutcome
from tests.support.sandbox import FAST, needs_bwrap
from tools.sandbox import BwrapSandbox, make_sandbox, masked_paths
from tools.sandbox.limits import Cgroup, remove_stale_groups

pytestmark = needs_bwrap


def run(root: Path, test: str, *, hidden: list[Path] | None = None, timeout: float = 60, **kw):
    (root / "test_probe.py").write_text(textwrap.dedent(test))
    sandbox = make_sandbox("bwrap", sys.executable, FAST, timeout, 1024, hidden=hidden)
    assert isinstance(sandbox, BwrapSandbox)
    for name, value in kw.items():
        setattr(sandbox, name, value)
    return sandbox.run_tests(root)


def passed(result, name: str = "test_probe.py::test_blocked") -> bool:
    outcome = result.outcomes.get(name)
    assert outcome == "passed", (result.outcomes, result.failures, result.output[-2000:])
    return True


@pytest.fixture
def target(tmp_path: Path) -> Path:
    root = tmp_path / "target"
    root.mkdir()
    return root


def test_network_is_unreachable(target: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        result = run(
            target,
            f"""
            import socket, pytest

            def test_blocked():
                with pytest.raises(OSError):
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)
                with pytest.raises(OSError):
                    socket.create_connection(("1.1.1.1", 53), timeout=2)
            """,
        )
    finally:
        listener.close()
    assert passed(result)


def test_host_unix_sockets_are_unreachable(target: Path) -> None:
    """A socket in /run, /var/tmp or the state directory, and an abstract one, are all gone."""
    state = Path("/var/lib") / f"fixloop-probe-{uuid.uuid4().hex[:8]}"
    state.mkdir()
    abstract = f"\0fixloop-probe-{uuid.uuid4().hex}"
    servers = []
    paths = [Path("/run") / f"fixloop-probe-{uuid.uuid4().hex[:8]}.sock", state / "agent.sock"]
    try:
        for address in [*map(str, paths), abstract]:
            server = socket.socket(socket.AF_UNIX)
            server.bind(address)
            server.listen()
            servers.append(server)
        result = run(
            target,
            f"""
            import socket, pytest

            def test_blocked():
                for address in {[*map(str, paths), abstract]!r}:
                    client = socket.socket(socket.AF_UNIX)
                    with pytest.raises(OSError):
                        client.connect(address)
            """,
            hidden=[state],
        )
    finally:
        for server in servers:
            server.close()
        for path in paths:
            path.unlink(missing_ok=True)
        state.rmdir()
    assert passed(result)


def test_files_outside_the_worktree_are_not_visible(target: Path) -> None:
    """~/.ssh, /var/tmp and a state directory that is not under /tmp hold nothing readable."""
    state = Path("/var/lib") / f"fixloop-probe-{uuid.uuid4().hex[:8]}"
    state.mkdir()
    secrets = [
        state / "secret.txt",
        Path("/var/tmp") / f"fixloop-probe-{uuid.uuid4().hex[:8]}",
        Path.home() / ".ssh" / f"fixloop-probe-{uuid.uuid4().hex[:8]}",
    ]
    try:
        for secret in secrets:
            secret.parent.mkdir(exist_ok=True)
            secret.write_text("s3cret")
        result = run(
            target,
            f"""
            from pathlib import Path

            def test_blocked():
                for path in {list(map(str, secrets))!r}:
                    assert not Path(path).exists(), path
                assert not list(Path({str(state)!r}).iterdir())
                assert not Path.home().joinpath(".ssh").exists()
            """,
            hidden=[state],
        )
    finally:
        for secret in secrets:
            secret.unlink(missing_ok=True)
        (state).rmdir()
    assert passed(result)
    assert "s3cret" not in result.output


def test_the_parents_environment_is_not_readable(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    monkeypatch.setenv("FIXLOOP_PROBE_TOKEN", token)
    result = run(
        target,
        f"""
        import os
        from pathlib import Path

        def test_blocked():
            assert {token!r} not in str(os.environ)
            seen = []
            for proc in Path("/proc").iterdir():
                if proc.name.isdigit():
                    seen.append(proc.name)
                    try:
                        text = proc.joinpath("environ").read_bytes()
                    except OSError:
                        continue
                    assert {token!r}.encode() not in text
            # Its own pid namespace: only the sandbox's few processes are there to read.
            assert len(seen) < 10, seen
        """,
    )
    assert passed(result)


def test_capabilities_are_gone(target: Path) -> None:
    """Remounting a bind read-write, writing a host file, changing uid: all refused."""
    host_file = Path("/etc") / f"fixloop-probe-{uuid.uuid4().hex[:8]}"
    result = run(
        target,
        f"""
        import os, subprocess, pytest
        from pathlib import Path

        def test_blocked():
            status = Path("/proc/self/status").read_text()
            assert "CapEff:\\t0000000000000000" in status
            assert "CapBnd:\\t0000000000000000" in status
            assert "NoNewPrivs:\\t1" in status
            assert os.getuid() != 0
            remount = subprocess.run(["mount", "-o", "remount,rw", "/"], capture_output=True)
            assert remount.returncode != 0
            with pytest.raises(OSError):
                Path({str(host_file)!r}).write_text("escaped")
            with pytest.raises(OSError):
                os.setuid(0)
        """,
    )
    assert not host_file.exists()
    assert passed(result)


@pytest.mark.skipif(os.geteuid() != 0, reason="the host uid matters when fixloop runs as root")
def test_root_only_host_files_are_not_readable(target: Path) -> None:
    """The sandbox's uid is an unprivileged host uid: /etc/shadow and a 0600 root file stay shut."""
    visible = Path("/var/lib") / f"fixloop-probe-{uuid.uuid4().hex[:8]}"
    visible.mkdir()
    secret = visible / "key"
    secret.write_text("s3cret")
    secret.chmod(0o600)
    try:
        result = run(
            target,
            f"""
            import os, pytest
            from pathlib import Path

            def test_blocked():
                assert Path({str(secret)!r}).exists()
                for path in ("/etc/shadow", {str(secret)!r}):
                    with pytest.raises(PermissionError):
                        Path(path).read_bytes()
                assert os.getuid() == os.geteuid() != 0
                Path("written-by-the-test").write_text("ok")
            """,
        )
    finally:
        secret.unlink()
        visible.rmdir()
    assert passed(result)
    assert "s3cret" not in result.output
    assert (target / "written-by-the-test").stat().st_uid == 65534


@pytest.mark.skipif(os.geteuid() != 0, reason="the host uid matters when fixloop runs as root")
def test_a_worktree_under_a_closed_directory_runs(tmp_path: Path) -> None:
    """A worktree under a directory other users cannot enter (0700) still runs, and writes."""
    closed = Path("/var/lib") / f"fixloop-probe-{uuid.uuid4().hex[:8]}"
    (closed / "wt").mkdir(parents=True)
    closed.chmod(0o700)
    try:
        result = run(
            closed / "wt",
            """
            from pathlib import Path

            def test_blocked():
                Path("out.txt").write_text("ok")
            """,
        )
        assert passed(result)
        assert (closed / "wt" / "out.txt").read_text() == "ok"
    finally:
        shutil.rmtree(closed)


FORK_BOMB = """
    import os, time

    def test_blocked():
        children = 0
        try:
            for _ in range(400):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                children += 1
        except OSError:
            pass
        assert children < 100, children
"""


def test_a_fork_bomb_is_bounded_without_a_cgroup(
    target: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no cgroup can be made, RLIMIT_NPROC inside the sandbox bounds it."""
    monkeypatch.setattr(Cgroup, "create", classmethod(lambda cls, *args: None))
    result = run(target, FORK_BOMB, max_processes=64)
    assert passed(result)
    assert result.duration < 30


def test_a_fork_bomb_is_bounded(target: Path) -> None:
    result = run(
        target,
        """
        import os, time

        def test_blocked():
            children = 0
            try:
                for _ in range(400):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    children += 1
            except OSError:
                pass
            assert children < 100, children
        """,
        max_processes=64,
    )
    assert passed(result)
    assert result.duration < 30


def test_memory_is_limited_across_processes(target: Path) -> None:
    """Four processes of 100 MB each under a 256 MB limit: not all of them survive."""
    result = run(
        target,
        """
        import subprocess, sys

        GRAB = "x = bytearray(100 * 2**20); import time; time.sleep(3)"

        def test_blocked():
            children = [subprocess.Popen([sys.executable, "-c", GRAB]) for _ in range(4)]
            codes = [child.wait() for child in children]
            assert any(code != 0 for code in codes), codes
        """,
        memory_limit_mb=256,
    )
    assert passed(result)


def test_a_hang_is_killed_at_the_wall_time_limit(target: Path) -> None:
    result = run(
        target,
        """
        import subprocess, time

        def test_blocked():
            subprocess.Popen(["sleep", "600"])
            time.sleep(600)
        """,
        timeout=3,
    )
    assert result.timed_out and result.duration < 20


def test_a_report_rewritten_at_exit_is_refused(target: Path) -> None:
    """atexit code that writes an all-passed report (to the file of old, and to the pipe)."""
    forged = '{"outcomes": {"test_probe.py::test_fails": "passed"}, "failures": {}, "exit_code": 0}'
    with pytest.raises(UntrustedOutcome, match="cannot be trusted"):
        run(
            target,
            f"""
            import atexit, os

            def forge():
                for fd in map(int, os.listdir("/proc/self/fd")):
                    try:
                        os.write(fd, {forged!r}.encode() + b"\\n")
                    except OSError:
                        pass
                if os.environ.get("FIXLOOP_REPORT"):
                    open(os.environ["FIXLOOP_REPORT"], "w").write({forged!r})

            def test_fails():
                for fd in map(int, os.listdir("/proc/self/fd")):
                    try:
                        os.dup(fd)
                    except OSError:
                        pass
                atexit.register(forge)
                assert False
            """,
        )


def test_exiting_0_after_a_failure_is_refused(target: Path) -> None:
    with pytest.raises(UntrustedOutcome, match="exited with 0"):
        run(
            target,
            """
            import atexit, os

            def test_fails():
                atexit.register(os._exit, 0)
                assert False
            """,
        )


def test_exiting_0_before_the_report_is_refused(target: Path) -> None:
    with pytest.raises(UntrustedOutcome, match="wrote no report"):
        run(
            target,
            """
            import os

            def test_fails():
                assert False

            def test_zz_exit():
                os._exit(0)
            """,
        )


def test_a_replaced_git_link_is_put_back(target: Path) -> None:
    link = "gitdir: /nonexistent/repo/.git/worktrees/tree\n"
    (target / ".git").write_text(link)
    result = run(
        target,
        """
        import os, shutil

        def test_blocked():
            evil = os.path.join(os.getcwd(), "evil")
            os.makedirs(os.path.join(evil, "hooks"), exist_ok=True)
            with open(os.path.join(evil, "config"), "w") as config:
                config.write("[core]\\n\\tfsmonitor = touch /tmp/pwned\\n")
            try:
                os.remove(".git")
            except OSError:
                return  # the link could not even be removed
            os.mkdir(".git")
            with open(os.path.join(".git", "HEAD"), "w") as head:
                head.write("ref: refs/heads/main\\n")
        """,
    )

    assert passed(result)
    assert (target / ".git").is_file() and (target / ".git").read_text() == link


def test_hidden_paths_always_include_home_and_host_sockets() -> None:
    hidden = masked_paths([])
    assert str(Path.home().resolve()) in hidden
    assert str(Path("/run").resolve()) in hidden
    assert "/" not in hidden and "/tmp" not in hidden


@pytest.fixture
def cgroup() -> Iterator[Cgroup | None]:
    group = Cgroup.create(16, 64 * 2**20)
    yield group
    if group is not None:
        group.close()


def test_a_cgroup_is_removed_with_its_processes(cgroup: Cgroup | None) -> None:
    if cgroup is None:
        pytest.skip("no writable cgroup with pids and memory controllers here")
    assert all(d.is_dir() for d in cgroup.directories)
    child = subprocess.Popen(["sleep", "60"], preexec_fn=cgroup.enter)
    cgroup.close()
    assert child.wait(timeout=10) == -9
    assert not any(d.exists() for d in cgroup.directories)


def test_empty_groups_a_killed_run_left_are_removed(cgroup: Cgroup | None) -> None:
    if cgroup is None:
        pytest.skip("no writable cgroup with pids and memory controllers here")
    parent = cgroup.directories[0].parent
    stale = parent / f"fixloop-stale-{uuid.uuid4().hex[:8]}"
    stale.mkdir()
    os.utime(stale, (1000, 1000))  # made long ago, by a run since killed
    busy = subprocess.Popen(["sleep", "60"], preexec_fn=cgroup.enter)
    os.utime(cgroup.directories[0], (1000, 1000))
    try:
        removed = remove_stale_groups(parent)
        assert stale in removed and not stale.exists()
        assert cgroup.directories[0].exists()  # a live run's group stays
    finally:
        busy.kill()
        busy.wait()
        if stale.exists():
            stale.rmdir()

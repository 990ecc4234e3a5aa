"""The sandbox runs a real pytest in a target directory, under real bubblewrap or a subprocess."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import tools.sandbox as sandbox_module
from agent.errors import ConfigError, SandboxError
from tests.support.sandbox import FAST, MODES, OUTCOMES, needs_bwrap, outcomes_of, write
from tools.sandbox import (
    BwrapSandbox,
    SandboxMode,
    SubprocessSandbox,
    bwrap_problem,
    make_sandbox,
)


def sandbox_for(mode: SandboxMode, timeout: float = 60, memory_limit_mb: int = 2048):
    return make_sandbox(mode, sys.executable, FAST, timeout, memory_limit_mb)


@pytest.mark.parametrize("mode", MODES)
def test_outcomes_fold_setup_call_and_teardown(tmp_path: Path, mode: SandboxMode) -> None:
    write(tmp_path, {"tests/test_outcomes.py": OUTCOMES})
    run = sandbox_for(mode).run_tests(tmp_path)
    prefix = "tests/test_outcomes.py::"
    assert run.outcomes == outcomes_of(prefix)
    assert run.exit_code == 1
    assert run.sandbox == mode
    assert [e.type for e in run.failures[prefix + "test_setup_error"]] == ["RuntimeError"]
    assert run.failures[prefix + "test_setup_error"][-1].frames[-1].function == "broken"
    assert run.failures[prefix + "test_teardown_error"][-1].value == "teardown boom"
    assert prefix + "test_xfail" not in run.failures
    assert "1 xfailed" in run.output


@pytest.mark.parametrize("mode", MODES)
def test_selected_tests_keep_worktree_relative_ids(tmp_path: Path, mode: SandboxMode) -> None:
    write(tmp_path, {"tests/unit/test_outcomes.py": OUTCOMES})
    nodeid = "tests/unit/test_outcomes.py::test_passes"
    run = sandbox_for(mode).run_tests(tmp_path, [nodeid, "tests/unit/test_outcomes.py::test_fails"])
    assert run.outcomes == {nodeid: "passed", "tests/unit/test_outcomes.py::test_fails": "failed"}


def test_failure_chain_keeps_cause_and_context_with_vars(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/prices.py": """
                def lookup(table, key):
                    return table[key]


                def price(table, key):
                    big = "x" * 5000
                    try:
                        return lookup(table, key)
                    except KeyError as missing:
                        raise ValueError(f"no price for {key}") from missing
            """,
            "tests/test_prices.py": """
                from app.prices import price

                def test_price():
                    table = {"apple": 3}
                    price(table, "pear")
            """,
        },
    )
    run = sandbox_for("bwrap" if bwrap_problem() is None else "subprocess").run_tests(tmp_path)
    nodeid = "tests/test_prices.py::test_price"
    assert run.outcomes == {nodeid: "failed"}
    cause, final = run.failures[nodeid]
    assert (cause.type, cause.value, cause.module) == ("KeyError", "'pear'", None)
    assert (final.type, final.value) == ("ValueError", "no price for pear")
    # Frames outermost first; pytest's own frames are not part of the chain.
    assert [f.function for f in final.frames] == ["test_price", "price"]
    assert [f.function for f in cause.frames] == ["price", "lookup"]
    crash = cause.frames[-1]
    assert crash.filename == "app/prices.py"
    assert crash.abs_path == str(tmp_path.resolve() / "app/prices.py")
    assert crash.module == "app.prices"
    assert crash.in_app is True
    assert crash.lineno == 3
    assert crash.context_line == "    return table[key]"
    assert crash.pre_context == ["", "def lookup(table, key):"]
    assert crash.post_context[:3] == ["", "", "def price(table, key):"]
    assert crash.vars == {"table": "{'apple': 3}", "key": "'pear'"}
    price_frame = final.frames[-1]
    assert price_frame.vars["key"] == "'pear'"
    assert len(price_frame.vars["big"]) == 1024
    assert price_frame.vars["big"].endswith("...")
    assert final.frames[0].vars == {"table": "{'apple': 3}"}


def test_implicit_context_is_walked_and_suppressed_context_is_not(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "test_chain.py": """
                def test_during_handling():
                    try:
                        1 / 0
                    except ZeroDivisionError:
                        raise LookupError("while handling")

                def test_suppressed():
                    try:
                        1 / 0
                    except ZeroDivisionError:
                        raise LookupError("fresh") from None
            """
        },
    )
    run = sandbox_for("subprocess").run_tests(tmp_path)
    handling = run.failures["test_chain.py::test_during_handling"]
    assert [e.type for e in handling] == ["ZeroDivisionError", "LookupError"]
    assert [e.type for e in run.failures["test_chain.py::test_suppressed"]] == ["LookupError"]


@pytest.mark.parametrize("mode", MODES)
def test_collection_error_is_an_error_of_the_module(tmp_path: Path, mode: SandboxMode) -> None:
    write(tmp_path, {"tests/test_broken.py": "import no_such_module_here\n"})
    run = sandbox_for(mode).run_tests(tmp_path)
    assert run.outcomes == {"tests/test_broken.py": "error"}
    assert run.failures["tests/test_broken.py"][-1].type == "ModuleNotFoundError"
    assert run.exit_code == 2


def test_no_tests_is_a_normal_result(tmp_path: Path) -> None:
    run = sandbox_for("subprocess").run_tests(tmp_path)
    assert (run.outcomes, run.exit_code, run.timed_out) == ({}, 5, False)


@needs_bwrap
def test_network_is_unreachable_inside_bwrap(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        write(
            tmp_path,
            {
                "test_net.py": f"""
                    import socket

                    def test_connects():
                        socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
                """
            },
        )
        # The server is reachable from a plain subprocess, so only the sandbox can block it.
        assert sandbox_for("subprocess").run_tests(tmp_path).outcomes == {
            "test_net.py::test_connects": "passed"
        }
        run = sandbox_for("bwrap").run_tests(tmp_path)
    assert run.outcomes == {"test_net.py::test_connects": "failed"}
    assert run.failures["test_net.py::test_connects"][-1].type in (
        "ConnectionRefusedError",
        "OSError",
    )


@needs_bwrap
def test_writes_outside_the_worktree_fail_inside_bwrap(tmp_path: Path) -> None:
    outside = Path("/var/tmp") / f"fixloop-probe-{uuid.uuid4().hex}"
    write(
        tmp_path,
        {
            "test_writes.py": f"""
                from pathlib import Path

                def test_write_inside():
                    Path("inside.txt").write_text("ok")

                def test_write_outside():
                    Path({str(outside)!r}).write_text("escaped")

                def test_write_root():
                    Path("/etc/fixloop-probe").write_text("escaped")

                def test_write_tmp_is_private():
                    Path("/tmp/scratch.txt").write_text("ok")
            """
        },
    )
    try:
        run = sandbox_for("bwrap").run_tests(tmp_path)
        assert not outside.exists()
    finally:
        outside.unlink(missing_ok=True)
    assert run.outcomes == {
        "test_writes.py::test_write_inside": "passed",
        # /var/tmp is a private tmpfs: the write lands there, never on the host.
        "test_writes.py::test_write_outside": "passed",
        "test_writes.py::test_write_root": "failed",
        "test_writes.py::test_write_tmp_is_private": "passed",
    }
    assert "Read-only file system" in run.failures["test_writes.py::test_write_root"][-1].value
    assert (tmp_path / "inside.txt").read_text() == "ok"


@pytest.mark.parametrize("mode", MODES)
def test_timeout_kills_a_sleeping_test(tmp_path: Path, mode: SandboxMode) -> None:
    write(
        tmp_path,
        {
            "test_slow.py": """
                import time
                from pathlib import Path

                def test_sleeps():
                    Path("started").write_text("yes")
                    time.sleep(60)
                    Path("finished").write_text("yes")
            """
        },
    )
    started = time.monotonic()
    run = sandbox_for(mode, timeout=3).run_tests(tmp_path)
    assert time.monotonic() - started < 30
    assert run.timed_out is True
    assert run.outcomes == {}
    assert "killed after 3s" in run.output
    assert (tmp_path / "started").exists()
    assert not (tmp_path / "finished").exists()


@pytest.mark.parametrize("mode", MODES)
def test_caller_secrets_do_not_reach_the_tests(
    tmp_path: Path, mode: SandboxMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("FIXLOOP_HOME", "/somewhere")
    write(
        tmp_path,
        {
            "test_env.py": """
                import os

                def test_clean_environment():
                    assert "ANTHROPIC_API_KEY" not in os.environ
                    assert "GITHUB_TOKEN" not in os.environ
                    assert "FIXLOOP_HOME" not in os.environ
                    assert set(os.environ) <= {
                        "PATH", "HOME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
                        "LANG", "PWD", "PYTEST_CURRENT_TEST", "PYTEST_VERSION",
                    }
            """
        },
    )
    run = sandbox_for(mode).run_tests(tmp_path)
    assert run.outcomes == {"test_env.py::test_clean_environment": "passed"}, run.output


@pytest.mark.parametrize("mode", MODES)
def test_memory_limit_applies(tmp_path: Path, mode: SandboxMode) -> None:
    write(
        tmp_path,
        {
            "test_memory.py": """
                def test_allocates():
                    block = bytearray(2 * 1024 * 1024 * 1024)
                    assert block
            """
        },
    )
    run = sandbox_for(mode, memory_limit_mb=768).run_tests(tmp_path)
    assert run.outcomes == {"test_memory.py::test_allocates": "failed"}
    assert run.failures["test_memory.py::test_allocates"][-1].type == "MemoryError"


def test_make_sandbox_picks_bwrap_when_it_works() -> None:
    sandbox = make_sandbox("auto", sys.executable, [], 10, 1024)
    expected = BwrapSandbox if bwrap_problem() is None else SubprocessSandbox
    assert isinstance(sandbox, expected)
    assert isinstance(make_sandbox("subprocess", sys.executable, [], 10, 1024), SubprocessSandbox)


def test_auto_refuses_without_bwrap_and_never_falls_back(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-bwrap")
    with pytest.raises(ConfigError, match="unsafe-subprocess"):
        make_sandbox("auto", sys.executable, FAST, 60, 2048, bwrap=missing)


def test_unsafe_subprocess_only_by_name_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox_module._warned.clear()
    with caplog.at_level(logging.INFO, logger="tools.sandbox"):
        first = make_sandbox("unsafe-subprocess", sys.executable, FAST, 60, 2048)
        second = make_sandbox("unsafe-subprocess", sys.executable, FAST, 60, 2048)
    assert isinstance(first, SubprocessSandbox) and isinstance(second, SubprocessSandbox)
    notes = [r for r in caplog.records if r.name == "tools.sandbox"]
    assert len(notes) == 1
    assert "WITHOUT isolation" in notes[0].getMessage()
    write(tmp_path, {"test_ok.py": "def test_ok():\n    pass\n"})
    run = first.run_tests(tmp_path)
    assert (run.outcomes, run.sandbox) == ({"test_ok.py::test_ok": "passed"}, "subprocess")


def test_bwrap_mode_refuses_when_bwrap_does_not_work(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="bubblewrap does not work"):
        make_sandbox("bwrap", "python", [], 10, 1024, bwrap=str(tmp_path / "no-bwrap"))


@pytest.mark.parametrize("mode", MODES)
def test_sandbox_error_when_pytest_cannot_run(tmp_path: Path, mode: SandboxMode) -> None:
    write(tmp_path, {"test_ok.py": "def test_ok():\n    pass\n"})
    missing_python = make_sandbox(mode, str(tmp_path / "no-python"), [], 10, 1024)
    with pytest.raises(SandboxError):
        missing_python.run_tests(tmp_path)
    no_report = make_sandbox(mode, sys.executable, ["-p", "no_such_plugin"], 10, 1024)
    with pytest.raises(SandboxError, match="wrote no report") as raised:
        no_report.run_tests(tmp_path)
    assert "no_such_plugin" in str(raised.value)


@needs_bwrap
def test_an_interpreter_living_under_tmp_stays_visible_in_bwrap(tmp_path: Path) -> None:
    if not tmp_path.resolve().is_relative_to("/tmp"):
        pytest.skip("pytest's tmp_path is not under /tmp here")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    tree = write(tmp_path / "tree", {"test_ok.py": "def test_ok():\n    assert True\n"})

    run = make_sandbox("bwrap", str(venv / "bin" / "python"), FAST, 60, 2048).run_tests(tree)

    assert run.outcomes == {"test_ok.py::test_ok": "passed"}
    assert run.sandbox == "bwrap"


def test_doctor_says_fixloop_refuses_without_bwrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent import wiring
    from agent.settings import Settings

    monkeypatch.setattr(sandbox_module, "bwrap_problem", lambda: "'bwrap' is not installed")
    name, why = wiring.sandbox_choice(Settings(home=tmp_path, sandbox="auto"))
    assert name == "none" and "unsafe-subprocess" in why
    name, why = wiring.sandbox_choice(Settings(home=tmp_path, sandbox="unsafe-subprocess"))
    assert name == "subprocess" and "WITHOUT isolation" in why


def test_the_unsafe_subprocess_hides_fixloops_own_environment_from_its_uid() -> None:
    """Non-dumpable: /proc/<pid>/environ of fixloop is root's, unreadable by a non-root child."""
    import ctypes

    make_sandbox("unsafe-subprocess", sys.executable, FAST, 60, 2048)
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


def test_the_report_pipe_closes_each_end_once() -> None:
    """Proofs run in threads: a second close would hit another thread's reused descriptor."""
    import os

    from tools.sandbox.channel import ReportPipe

    pipe = ReportPipe()
    os.write(pipe.write_fd, b'{"outcomes": {}}\n')
    pipe.close_write_end()
    others = os.pipe()  # takes the numbers just freed
    try:
        assert pipe.read(grace=5) == b'{"outcomes": {}}\n'
        time.sleep(0.1)
        for fd in others:
            os.fstat(fd)  # still open: the pipe closed only its own ends
    finally:
        for fd in others:
            os.close(fd)

"""Whether an interpreter can run fixloop's pytest plugin, and its Python and pytest versions.

`probe_interpreter` asks the interpreter for its versions, then runs the plugin on a directory
holding one passing test and checks that the report names it. It reads no settings, so
`fixloop doctor` and the sandbox (to explain a run that wrote no report) both call it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
MIN_PYTEST = (5, 0)
"""The oldest pytest the plugin supports; it refuses to load under an older one."""
MIN_PYTHON = (3, 8)
"""The oldest Python the plugin is written for."""

VERSION_SCRIPT = """\
import json, sys
info = {"python": "%d.%d.%d" % tuple(sys.version_info[:3])}
try:
    import pytest
    info["pytest"] = pytest.__version__
except Exception as error:
    info["error"] = "%s: %s" % (type(error).__name__, error)
print(json.dumps(info))
"""
"""Runs in the target interpreter, whatever its age: syntax every Python 2.7 and 3.x reads."""

PROBE_TEST = "test_fixloop_probe.py"
PROBE_NODEID = f"{PROBE_TEST}::test_probe"
_ERROR_LINE = re.compile(r"^(?:E\s+|INTERNALERROR>\s*)?([\w.]*(?:Error|Exception)\b.*)$")


@dataclass(frozen=True)
class InterpreterInfo:
    """What a probe found; `problem` is one line, None when the plugin reported the test."""

    python: str
    python_version: str | None
    pytest_version: str | None
    plugin_loads: bool
    problem: str | None


def probe_interpreter(python: str, timeout: float = 60) -> InterpreterInfo:
    """Run `python` twice: once for its versions, once with the plugin on a one-test directory."""
    versions, problem = _versions(python, timeout)
    python_version = versions.get("python")
    pytest_version = versions.get("pytest")
    if problem is None:
        problem = _problem(python, python_version, pytest_version, versions.get("error"), timeout)
    return InterpreterInfo(python, python_version, pytest_version, problem is None, problem)


def _problem(
    python: str,
    python_version: str | None,
    pytest_version: str | None,
    error: str | None,
    timeout: float,
) -> str | None:
    if pytest_version is None:
        return f"{python} (Python {python_version}) has no pytest: {error}"
    if version_tuple(pytest_version) < MIN_PYTEST:
        return (
            f"pytest {pytest_version} under {python} (Python {python_version}) is older than "
            f"{_dotted(MIN_PYTEST)}, "
            "the oldest fixloop's pytest plugin supports"
        )
    reason = _run_plugin(python, timeout)
    if reason is None:
        return None
    needs = ""
    if version_tuple(python_version or "") < MIN_PYTHON:
        needs = f", older than Python {_dotted(MIN_PYTHON)} which it needs"
    return (
        f"fixloop's pytest plugin does not load with pytest {pytest_version} under "
        f"{python} (Python {python_version}{needs}): {reason}"
    )


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading numeric release of a version: (5, 0, 1) for "5.0.1", (8, 1) for "8.1rc1"."""
    numbers: list[int] = []
    for part in text.split("."):
        digits = re.match(r"\d*", part)
        if digits is None or not digits.group():
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def _versions(python: str, timeout: float) -> tuple[dict[str, str], str | None]:
    try:
        done = subprocess.run(
            [python, "-c", VERSION_SCRIPT],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_environment(Path(tempfile.gettempdir())),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as error:
        return {}, f"cannot run the test interpreter {python}: {error}"
    try:
        found = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {}, f"the test interpreter {python} failed: {last_error_line(done.stderr)}"
    return {key: str(value) for key, value in found.items()}, None


def _run_plugin(python: str, timeout: float) -> str | None:
    """None when the plugin reported the probe's one test as passed; else the reason it did not."""
    if os.sep in python:
        python = os.path.abspath(python)  # pytest runs in the scratch directory
    with tempfile.TemporaryDirectory(prefix="fixloop-probe-") as scratch:
        root = Path(scratch)
        (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (root / PROBE_TEST).write_text("def test_probe():\n    assert True\n", encoding="utf-8")
        report = root / "report.json"
        environment = {**_environment(root), "FIXLOOP_REPORT": str(report)}
        command = [python, "-m", "pytest", "-p", "pytest_report", "-p", "no:cacheprovider"]
        try:
            done = subprocess.run(
                [*command, "-q", f"--rootdir={root}", PROBE_TEST],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=environment,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return f"pytest could not run: {error}"
        output = done.stdout + "\n" + done.stderr
        if not report.exists():
            return f"no report (exit code {done.returncode}): {last_error_line(output)}"
        outcomes = json.loads(report.read_text(encoding="utf-8")).get("outcomes")
    if outcomes != {PROBE_NODEID: "passed"}:
        return f"the report holds {outcomes!r}, not the one passing test (exit {done.returncode})"
    return None


def last_error_line(output: str) -> str:
    """The line of pytest's output that says what went wrong: its last exception line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        match = _ERROR_LINE.match(line)
        if match:
            return match.group(1)[:300]
    return lines[-1][:300] if lines else "no output"


def _environment(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(PLUGIN_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
    }


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(number) for number in version)

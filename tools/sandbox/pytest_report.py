"""A pytest plugin that writes fixloop's JSON test report to a pipe, or a file.

The report goes, as one JSON document and a newline, to the file descriptor named by
`FIXLOOP_REPORT_FD` (a pipe whose read end the sandbox's parent holds; see `channel.py`), or, when
that is unset, to the path in `FIXLOOP_REPORT`. The descriptor is taken at import, before any
test module loads: the variable is removed from `os.environ` and the descriptor is not inherited
by processes the tests start.

Loaded into the target repository's own pytest with `-p pytest_report` (its directory on
PYTHONPATH), so it imports nothing from fixloop. The report holds, per test node id, one outcome
(passed, failed, error, skipped) and, for failures, the exception chain in the shape of a Sentry
event: causes first and the finally-raised exception last, frames outermost first, each frame
with source context and the repr of its local variables. With `FIXLOOP_COVERAGE` set it also
records, per test, the lines of the rootdir's files that the test ran (a `sys.settrace` line
collector, no dependency), for spectrum-based fault localization. Under `--collect-only` it
holds the node ids collected (`collected`).

With `FIXLOOP_PER_TEST_TIMEOUT` set (seconds), a test whose setup, call and teardown together
run longer is cut: a SIGALRM raises `TestTimeout` (a BaseException, so no `except Exception` in
the code under test swallows it) where the main thread is, the test's outcome is `timeout`, its
failure holds the stack where it hung (the innermost frame last, as for any failure), and the
suite goes on. A hang that signals cannot break (a C call that does not return to Python, or a
test that took over SIGALRM) is caught by a watchdog thread a few seconds later: it records the
main thread's stack the same way, writes the report and ends pytest, so the tests after it do
not run.

It runs in the target's interpreter, not fixloop's: Python 3.8 or later (no syntax or standard
library newer than that; annotations stay strings, never evaluated) and pytest 5.0 or later.
Under an older pytest it refuses to load, with a message naming the version.
"""

from __future__ import annotations

import json
import linecache
import os
import platform
import re
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MIN_PYTEST = (5, 0)
MAX_REPR = 1024
CONTEXT_LINES = 5
_INTERNAL_MODULES = ("_pytest", "pluggy", "pytest")

_outcomes: dict[str, str] = {}
_failures: dict[str, list[dict[str, Any]]] = {}
_coverage: dict[str, dict[str, set[int]]] = {}
_collected: list[str] = []
_timeouts: set[str] = set()
WATCHDOG_GRACE = 5.0
"""Seconds past a test's timeout before the watchdog gives up on the signal and ends pytest."""


def _take_report_fd() -> int | None:
    value = os.environ.pop("FIXLOOP_REPORT_FD", None)
    if value is None or not value.isdigit():
        return None
    fd = int(value)
    try:
        os.set_inheritable(fd, False)
    except OSError:
        return None
    return fd


_report_fd = _take_report_fd()


def _version(text: str) -> tuple[int, ...]:
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


if _version(pytest.__version__) < MIN_PYTEST:
    raise ImportError(
        "fixloop's pytest plugin needs pytest >= {}, found pytest {}".format(
            ".".join(map(str, MIN_PYTEST)), pytest.__version__
        )
    )


def rootpath(config: pytest.Config) -> Path:
    """The rootdir as a `Path`: `config.rootpath` from pytest 6.1, `config.rootdir` before."""
    found = getattr(config, "rootpath", None) or getattr(config, "rootdir", None)
    return Path(str(found))


def pytest_sessionstart(session: pytest.Session) -> None:
    _outcomes.clear()
    _failures.clear()
    _coverage.clear()
    _timeouts.clear()
    del _collected[:]
    _timer.start(session)


class TestTimeout(BaseException):
    """Raised in the main thread when the running test is past its per-test timeout."""

    __test__ = False


class _Timer:
    """The per-test deadline: a SIGALRM during each phase, and a watchdog thread behind it."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.nodeid: str | None = None
        self.deadline = 0.0
        self.session: pytest.Session | None = None
        self.lock = threading.Lock()
        self.previous: Any = None

    def start(self, session: pytest.Session) -> None:
        try:
            self.seconds = float(os.environ.get("FIXLOOP_PER_TEST_TIMEOUT") or 0)
        except ValueError:
            self.seconds = 0.0
        if self.seconds <= 0 or threading.current_thread() is not threading.main_thread():
            self.seconds = 0.0
            return
        self.session = session
        watchdog = threading.Thread(target=self._watch, name="fixloop-watchdog", daemon=True)
        watchdog.start()

    def begin(self, nodeid: str) -> None:
        with self.lock:
            self.nodeid, self.deadline = nodeid, time.monotonic() + self.seconds

    def end(self) -> None:
        with self.lock:
            self.nodeid = None

    def arm(self) -> bool:
        """Set the alarm for what is left of the running test's time; False when off."""
        if not self.seconds or self.nodeid is None:
            return False
        self.previous = signal.signal(signal.SIGALRM, self._alarm)
        signal.setitimer(signal.ITIMER_REAL, max(self.deadline - time.monotonic(), 0.001))
        return True

    def disarm(self) -> None:
        """Stop the alarm and give SIGALRM back to whoever had it before the phase."""
        signal.setitimer(signal.ITIMER_REAL, 0)
        previous = self.previous if self.previous is not None else signal.SIG_DFL
        signal.signal(signal.SIGALRM, previous)

    def _alarm(self, signum: int, frame: types.FrameType | None) -> None:
        nodeid = self.nodeid
        if nodeid is None or frame is None:
            return
        _timeouts.add(nodeid)
        _failures[nodeid] = [hang_info(frame, self.seconds, self._root())]
        raise TestTimeout(_hang_message(self.seconds))

    def _watch(self) -> None:
        while True:
            time.sleep(0.5)
            with self.lock:
                nodeid, late = self.nodeid, time.monotonic() - self.deadline
            if nodeid is None or late < WATCHDOG_GRACE:
                continue
            frame = sys._current_frames().get(threading.main_thread().ident or 0)
            if frame is None:
                continue
            _timeouts.add(nodeid)
            _outcomes[nodeid] = "timeout"
            _failures[nodeid] = [hang_info(frame, self.seconds, self._root())]
            _write_report(self.session, 1)
            os._exit(1)

    def _root(self) -> Path:
        return rootpath(self.session.config) if self.session is not None else Path.cwd()


_timer = _Timer()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _timer.begin(item.nodeid)
    armed = _timer.arm()
    try:
        yield
    finally:
        if armed:
            _timer.disarm()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    armed = _timer.arm()
    try:
        yield
    finally:
        if armed:
            _timer.disarm()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    armed = _timer.arm()
    try:
        yield
    finally:
        if armed:
            _timer.disarm()
        _timer.end()


def _hang_message(seconds: float) -> str:
    return f"the test ran longer than its timeout of {seconds:g}s and was cut"


def hang_info(frame: types.FrameType, seconds: float, rootdir: Path) -> dict[str, Any]:
    """A failure in the report's shape: the stack of `frame` within the test, outermost first.

    Frames of pytest and pluggy, and of this plugin, are left out: the stack starts at the
    test (or fixture) pytest called.
    """
    stack: list[types.FrameType] = []
    current: types.FrameType | None = frame
    while current is not None:
        stack.append(current)
        current = current.f_back
    stack.reverse()
    inner = [i for i, f in enumerate(stack) if _is_internal_frame(f)]
    if inner:
        stack = stack[inner[-1] + 1 :]
    return {
        "type": "TestTimeout",
        "value": _hang_message(seconds),
        "module": None,
        "frames": [_frame_info(f, f.f_lineno, rootdir) for f in stack],
    }


def _is_internal_frame(frame: types.FrameType) -> bool:
    name = str(frame.f_globals.get("__name__", ""))
    return name.split(".")[0] in _INTERNAL_MODULES or name == __name__


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Trace the lines each test runs (setup, call and teardown) when coverage is asked for."""
    if not os.environ.get("FIXLOOP_COVERAGE"):
        yield
        return
    hits: dict[str, set[int]] = {}
    tracer = LineTracer(rootpath(item.config), hits)
    previous = sys.gettrace()
    sys.settrace(tracer.call)
    try:
        yield
    finally:
        sys.settrace(previous)
        _coverage[item.nodeid] = hits


class LineTracer:
    """Collects the lines run in files under `root`, by path relative to it.

    Frames of other files (installed packages, the standard library, pytest) get no line events.
    """

    def __init__(self, root: Path, hits: dict[str, set[int]]) -> None:
        self.root = str(root.resolve()) + os.sep
        self.hits = hits
        self.paths: dict[str, str | None] = {}

    def call(self, frame: types.FrameType, event: str, arg: object) -> Any:
        filename = frame.f_code.co_filename
        if filename not in self.paths:
            self.paths[filename] = self._relative(filename)
        relative = self.paths[filename]
        if relative is None or _rendering_a_failure(frame):
            return None
        lines = self.hits.setdefault(relative, set())

        def line(frame: types.FrameType, event: str, arg: object) -> Any:
            if event == "line":
                lines.add(frame.f_lineno)
            return line

        return line

    def _relative(self, filename: str) -> str | None:
        if _not_a_file(filename):
            return None
        path = os.path.abspath(filename)
        if not path.startswith(self.root) or "site-packages" in path or "/.venv/" in path:
            return None
        return path[len(self.root) :].replace(os.sep, "/")


_RENDERING_MODULES = frozenset(
    (
        "_pytest._io.saferepr",
        "_pytest._io.pprint",
        "_pytest.assertion.util",
        "_pytest._code.code",
        "_pytest.reports",
        "unittest.util",
    )
)
"""Modules that describe a failure (an assertion's operands, a traceback's values) after it
happened: the code they call, a `__repr__` above all, runs only because a test failed. This
plugin, which records the failing frames' values, is one of them."""

_TEST_CALLERS = frozenset(("_pytest.python", "_pytest.fixtures", "_pytest.runner"))


def _rendering_a_failure(frame: types.FrameType) -> bool:
    """True for a call made while pytest (or unittest) renders a failure: such lines are run by
    failing tests alone and would look like the bug to a spectrum."""
    caller = frame.f_back
    while caller is not None:
        name = caller.f_globals.get("__name__", "")
        if name in _RENDERING_MODULES or name == __name__:
            return True
        if name in _TEST_CALLERS:
            return False
        caller = caller.f_back
    return False


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Fold the setup, call and teardown phases into one outcome per test."""
    current = _outcomes.get(report.nodeid)
    if report.nodeid in _timeouts:
        _outcomes[report.nodeid] = "timeout"
    elif report.when == "setup":
        if report.failed:
            _outcomes[report.nodeid] = "error"
        elif report.skipped:  # skip marks, and xfail(run=False)
            _outcomes[report.nodeid] = "skipped"
    elif report.when == "call":
        # An xfail is reported as skipped; a non-strict xpass as passed; a strict one as failed.
        # A test one of whose subtests failed (unittest's subTest, pytest's subtests) stays failed.
        if report.passed and current != "failed":
            _outcomes[report.nodeid] = "passed"
        elif report.skipped:
            _outcomes[report.nodeid] = "skipped"
        else:
            _outcomes[report.nodeid] = "failed"
    elif report.when == "teardown" and report.failed and current not in ("failed", "timeout"):
        _outcomes[report.nodeid] = "error"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember what a `--collect-only` run collected: it goes into the report."""
    _collected[:] = [item.nodeid for item in session.items]


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _outcomes[report.nodeid] = "error"


def pytest_exception_interact(
    node: pytest.Item | pytest.Collector, call: pytest.CallInfo[Any], report: Any
) -> None:
    """Called for every real failure (not for skips or xfails) with the live exception."""
    if call.excinfo is None or node.nodeid in _timeouts:
        return
    exc = call.excinfo.value
    if isinstance(exc, pytest.Collector.CollectError):
        # The import or syntax error, not pytest's wrapper around it (raised `from` it since
        # pytest 6; raised while handling it, so only its context, before).
        exc = exc.__cause__ or exc.__context__ or exc
    _failures.setdefault(node.nodeid, exception_chain(exc, rootpath(node.config)))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the report once, after every other plugin had its say on the exit status."""
    _write_report(session, int(exitstatus))


def _write_report(session: pytest.Session | None, exitstatus: int) -> None:
    global _report_fd
    target = os.environ.get("FIXLOOP_REPORT")
    if _report_fd is None and not target:
        return
    report: dict[str, Any] = {
        "outcomes": _outcomes,
        "failures": _failures,
        "exit_code": int(exitstatus),
        "pytest": pytest.__version__,
        "python": platform.python_version(),
    }
    if session is not None and session.config.getoption("collectonly", False):
        report["collected"] = list(_collected)
    if _coverage:
        report["coverage"] = {
            nodeid: {path: sorted(lines) for path, lines in hits.items() if lines}
            for nodeid, hits in _coverage.items()
        }
    if _report_fd is not None:
        fd, _report_fd = _report_fd, None
        data = (json.dumps(report) + "\n").encode("utf-8")
        try:
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)
        return
    path = Path(str(target))
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(report), encoding="utf-8")
    partial.replace(path)


def exception_chain(exc: BaseException, rootdir: Path) -> list[dict[str, Any]]:
    """The chain ending in `exc`, causes first, as Sentry orders it."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return [exception_info(item, rootdir) for item in reversed(chain)]


def exception_info(exc: BaseException, rootdir: Path) -> dict[str, Any]:
    module = type(exc).__module__
    tracebacks = list(_walk(exc.__traceback__))
    while tracebacks and _is_internal(tracebacks[0]):
        tracebacks.pop(0)
    return {
        "type": type(exc).__name__,
        "value": _safe_str(exc),
        "module": None if module in ("builtins", "__builtins__") else module,
        "frames": [frame_info(tb, rootdir) for tb in tracebacks],
    }


def frame_info(tb: types.TracebackType, rootdir: Path) -> dict[str, Any]:
    return _frame_info(tb.tb_frame, tb.tb_lineno, rootdir)


def _frame_info(frame: types.FrameType, lineno: int, rootdir: Path) -> dict[str, Any]:
    code_file = frame.f_code.co_filename
    abs_path = code_file if _not_a_file(code_file) else os.path.abspath(code_file)
    inside = not _not_a_file(code_file) and _is_relative_to(Path(abs_path), rootdir)
    filename = os.path.relpath(abs_path, rootdir) if inside else abs_path
    return {
        "filename": filename,
        "abs_path": abs_path,
        "module": frame.f_globals.get("__name__"),
        "function": frame.f_code.co_name,
        "lineno": lineno,
        "context_line": _line(abs_path, lineno),
        "pre_context": _lines(abs_path, max(1, lineno - CONTEXT_LINES), lineno),
        "post_context": _lines(abs_path, lineno + 1, lineno + 1 + CONTEXT_LINES),
        "vars": {name: _safe_repr(value) for name, value in frame.f_locals.items()},
        "in_app": inside and "site-packages" not in abs_path,
    }


def _walk(tb: types.TracebackType | None) -> Any:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _not_a_file(filename: str) -> bool:
    """Code compiled from a string or frozen into the interpreter: `<string>`, `<frozen os>`."""
    return filename.startswith("<") and filename.endswith(">")


def _is_internal(tb: types.TracebackType) -> bool:
    name = str(tb.tb_frame.f_globals.get("__name__", ""))
    return name.split(".")[0] in _INTERNAL_MODULES


def _is_relative_to(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _line(path: str, lineno: int) -> str | None:
    text = linecache.getline(path, lineno)
    return text.rstrip("\r\n") if text else None


def _lines(path: str, start: int, stop: int) -> list[str]:
    found = (_line(path, n) for n in range(start, stop))
    return [text for text in found if text is not None]


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ must not break the report
        text = f"<unrepresentable {type(value).__name__}: {type(error).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 3] + "..."


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as error:
        return f"<unprintable {type(exc).__name__}: {type(error).__name__}>"

"""Make the sample service fail for real and report it to a Sentry DSN.

The service runs in a subprocess (`serve.py` in the sample repo) with the real sentry-sdk and
its WSGI middleware; the crashing request goes over real HTTP. The caller says, through
`delivered`, whether its intake has stored an event, so this module needs no store of its own.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

import git

from agent.demo.sample_repo import CRASH_PATH
from agent.errors import AdapterError, ConfigError

_POLL_SECONDS = 0.05
_KEPT_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener that ignores proxy settings: the service listens on loopback."""


def trigger_incident(
    repo: Path,
    dsn: str,
    timeout: float = 60,
    *,
    delivered: Callable[[str], bool],
) -> str:
    """Run the sample service, crash it once, and return the id of the event it reported.

    `repo` is a sample repo from `build_demo_repo`; `dsn` is where its sentry-sdk sends events
    (e.g. `SentryIntakeServer.dsn()`). The release is the repo's HEAD sha, the environment
    `demo`. `delivered(event_id)` must become true once the intake has stored the event; it is
    polled until `timeout` seconds have passed since the call. Raises `ConfigError` when `repo`
    is not a git repo, and `AdapterError` (with the tail of the service's stderr) when the
    service does not start, does not crash as expected, or its event does not arrive.
    """
    deadline = time.monotonic() + timeout
    release = _head_sha(repo)
    command = [sys.executable, "serve.py", "--dsn", dsn, "--release", release]
    command += ["--environment", "demo"]
    environment = _service_environment()
    with (
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(
            command,
            cwd=repo,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as service,
    ):
        assert service.stdout is not None
        output = _ServiceOutput(service.stdout)
        try:
            event_ids = _exercise(service, output, deadline)
        except AdapterError as failure:
            raise AdapterError(f"{failure} {_tail(stderr)}".strip()) from None
        finally:
            if service.poll() is None:
                service.kill()
            service.wait()
            output.drain()
    if not event_ids:
        raise AdapterError(f"the service crashed but reported no event to {dsn}")
    event_id = event_ids[0]
    while not delivered(event_id):
        if time.monotonic() > deadline:
            raise AdapterError(f"event {event_id} did not reach the intake within {timeout}s")
        time.sleep(_POLL_SECONDS)
    return event_id


def _exercise(service: subprocess.Popen[str], output: _ServiceOutput, deadline: float) -> list[str]:
    """Crash the running service once, check it still answers, stop it; return its event ids."""
    assert service.stdin is not None
    first = output.next_line(deadline, "the service did not report its port")
    if not first.startswith("port "):
        raise AdapterError(f"the service printed {first!r} instead of its port")
    base = f"http://127.0.0.1:{first.split()[1]}"
    crash_status = _get(base + CRASH_PATH, deadline)
    if crash_status != 500:
        raise AdapterError(f"GET {CRASH_PATH} answered {crash_status}, expected a 500 crash")
    health_status = _get(base + "/health", deadline)
    if health_status != 200:
        raise AdapterError(f"GET /health answered {health_status} after the crash")
    service.stdin.close()
    event_ids = []
    while (line := output.next_line(deadline, "the service did not stop")) != "stopped":
        if line.startswith("event "):
            event_ids.append(line.split()[1])
    try:
        service.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        raise AdapterError("the service did not exit after it stopped") from None
    return event_ids


def _service_environment() -> dict[str, str]:
    """A minimal environment for the service.

    wsgiref copies the process environment into every request's WSGI environ, and sentry-sdk
    reports the locals of the crashing frames, so anything else here would end up in the event.
    """
    kept = {key: os.environ[key] for key in _KEPT_VARIABLES if key in os.environ}
    return kept | {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}


class _ServiceOutput:
    """The service's stdout, line by line, read on a thread so that waits can time out."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stream = stream
        self._thread = threading.Thread(target=self._pump, name="demo-service-stdout")
        self._thread.start()

    def _pump(self) -> None:
        for line in self._stream:
            self._lines.put(line.strip())
        self._lines.put(None)

    def next_line(self, deadline: float, failure: str) -> str:
        try:
            line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AdapterError(f"{failure} in time") from None
        if line is None:
            raise AdapterError(f"{failure}: it exited")
        return line

    def drain(self) -> None:
        """Wait for end of output; the process has exited or been killed by now."""
        self._thread.join()


def _get(url: str, deadline: float) -> int:
    seconds = max(deadline - time.monotonic(), 0.1)
    try:
        with _DIRECT.open(url, timeout=seconds) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)
    except OSError as error:
        raise AdapterError(f"GET {url} failed: {error}") from None


def _head_sha(repo: Path) -> str:
    try:
        with git.Repo(repo) as handle:
            return handle.head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        raise ConfigError(f"{repo} is not a git repository with a commit") from None


def _tail(stderr: IO[bytes], lines: int = 5) -> str:
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip()
    return " | ".join(text.splitlines()[-lines:]) if text else ""

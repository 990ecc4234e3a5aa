"""The channel the test outcome comes back on, and the check that pytest's exit code agrees.

The parent makes a pipe and keeps its read end; the child inherits only the write end, as the
file descriptor named by `FIXLOOP_REPORT_FD`. fixloop's plugin writes one JSON document and a
newline to it when the session finishes, and closes it. No file holds the report, so nothing in
the sandbox's writable tree can be rewritten after the fact.

Threat model, honestly: the plugin runs in the same process as the code under test. That code
can find the descriptor (`/proc/self/fd`) and write to it, or call `os._exit` at any point. What
the parent checks defeats the blunt forgeries: a report rewritten or written twice (anything but
exactly one document is refused), an exit before the report (no report is refused), and an exit
code that contradicts the report (`disagreement`): exit 0 with a failure, exit 1 with none, or an
exit code other than the one the plugin saw. Code that deliberately imitates the plugin, writes a
single consistent all-passed report and exits 0 before the plugin does is not detectable from
outside the process; the guardrails (which refuse changes to tests and to how they are
collected) and the reviewer are the defence against that.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

FAILED = ("failed", "error", "timeout")


class ReportPipe:
    """A pipe whose write end the child inherits; a thread drains the read end.

    Each end is closed exactly once, by its owner: the write end by `close_write_end`, the read
    end by the draining thread when every writer has closed. (Descriptor numbers are reused at
    once by other threads' pipes, so a second close, or a read after one, would hit theirs.)
    """

    def __init__(self) -> None:
        self._read, self.write_fd = os.pipe()
        self._write_open = True
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        try:
            while chunk := os.read(self._read, 65536):
                self._chunks.append(chunk)
        finally:
            os.close(self._read)

    def close_write_end(self) -> None:
        """In the parent, once the child has started: only the child's copy stays open."""
        with self._lock:
            if self._write_open:
                self._write_open = False
                os.close(self.write_fd)

    def read(self, grace: float = 5.0) -> bytes:
        """What came down the pipe once every writer closed it, or by `grace` seconds.

        A process the tests left running may hold a copy of the write end; the thread then
        drains on until the run's control group is killed, and what came so far is returned.
        """
        self.close_write_end()
        self._reader.join(grace)
        return b"".join(list(self._chunks))


def parse_report(data: bytes) -> dict[str, Any] | None:
    """The one report on the channel; None when there is none; ValueError when not exactly one."""
    if not data:
        return None
    lines = data.split(b"\n")
    if len(lines) != 2 or lines[1] != b"":
        raise ValueError(
            f"the report channel carried {len(lines) - 1 or 1} writes instead of one report: "
            "something besides fixloop's plugin wrote to it"
        )
    try:
        report = json.loads(lines[0])
    except ValueError as error:
        raise ValueError(
            f"the report channel carried something that is not JSON: {error}"
        ) from None
    if not isinstance(report, dict) or not isinstance(report.get("outcomes"), dict):
        raise ValueError("the report channel carried JSON that is not a report")
    return report


def disagreement(report: dict[str, Any], exit_code: int) -> str | None:
    """Why pytest's exit code contradicts the report, or None when they agree."""
    failed = sorted(nodeid for nodeid, outcome in report["outcomes"].items() if outcome in FAILED)
    if report.get("exit_code") != exit_code:
        return (
            f"pytest exited with {exit_code} but its session finished with "
            f"{report.get('exit_code')}: the process exit was forged or the report was"
        )
    if exit_code == 0 and failed:
        return f"pytest exited with 0 but the report lists failures ({', '.join(failed[:3])})"
    if exit_code == 1 and not failed:
        return "pytest exited with 1 (tests failed) but the report lists no failure"
    return None

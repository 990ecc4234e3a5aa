"""Python traceback text (from a log or a bug report) read into an exception chain.

The chain has Sentry's order and shape: causes first, the exception finally raised last; within
each exception the outermost frame first. Read:

* `File "...", line N, in func` frames with the source line under them as `context_line`,
  paths from any machine (POSIX, Windows, containers, site-packages) kept as printed;
* chains joined by "During handling of the above exception, another exception occurred:" or
  "The above exception was the direct cause of the following exception:", including a cause
  printed without a traceback of its own;
* noise: a log prefix (`2026-11-23 01:02:03,456 ERROR [worker] `) on the header line and on any
  other line (digits may differ from line to line), a message above the traceback, log records
  after it; caret lines (`^^^^`, `~~~~`) and `[Previous line repeated N more times]` are
  skipped; an exception message may span several lines.

Several tracebacks in one text: the last chain is read (the one that ended the process).
Exception groups (`+ Exception Group Traceback`) are refused, not flattened. Tracebacks carry no
local variables. Pure: text in, `ExceptionInfo` records out, `IntakeError` for text with no
readable traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.diagnosis.frames import is_installed_path
from agent.domain import ExceptionInfo, Frame
from agent.errors import IntakeError

HEADER = "Traceback (most recent call last):"
CHAIN_MARKERS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_HEADER_LINE = re.compile(r"^(?P<prefix>.*?)Traceback \(most recent call last\):\s*$")
_GROUP = re.compile(r"Exception Group Traceback \(most recent call last\):")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
_CARETS = re.compile(r"^\s*[~^][\s~^]*$")
_REPEATED = re.compile(r"^\s*\[Previous line repeated \d+ more times?\]\s*$")
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::(?: (?P<value>.*))?)?$")
_LOG_RECORD = re.compile(
    r"^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"
    r"|^\[?\d{2}:\d{2}:\d{2}"
    r"|^\[?(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b"
)
_INSTALL_ROOTS = (
    re.compile(r"(?:^|/)(?:site-packages|dist-packages)/(?P<rest>.+)$"),
    re.compile(r"(?:^|/)(?:lib(?:64)?/python\d+(?:\.\d+)?|Lib)/(?P<rest>.+)$"),
)
_MESSAGE_LINES = 100


@dataclass(frozen=True)
class _Line:
    prefix: str
    """The log prefix stripped from the line, "" when none."""
    body: str


def parse_traceback(text: str) -> list[ExceptionInfo]:
    """The last exception chain printed in `text`, causes first; `IntakeError` when none."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(_GROUP.search(line) for line in raw):
        raise IntakeError(
            "exception groups (ExceptionGroup tracebacks) are not read; "
            "give the traceback of one of its exceptions"
        )
    lines = _strip_prefixes(raw)
    chains: list[list[ExceptionInfo]] = []
    linked = False
    i = 0
    while i < len(lines):
        body = lines[i].body.strip()
        if body == HEADER:
            frames, i = _frames(lines, i + 1)
            exception, i = _exception(lines, i, frames)
            if exception is None:
                raise IntakeError(
                    "the traceback ends before its exception line (is the text cut off?)"
                )
            _add(chains, exception, linked)
            linked = False
        elif body in CHAIN_MARKERS and chains:
            linked = True
            i += 1
        elif linked and body:
            # A cause printed without a traceback of its own: just its exception line.
            exception, after = _exception(lines, i, [])
            if exception is not None:
                _add(chains, exception, linked)
                i = after
            else:
                i += 1
            linked = False
        else:
            i += 1
    if not chains:
        raise IntakeError(
            f"no Python traceback in the text (no line '{HEADER}' followed by an exception)"
        )
    return chains[-1]


def _add(chains: list[list[ExceptionInfo]], exception: ExceptionInfo, linked: bool) -> None:
    if linked and chains:
        chains[-1].append(exception)
    else:
        chains.append([exception])


def _strip_prefixes(raw: list[str]) -> list[_Line]:
    """Split each line into log prefix and body; prefixes are learnt from the header lines."""
    patterns = []
    for line in raw:
        match = _HEADER_LINE.match(line)
        if match and match["prefix"].strip():
            generalised = re.sub(r"\d+", r"\\d+", re.escape(match["prefix"]))
            if generalised not in patterns:
                patterns.append(generalised)
    compiled = [re.compile(pattern) for pattern in patterns]
    lines = []
    for line in raw:
        found = next((m for pattern in compiled if (m := pattern.match(line))), None)
        if found is not None:
            lines.append(_Line(found.group(0), line[found.end() :]))
        else:
            lines.append(_Line("", line))
    return lines


def _frames(lines: list[_Line], i: int) -> tuple[list[Frame], int]:
    frames: list[Frame] = []
    while i < len(lines):
        body = lines[i].body
        match = _FRAME.match(body)
        if match:
            context, i = _source_line(lines, i + 1)
            frames.append(_frame(match["path"], int(match["line"]), match["func"], context))
        elif _CARETS.match(body) or _REPEATED.match(body):
            i += 1
        elif body.strip() and body[:1].isspace():
            i += 1  # more source lines of a multi-line statement (3.13 prints them)
        else:
            break
    return frames, i


def _source_line(lines: list[_Line], i: int) -> tuple[str | None, int]:
    if i >= len(lines):
        return None, i
    body = lines[i].body
    if not body[:1].isspace() or not body.strip():
        return None, i
    if _FRAME.match(body) or _CARETS.match(body) or _REPEATED.match(body):
        return None, i
    return body.strip(), i + 1


def _exception(lines: list[_Line], i: int, frames: list[Frame]) -> tuple[ExceptionInfo | None, int]:
    if i >= len(lines):
        return None, i
    first = lines[i]
    match = _EXCEPTION.match(first.body.strip())
    if match is None:
        return None, i
    message = [match["value"] or ""]
    i += 1
    while i < len(lines) and len(message) < _MESSAGE_LINES and _continues(lines[i], first):
        message.append(lines[i].body.rstrip())
        i += 1
    module, _, name = match["type"].rpartition(".")
    exception = ExceptionInfo(
        type=name,
        value="\n".join(message).strip(),
        module=module or None,
        frames=frames,
    )
    return exception, i


def _continues(line: _Line, exception_line: _Line) -> bool:
    """A further line of a multi-line exception message, not the noise after the traceback."""
    body = line.body.strip()
    return (
        bool(body)
        and line.prefix == exception_line.prefix
        and body != HEADER
        and body not in CHAIN_MARKERS
        and not _LOG_RECORD.match(line.body)
        and not _FRAME.match(line.body)
    )


def _frame(path: str, lineno: int, function: str | None, context: str | None) -> Frame:
    slashed = path.replace("\\", "/")
    absolute = slashed.startswith("/") or re.match(r"^[A-Za-z]:/", slashed) is not None
    installed = is_installed_path(slashed)
    return Frame(
        filename=path,
        abs_path=path if absolute else None,
        module=module_of(slashed, absolute, installed),
        function=function or "<module>",
        lineno=lineno,
        context_line=context,
        in_app=not installed,
    )


def module_of(path: str, absolute: bool, installed: bool) -> str | None:
    """The module a printed path is, where the path says: installed code after its install
    root (`.../site-packages/requests/api.py` -> `requests.api`), a relative path as it is
    (`app/calc.py` -> `app.calc`). An absolute application path does not say where its
    import root is: None."""
    if installed:
        match = next((m for root in _INSTALL_ROOTS if (m := root.search(path))), None)
        rest = match["rest"] if match else None
    elif not absolute:
        rest = path.removeprefix("./")
    else:
        rest = None
    if rest is None or not rest.endswith(".py"):
        return None
    parts = rest.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)

"""CPython's own traceback format, as the interpreter, the REPL, doctest, unittest, logging and
`pytest --tb=native` print it.

* `File "...", line N, in func` frames with the source line under them as `context_line`,
  paths from any machine (POSIX, Windows, containers, site-packages) kept as printed;
* chains joined by "During handling of the above exception, another exception occurred:" or
  "The above exception was the direct cause of the following exception:", including a cause
  printed without a traceback of its own;
* a traceback indented as a whole (doctest's `Exception raised:`), prompts before the header
  (`>>> Traceback ...`), exception groups once `text.plain_lines` has taken their box away:
  the tracebacks printed right after a group are its sub-exceptions;
* noise: a log prefix (`2026-11-23 01:02:03,456 ERROR [worker] `) on the header line and on any
  other line (digits may differ from line to line), a message above the traceback, log records
  after it; caret lines (`^^^^`, `~~~~`), `[Previous line repeated N more times]` and frames
  elided as `...` are skipped; an exception message may span several lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.domain import ExceptionInfo, Frame
from agent.intake.tracebacks.found import Found
from agent.intake.tracebacks.paths import frame_of

HEADER = "Traceback (most recent call last):"
GROUP_HEADER = "Exception Group Traceback (most recent call last):"
CHAIN_MARKERS = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_HEADER_LINE = re.compile(
    r"^(?P<prefix>.*?)(?:Exception Group )?Traceback \(most recent call last\):\s*$"
)
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
_CARETS = re.compile(r"^\s*[~^][\s~^]*$")
_REPEATED = re.compile(r"^\s*\[Previous line repeated \d+ more times?\]\s*$")
_ELIDED = re.compile(r"^\s*(?:\.\.\.|…)\s*(?:\(?[\w ]*\)?)?\s*$")
EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::(?: (?P<value>.*))?)?$")
_LOG_RECORD = re.compile(
    r"^\[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"
    r"|^\[?\d{2}:\d{2}:\d{2}"
    r"|^\[?(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b"
)
_RULE = re.compile(r"^(?:={3,}|_{3,}|\*{3,}|-{3,}\s*$)")
_PROMPT = re.compile(r"^(?:(?:>>>|\.\.\.|In \[\d+\]:)\s?)+")
_MESSAGE_LINES = 100
CUT_EXCEPTION = "UnknownException"
"""The type given to an exception the text was cut before."""


@dataclass(frozen=True)
class _Line:
    prefix: str
    """The log prefix stripped from the line, "" when none."""
    body: str


def read(raw: list[str], unread: list[str]) -> list[Found]:
    """Every chain printed in `raw` (plain lines), in the order printed."""
    lines = _strip_prefixes(raw)
    found: list[Found] = []
    group: Found | None = None
    group_end = 0
    linked = False
    i = 0
    while i < len(lines):
        body = _PROMPT.sub("", lines[i].body.strip())
        if body in (HEADER, GROUP_HEADER):
            start = i
            indent = len(lines[i].body) - len(lines[i].body.lstrip())
            frames, i = _frames(lines, i + 1, indent, unread)
            exception, i = _exception(lines, i, frames, indent)
            if exception is None:
                if not frames:
                    continue
                unread.append(
                    f"line {start + 1}: a traceback of {len(frames)} frame(s) ends before "
                    "its exception line (is the text cut off?); its frames are kept"
                )
                exception = cut_exception(frames)
            if linked and found:
                target = group.leaves[-1] if group is not None and group.leaves else found[-1]
                target.chain.append(exception)
            elif group is not None and _only_blank_between(lines, group_end, start):
                group.leaves.append(Found([exception], "python", start + 1))
            else:
                found.append(Found([exception], "python", start + 1))
                group = found[-1] if body == GROUP_HEADER else None
            group_end = i
            linked = False
        elif body in CHAIN_MARKERS and found:
            linked = True
            i += 1
        elif linked and body:
            # A cause printed without a traceback of its own: just its exception line.
            exception, after = _exception(lines, i, [], 0)
            if exception is not None:
                target = group.leaves[-1] if group is not None and group.leaves else found[-1]
                target.chain.append(exception)
                i = after
            else:
                i += 1
            linked = False
        else:
            i += 1
    return found


def cut_exception(frames: list[Frame]) -> ExceptionInfo:
    """The exception of a traceback whose text ends before its exception line: unknown, but its
    frames are evidence."""
    return ExceptionInfo(type=CUT_EXCEPTION, value="the text ends before the exception line",
                         frames=frames)  # fmt: skip


def _only_blank_between(lines: list[_Line], end: int, start: int) -> bool:
    return all(not line.body.strip() for line in lines[end:start])


def _strip_prefixes(raw: list[str]) -> list[_Line]:
    """Split each line into log prefix and body; prefixes are learnt from the header lines."""
    patterns = []
    for line in raw:
        match = _HEADER_LINE.match(line)
        prefix = match["prefix"] if match else ""
        if prefix.strip() and not _PROMPT.fullmatch(prefix.strip() + " "):
            generalised = re.sub(r"\d+", r"\\d+", re.escape(prefix))
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


def _frames(lines: list[_Line], i: int, indent: int, unread: list[str]) -> tuple[list[Frame], int]:
    frames: list[Frame] = []
    while i < len(lines):
        body = lines[i].body
        match = _FRAME.match(body)
        if match:
            context, i = _source_line(lines, i + 1)
            frames.append(
                frame_of(match["path"], int(match["line"]), match["func"] or "<module>", context)
            )
        elif _ELIDED.match(body) and body.strip():
            unread.append(f"line {i + 1}: frames elided as {body.strip()!r} are not in the text")
            i += 1
        elif _CARETS.match(body) or _REPEATED.match(body):
            i += 1
        elif body.strip() and len(body) - len(body.lstrip()) > indent + 2:
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
    if _ELIDED.fullmatch(body.strip()):
        return None, i
    return body.strip(), i + 1


def _exception(
    lines: list[_Line], i: int, frames: list[Frame], indent: int
) -> tuple[ExceptionInfo | None, int]:
    if i >= len(lines):
        return None, i
    first = lines[i]
    match = EXCEPTION.match(first.body.strip())
    if match is None:
        return None, i
    message = [match["value"] or ""]
    i += 1
    while i < len(lines) and len(message) < _MESSAGE_LINES and _continues(lines[i], first, indent):
        message.append(lines[i].body.rstrip()[indent:])
        i += 1
    module, _, name = match["type"].rpartition(".")
    exception = ExceptionInfo(
        type=name,
        value="\n".join(message).strip(),
        module=module or None,
        frames=frames,
    )
    return exception, i


def _continues(line: _Line, exception_line: _Line, indent: int) -> bool:
    """A further line of a multi-line exception message, not the noise after the traceback."""
    body = line.body.strip()
    return (
        bool(body)
        and line.prefix == exception_line.prefix
        and len(line.body) - len(line.body.lstrip()) >= indent
        and _PROMPT.sub("", body) not in (HEADER, GROUP_HEADER)
        and body not in CHAIN_MARKERS
        and not _LOG_RECORD.match(line.body)
        and not _FRAME.match(line.body)
        and not _PROMPT.match(body)
        and not _RULE.match(body)
    )

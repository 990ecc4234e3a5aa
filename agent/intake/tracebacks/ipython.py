"""IPython's and Jupyter's traceback format (once `text.plain_lines` took the colours away).

    StatisticsError                           Traceback (most recent call last)
    File ~/code/app/report.py:9, in summarize(timesheet)          IPython 8 and later
          8 for person, entries in timesheet.items():
    ----> 9     per_person[person] = average_rate(entries)
    Cell In[1], line 5, in average_rate(entries)                  code typed into a cell
    /home/me/app/report.py in summarize(timesheet)                IPython 7 and earlier
    ----> 9         per_person[person] = average_rate(entries)
    <ipython-input-1-fd2e84541817> in <module>
    StatisticsError: fmean requires at least one data point

A frame's line is the one the arrow marks; chains are joined by the same words as CPython's.
A cell has no file: its frames keep the cell's name as their path and are placed, if at all,
by their source line.
"""

from __future__ import annotations

import re

from agent.domain import ExceptionInfo, Frame
from agent.intake.tracebacks.cpython import CHAIN_MARKERS, EXCEPTION
from agent.intake.tracebacks.found import Found
from agent.intake.tracebacks.paths import frame_of

_HEADER = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)\s+Traceback \(most recent call last\)\s*$")
_FILE = re.compile(r"^File (?P<path>.+?):(?P<line>\d+)(?:, in (?P<func>[^\s(]+)(?:\(.*\))?)?\s*$")
_CELL = re.compile(
    r"^(?P<path>Cell In ?\[\d*\]|Input In ?\[\d*\]), (?:line (?P<line>\d+)|in (?P<func0>\S+?)\(\))"
    r"(?:, in (?P<func>[^\s(]+)(?:\(.*\))?)?\s*$"
)
_CLASSIC = re.compile(r"^(?P<path>\S.*?) in (?P<func>[^\s(]+(?: [^\s(]+)*?)\((?P<args>.*)\)\s*$")
_ARROW = re.compile(r"^-*>\s*(?P<line>\d+)\s?(?P<source>.*)$")
_NUMBERED = re.compile(r"^\s+\d+\s?(?P<source>.*)$")
_RULE = re.compile(r"^-{20,}\s*$")


def read(lines: list[str], unread: list[str]) -> list[Found]:
    found: list[Found] = []
    linked = False
    i = 0
    while i < len(lines):
        header = _HEADER.match(lines[i].strip())
        if header is None:
            if lines[i].strip() in CHAIN_MARKERS and found:
                linked = True
            i += 1
            continue
        start = i
        frames, i = _frames(lines, i + 1)
        exception, i = _exception(lines, i, frames, header["type"])
        if exception is None:
            unread.append(f"line {start + 1}: an IPython traceback without its exception line")
            continue
        if linked:
            found[-1].chain.append(exception)
        else:
            found.append(Found([exception], "ipython", start + 1))
        linked = False
    return found


def _frames(lines: list[str], i: int) -> tuple[list[Frame], int]:
    frames: list[Frame] = []
    while i < len(lines):
        text = lines[i].rstrip()
        if not text.strip() or _RULE.match(text):
            i += 1
            continue
        head = _frame_head(text)
        if head is None:
            break
        path, line, func = head
        i += 1
        context = None
        while i < len(lines) and lines[i].strip():
            arrow = _ARROW.match(lines[i].rstrip())
            if arrow:
                line = int(arrow["line"])
                context = arrow["source"].strip() or None
            elif not _NUMBERED.match(lines[i]) and _frame_head(lines[i].rstrip()) is not None:
                break
            i += 1
        frames.append(frame_of(path, line, func or "<module>", context))
    return frames, i


def _frame_head(text: str) -> tuple[str, int | None, str | None] | None:
    if match := _FILE.match(text):
        return match["path"], int(match["line"]), match["func"]
    if match := _CELL.match(text):
        line = int(match["line"]) if match["line"] else None
        return match["path"], line, match["func"] or match["func0"]
    if (match := _CLASSIC.match(text)) and not EXCEPTION.match(text):
        return match["path"], None, match["func"]
    return None


def _exception(
    lines: list[str], i: int, frames: list[Frame], header_type: str
) -> tuple[ExceptionInfo | None, int]:
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        return None, i
    match = EXCEPTION.match(lines[i].strip())
    if match is None or match["type"].rpartition(".")[2] != header_type.rpartition(".")[2]:
        return None, i
    message = [match["value"] or ""]
    i += 1
    while i < len(lines) and lines[i].strip() and lines[i].strip() not in CHAIN_MARKERS:
        if _HEADER.match(lines[i].strip()) or _RULE.match(lines[i]):
            break
        message.append(lines[i].rstrip())
        i += 1
    module, _, name = match["type"].rpartition(".")
    return ExceptionInfo(
        type=name, value="\n".join(message).strip(), module=module or None, frames=frames
    ), i

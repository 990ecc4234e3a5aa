"""pytest's failure report as a CI log holds it, in the `--tb` styles that are not CPython's own
(`native` is read by `cpython`):

    src/app/rates.py:5: in billable_rates                 short: location, then the source
        return [entry["rate"] for entry in entries]
    E   KeyError: 'rate'

    >       per_person[person] = average_rate(entries)     long: the source, `>` marks the line,
    src/app/report.py:9:                                   then the location; the function is
                                                           the `def` above the marked line
    /abs/src/app/rates.py:5: KeyError: 'rate'              line: one location and the exception

A failure is the part of the report under its `____ test name ____` rule; `E   ` lines give
the exception (an `E   assert ...` without an exception name is an AssertionError).
"""

from __future__ import annotations

import re

from agent.domain import ExceptionInfo, Frame
from agent.intake.tracebacks.cpython import EXCEPTION, HEADER
from agent.intake.tracebacks.found import Found
from agent.intake.tracebacks.paths import frame_of

_SECTION = re.compile(r"^_{3,} (?P<name>\S.*?) _{3,}\s*$")
_END = re.compile(r"^={3,}|^-{3,} (?:Captured|generated)")
_LOCATION = re.compile(
    r"^(?P<path>[^\s:][^:]*?\.py):(?P<line>\d+):(?: in (?P<func>\S+)|(?: (?P<rest>\S.*?))?)\s*$"
)
_ERROR_LINE = re.compile(r"^E\s{1,3}(?P<text>.*)$")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(?P<name>\w+)\s*\(")
_MARKED = re.compile(r"^>\s?(?P<source>.*)$")
_SEPARATOR = re.compile(r"^(?:_ ){5,}_?\s*$")


def read(lines: list[str], unread: list[str]) -> list[Found]:
    found: list[Found] = []
    sections = _sections(lines)
    for start, end in sections:
        body = lines[start:end]
        if any(line.strip() == HEADER for line in body):
            continue  # --tb=native: CPython's own format
        result = _failure(body, start)
        if result is not None:
            found.append(result)
        elif any(_LOCATION.match(line) for line in body):
            unread.append(f"line {start + 1}: a pytest failure without an `E   ` exception line")
    return found


def _sections(lines: list[str]) -> list[tuple[int, int]]:
    starts = [i for i, line in enumerate(lines) if _SECTION.match(line)]
    spans = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        for i in range(start + 1, end):
            if _END.match(lines[i]):
                end = i
                break
        spans.append((start + 1, end))
    return spans


def _failure(body: list[str], offset: int) -> Found | None:
    frames: list[Frame] = []
    errors: list[str] = []
    chunk: list[str] = []
    for i, line in enumerate(body):
        location = _LOCATION.match(line)
        if error := _ERROR_LINE.match(line):
            errors.append(error["text"])
        elif location and location["func"]:  # short: the source follows
            context = next(
                (text.strip() for text in body[i + 1 : i + 3] if text.startswith("    ")),
                None,
            )
            path, number = location["path"], int(location["line"])
            frames.append(frame_of(path, number, location["func"], context))
            chunk = []
        elif location:  # long: the source came before
            frames.append(_long_frame(location, chunk))
            chunk = []
        elif _SEPARATOR.match(line):
            chunk = []
        else:
            chunk.append(line)
    if not errors:
        return None
    return Found([_exception_of(errors, frames)], "pytest", offset + 1)


def _long_frame(location: re.Match[str], chunk: list[str]) -> Frame:
    marked = [i for i, line in enumerate(chunk) if _MARKED.match(line)]
    context = None
    function = None
    if marked:
        source = _MARKED.match(chunk[marked[-1]])
        context = source["source"].strip() or None if source else None
        above = reversed(chunk[: marked[-1] + 1])
        function = next((m["name"] for line in above if (m := _DEF.match(line[1:]))), None)
    return frame_of(location["path"], int(location["line"]), function, context)


def _exception_of(errors: list[str], frames: list[Frame]) -> ExceptionInfo:
    first = errors[0].strip()
    match = EXCEPTION.match(first)
    if match is None or first.startswith("assert "):
        return ExceptionInfo(type="AssertionError", value="\n".join(errors).strip(), frames=frames)
    message = [match["value"] or "", *errors[1:]]
    module, _, name = match["type"].rpartition(".")
    return ExceptionInfo(
        type=name, value="\n".join(message).strip(), module=module or None, frames=frames
    )


def line_style(lines: list[str]) -> list[Found]:
    found = []
    for i, line in enumerate(lines):
        location = _LOCATION.match(line)
        if location is None or not location["rest"]:
            continue
        match = EXCEPTION.match(location["rest"])
        if match is None:
            continue
        frame = frame_of(location["path"], int(location["line"]), None, None)
        module, _, name = match["type"].rpartition(".")
        exception = ExceptionInfo(
            type=name, value=match["value"] or "", module=module or None, frames=[frame]
        )
        found.append(Found([exception], "pytest", i + 1))
    return found

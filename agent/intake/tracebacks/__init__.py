"""Python tracebacks in any text (a log, a markdown bug report, a notebook's output, a CI log)
read into exception chains.

A chain has Sentry's order and shape: causes first, the exception finally raised last; within
each exception the outermost frame first. Shapes read (one module each):

* `cpython`: the interpreter's own format, chained causes, the REPL (`<stdin>`), doctest,
  unittest, logging, `pytest --tb=native`, exception groups (PEP 654);
* `ipython`: IPython and Jupyter, the classic form (`path.py in func(args)`, `---->`) and the
  form of IPython 8 and later (`File path.py:841, in func`, `Cell In[3], line 5`);
* `pytest_output`: pytest's `--tb=long`, `short` and `line` reports.

Colours, terminal titles, markdown fences and the box of exception groups are taken away first
(`text`). Frames elided (`...`, `[Previous line repeated N more times]`) are skipped, what is
there is kept. What could not be read is said in `Reading.unread`, never dropped silently. Pure:
text in, records out; `IntakeError` only for text with not even an exception line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.domain import ExceptionInfo
from agent.errors import IntakeError
from agent.intake.tracebacks import cpython, ipython, pytest_output
from agent.intake.tracebacks.cpython import CHAIN_MARKERS, HEADER
from agent.intake.tracebacks.found import Found
from agent.intake.tracebacks.paths import module_of
from agent.intake.tracebacks.text import plain_lines

__all__ = [
    "CHAIN_MARKERS",
    "HEADER",
    "Found",
    "Reading",
    "incident_chain",
    "module_of",
    "parse_traceback",
    "read_tracebacks",
]

_BARE_EXCEPTION = re.compile(
    r"^\s*(?:E\s+)?(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning))"
    r"(?::\s*(?P<value>.*))?$"
)


@dataclass
class Reading:
    tracebacks: list[Found] = field(default_factory=list)
    """Every traceback in the text, in the order printed."""
    unread: list[str] = field(default_factory=list)
    """What was in the text but could not be read, in plain words."""

    @property
    def chosen(self) -> Found | None:
        """The traceback an incident is made of: the last one printed (the one that ended the
        process), or the group it belongs to."""
        return self.tracebacks[-1] if self.tracebacks else None


def read_tracebacks(text: str) -> Reading:
    """Every traceback in `text`, and what could not be read."""
    lines = plain_lines(text)
    reading = Reading()
    found = cpython.read(lines, reading.unread)
    found += ipython.read(lines, reading.unread)
    found += pytest_output.read(lines, reading.unread)
    if not found:
        found = pytest_output.line_style(lines)
    if not found:
        found = _bare_exception(lines, reading.unread)
    reading.tracebacks = sorted(found, key=lambda item: item.line)
    return reading


def parse_traceback(text: str) -> list[ExceptionInfo]:
    """The exception chain an incident is made of (see `incident_chain`); `IntakeError` when
    the text holds not even an exception line."""
    return incident_chain(read_tracebacks(text))


def incident_chain(reading: Reading) -> list[ExceptionInfo]:
    """The chosen traceback as one list: its chain, then for an exception group each
    sub-exception's chain with its last exception marked `leaf` (each a candidate crash)."""
    chosen = reading.chosen
    if chosen is None:
        reason = (
            reading.unread[0]
            if reading.unread
            else (
                f"no Python traceback in the text (no line '{HEADER}', no IPython or pytest "
                "traceback, no exception line)"
            )
        )
        raise IntakeError(reason)
    chain = list(chosen.chain)
    for leaf in _leaves(chosen):
        *causes, last = leaf.chain
        chain += [*causes, last.model_copy(update={"leaf": True})]
    return chain


def _leaves(found: Found) -> list[Found]:
    leaves = []
    for leaf in found.leaves:
        if leaf.leaves:
            leaves += _leaves(leaf)
        else:
            leaves.append(leaf)
    return leaves


def _bare_exception(lines: list[str], unread: list[str]) -> list[Found]:
    """The last exception line of a text that holds no traceback: an incident without frames."""
    for number in range(len(lines) - 1, -1, -1):
        match = _BARE_EXCEPTION.match(lines[number])
        if match:
            module, _, name = match["type"].rpartition(".")
            exception = ExceptionInfo(
                type=name, value=(match["value"] or "").strip(), module=module or None
            )
            unread.append(f"line {number + 1}: an exception line without a traceback")
            return [Found([exception], "exception line", number + 1)]
    return []

"""Text as tools print it, made plain for the readers: colours, terminal titles, line ends,
markdown fences and the box drawing of exception groups."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_FENCE = re.compile(r"^\s*(```|~~~)[\w+-]*\s*$")
_GROUP_HEADER = re.compile(
    r"^(?P<indent>\s*)\+ Exception Group Traceback \(most recent call last\):"
)
_BOX = re.compile(r"^\s*(?:\| ?|\+-[-+\s\d.]*|\+-*\s*\.\.\.\s*-*)")
_SEPARATOR = re.compile(r"^\s*\+-[-+]*(?:\s*(?:\d+|\.\.\.)\s*-+)?\s*$")


def plain_lines(text: str) -> list[str]:
    """The text's lines without colour codes, terminal titles, markdown fences and the box of
    exception groups (`  | `, `+-+---- 1 ----`): what each reader scans."""
    text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line for line in text.split("\n") if not _FENCE.match(line)]
    return _unbox_groups(lines)


def _unbox_groups(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_group = False
    for line in lines:
        header = _GROUP_HEADER.match(line)
        if header:
            in_group = True
            out.append(line[header.end("indent") + 2 :])
        elif in_group and _SEPARATOR.match(line):
            out.append("")
        elif in_group and _BOX.match(line):
            out.append(re.sub(r"^\s*\| ?", "", line))
        else:
            in_group = False
            out.append(line)
    return out

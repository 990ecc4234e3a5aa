"""Data flow into a frame's line, as far as names allow: the functions whose results feed it.

A function feeds a frame's line when it is called on that line, or on an earlier line of the
frame's symbol that assigns a variable the line uses (`rate = rate_for(...)` feeds
`percent(net, rate)`). One level further down, the functions a feeder calls feed it in turn.
In Python files a call is resolved through the caller's scopes and imports
(`agent.diagnosis.calls`): `rows.append(x)` follows no `append` defined elsewhere. In other
languages calls are matched to definitions by name through the code index, and a name with
many definitions is too ambiguous to follow. Pure: it reads the repository and the index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.diagnosis import calls
from agent.diagnosis.frames import RepoFiles
from agent.diagnosis.history import names_on
from agent.domain import Reference, Symbol
from agent.ports import CodeIndex, Repo

MAX_DEFINITIONS = 3
"""A called name with more definitions than this is too ambiguous to follow."""

_ASSIGNMENT = re.compile(
    r"^\s*([A-Za-z_][\w\s,()\[\]]*?)\s*(?::[^=]+)?(?:[-+*/%|&^@]|//|\*\*)?=(?!=)"
)


@dataclass(frozen=True)
class Line:
    """A frame's line: where it is and the symbol around it."""

    path: str
    line: int
    symbol: Symbol


@dataclass(frozen=True)
class Feeder:
    symbol: Symbol
    fed: Symbol
    """The symbol it feeds: the frame's own, or the level-1 feeder that calls it."""
    line: Line
    """The frame's line the flow ends in."""
    level: int
    """1: called on the line or on a line assigning into it; 2: called by a level-1 feeder."""
    detail: str
    """Where it is called, for the evidence."""


def feeders(
    lines: list[Line], repo: Repo, index: CodeIndex, rev: str, is_test: Callable[[str], bool]
) -> list[Feeder]:
    """The functions feeding `lines`, level 1 before level 2, each named once (first wins)."""
    seen = {(line.symbol.path, line.symbol.qualname) for line in lines}
    found: list[Feeder] = []
    resolver = _Resolver(repo, index, rev, is_test)
    for line in lines:
        text = resolver.lines(line.path)
        feeding = feeding_lines(text, line.symbol, line.line)
        for call in index.references(rev, line.path):
            if call.line not in feeding:
                continue
            how = (
                "on"
                if call.line == line.line
                else f"on line {call.line}, assigning a value used by"
            )
            detail = f"is called {how} {line.path}:{line.line} in {line.symbol.qualname}"
            for symbol in resolver.definitions(call):
                if _first(seen, symbol):
                    found.append(Feeder(symbol, line.symbol, line, 1, detail))
    for feeder in [f for f in found if f.level == 1]:
        caller = feeder.symbol
        for call in index.callees(rev, caller.path, caller.qualname):
            detail = f"is called on {call.path}:{call.line} by {caller.qualname}"
            for symbol in resolver.definitions(call):
                if _first(seen, symbol):
                    found.append(Feeder(symbol, caller, feeder.line, 2, detail))
    return found


def feeding_lines(text: list[str], symbol: Symbol, line: int) -> set[int]:
    """The line itself and the earlier lines of `symbol` that assign a name the line uses."""
    used = names_on(text[line - 1]) if 1 <= line <= len(text) else set()
    feeding = {line}
    for number in range(symbol.start_line, min(line, len(text) + 1)):
        match = _ASSIGNMENT.match(text[number - 1])
        if match and names_on(match.group(1)) & used:
            feeding.add(number)
    return feeding


def _first(seen: set[tuple[str, str]], symbol: Symbol) -> bool:
    key = (symbol.path, symbol.qualname)
    if key in seen:
        return False
    seen.add(key)
    return True


class _Resolver:
    """The definitions a call may run, with what it reads cached for one `feeders` call."""

    def __init__(
        self, repo: Repo, index: CodeIndex, rev: str, is_test: Callable[[str], bool]
    ) -> None:
        self.repo, self.index, self.rev, self.is_test = repo, index, rev, is_test
        self._lines: dict[str, list[str]] = {}
        self._imports: dict[str, calls.Imports] = {}
        self._symbols: dict[str, list[Symbol]] = {}
        self._files: RepoFiles | None = None

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = (self.repo.read(self.rev, path) or "").splitlines()
        return self._lines[path]

    def symbols(self, path: str) -> list[Symbol]:
        if path not in self._symbols:
            self._symbols[path] = self.index.symbols(self.rev, path)
        return self._symbols[path]

    def module_file(self, module: str) -> str | None:
        if self._files is None:
            self._files = RepoFiles(self.repo.tracked_files(self.rev))
        return self._files.module_file(module)

    def definitions(self, call: Reference) -> list[Symbol]:
        if not call.path.endswith(".py"):
            return _definitions(self.index, self.rev, call.name, call.path, self.is_test)
        if call.path not in self._imports:
            source = "\n".join(self.lines(call.path))
            self._imports[call.path] = calls.imports_of(source, call.path)
        imports = self._imports[call.path]
        text = self.lines(call.path)
        if not 1 <= call.line <= len(text):
            return []
        found = calls.resolve(call, text, imports, self.symbols, self.module_file)
        return [s for s in found if s.kind != "class" and not self.is_test(s.path)]


def _definitions(
    index: CodeIndex, rev: str, name: str, caller_path: str, is_test: Callable[[str], bool]
) -> list[Symbol]:
    """The functions a call of `name` may run: those of the caller's file first."""
    definitions = [
        d for d in index.definitions(rev, name) if d.kind != "class" and not is_test(d.path)
    ]
    local = [d for d in definitions if d.path == caller_path]
    chosen = local or definitions
    return chosen if len(chosen) <= MAX_DEFINITIONS else []


__all__ = ["Feeder", "Line", "feeders", "feeding_lines"]

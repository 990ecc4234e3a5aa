"""Repair cases without git: one module in memory, an `ast` index, and an incident crashing on a
chosen line with chosen captured values, ready for an engine's `candidates`."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from agent.domain import Diagnosis, ExceptionInfo, Frame, Incident, Suspect, Symbol
from agent.repair import RepairContext

REV = "abc123"


class MemoryRepo:
    """The part of `agent.ports.Repo` the engine uses."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, rev: str, path: str) -> str | None:
        assert rev == REV
        return self.files.get(path)

    def tracked_files(self, rev: str) -> list[str]:
        assert rev == REV
        return sorted(self.files)

    def find_line(self, rev: str, text: str) -> list[tuple[str, int]]:
        assert rev == REV
        return [
            (path, number)
            for path, source in sorted(self.files.items())
            for number, line in enumerate(source.splitlines(), start=1)
            if line.strip() == text.strip()
        ]


class AstIndex:
    """The part of `agent.ports.CodeIndex` a diagnosis needs, built from `ast`."""

    def __init__(self, repo: MemoryRepo) -> None:
        self.repo = repo

    def symbols(self, rev: str, path: str) -> list[Symbol]:
        text = self.repo.read(rev, path) or ""
        found = []
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append(
                    Symbol(
                        name=node.name,
                        qualname=node.name,
                        kind="function",
                        path=path,
                        start_line=node.lineno,
                        end_line=node.end_lineno or node.lineno,
                        params=[a.arg for a in node.args.args],
                    )
                )
        return found

    def enclosing(self, rev: str, path: str, line: int) -> Symbol | None:
        around = [s for s in self.symbols(rev, path) if s.start_line <= line <= s.end_line]
        return max(around, key=lambda s: s.start_line, default=None)


@dataclass
class Case:
    path: str
    source: str
    ctx: RepairContext
    symbol: Symbol


def make_case(
    source: str,
    crash_text: str,
    error_type: str,
    message: str,
    variables: dict[str, Any],
    *,
    path: str = "app/module.py",
    tried: frozenset[str] = frozenset(),
    limit: int = 6,
) -> Case:
    """An incident crashing on the (first) line that contains `crash_text`."""
    line = next(n for n, text in enumerate(source.splitlines(), 1) if crash_text in text)
    repo = MemoryRepo({path: source})
    index = AstIndex(repo)
    symbol = index.enclosing(REV, path, line)
    assert symbol is not None
    frame = Frame(
        filename=path,
        abs_path=f"/srv/app/{path}",
        function=symbol.name,
        lineno=line,
        context_line=source.splitlines()[line - 1],
        vars=variables,
        in_app=True,
    )
    incident = Incident(
        id="inc-1",
        source="sentry_event",
        fingerprint="fp-1",
        title=f"{error_type}: {message}",
        exceptions=[ExceptionInfo(type=error_type, value=message, frames=[frame])],
    )
    suspect = Suspect(
        file=path,
        symbol=symbol.qualname,
        start_line=symbol.start_line,
        end_line=symbol.end_line,
        lines=[line],
        score=0.9,
    )
    ctx = RepairContext(
        incident=incident,
        diagnosis=Diagnosis(suspects=[suspect]),
        repo=repo,
        code_index=index,
        rev=REV,
        tried=tried,
        limit=limit,
    )
    return Case(path, source, ctx, symbol)

"""The code index: definitions, calls, enclosing symbols, callers and callees, per file and commit.

Implements `agent.ports.CodeIndex` with tree-sitter: one grammar wheel and one `.scm` query file
per language (`languages.py`), facts extracted by `extract.py`. Facts are cached by git blob id,
in memory and in SQLite (`store.py`), so an unchanged file at a new commit parses nothing.
`index(rev)` indexes a whole tree at once, parsing what is not cached in worker processes.
A plain directory is read through `DirectoryTree`, keyed by the git blob id of each file's
content. Callers and callees are matched by name: a call `x.get()` is a caller of every `get`.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent.domain import Reference, Symbol
from tools.code_index.directory import DirectoryTree
from tools.code_index.extract import Facts, extract, extract_task, run_captures
from tools.code_index.languages import LANGUAGES, facts_version, language_for
from tools.code_index.store import FactStore

PARALLEL_FROM = 32
"""Fewer files than this to parse are parsed in this process: workers cost more than they save."""
_CHUNK = 8
Row = tuple[str, int, int, str, int]
"""What parsing one file yields: key, lines, symbols, facts as JSON, the parser's peak KiB."""


class BlobRepo(Protocol):
    """What the index reads: a tree of files at a revision, with blob ids."""

    def tracked_files(self, rev: str) -> list[str]: ...

    def blob_id(self, rev: str, path: str) -> str | None: ...

    def blob_ids(self, rev: str, paths: Iterable[str]) -> dict[str, str]: ...

    def read_files(self, rev: str, paths: Iterable[str]) -> Iterator[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class IndexStats:
    files: int
    """Source files in a language the index reads."""
    lines: int
    symbols: int
    parsed: int
    """Files parsed by this run; the others came from the cache."""
    seconds: float
    workers: int
    """Processes that parsed (1: this process only, 0: nothing to parse)."""
    worker_peak_mb: float
    """Peak resident memory of the largest worker process; 0 when nothing was parsed in one."""


class TreeSitterIndex:
    """The code index of one repository (or plain directory), for any revision of it."""

    def __init__(
        self,
        repo: BlobRepo,
        cache_path: Path | None = None,
        workers: int = 0,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        """`workers`: processes for parsing many files at once (0: one per core); they start
        only when at least `parallel_from` files are to be parsed."""
        self._repo = repo
        self._store = FactStore(cache_path) if cache_path is not None else None
        self._memory: dict[str, Facts] = {}
        self._workers = workers or os.cpu_count() or 1
        self._parallel_from = parallel_from
        self.parse_count = 0
        """How many files this index has parsed (the cache's effect is visible here)."""

    # -- whole trees ----------------------------------------------------------------------------

    def index(self, rev: str) -> IndexStats:
        """Make sure every source file at `rev` is in the cache; parse the missing ones."""
        started = time.perf_counter()
        keys = self._keys(rev)
        known = self._counts(keys.values())
        missing = {key: path for path, key in keys.items() if key not in known}
        workers = self._workers if len(missing) >= self._parallel_from else 1
        worker_peak = parsed = 0
        for key, lines, symbols, data, peak in self._parse_many(rev, missing, workers):
            parsed += 1
            known[key] = (lines, symbols)
            worker_peak = max(worker_peak, peak)
            if self._store is None:
                self._memory[key] = Facts.from_json(data)
        indexed = [known[key] for key in keys.values() if key in known]  # unreadable: absent
        return IndexStats(
            files=len(indexed),
            lines=sum(lines for lines, _ in indexed),
            symbols=sum(symbols for _, symbols in indexed),
            parsed=parsed,
            seconds=time.perf_counter() - started,
            workers=workers if missing else 0,
            worker_peak_mb=round(worker_peak / 1024, 1) if workers > 1 else 0.0,
        )

    def definitions(self, rev: str, name: str) -> list[Symbol]:
        """Every definition called `name` at `rev`, by path and line."""
        return [
            _symbol(row, path)
            for path, facts in self._tree_facts(rev).items()
            for row in facts.defs
            if row[0] == name
        ]

    def callers(self, rev: str, path: str, qualname: str) -> list[Reference]:
        """Calls at `rev` of the name of the definition `qualname` in `path`.

        Matched by name only (a constructor is called by its class's name).
        """
        target = next((s for s in self.symbols(rev, path) if s.qualname == qualname), None)
        if target is None:
            return []
        name = target.name
        if target.kind == "method" and name in ("__init__", "constructor", "__new__"):
            name = target.qualname.rsplit(".", 2)[-2]
        return [
            reference
            for file, facts in self._tree_facts(rev).items()
            for reference in _references(facts, file)
            if reference.name == name
        ]

    def callees(self, rev: str, path: str, qualname: str) -> list[Reference]:
        """The calls made directly in the body of `qualname` (not in functions nested in it)."""
        return [r for r in self.references(rev, path) if r.scope == qualname]

    # -- one file -------------------------------------------------------------------------------

    def symbols(self, rev: str, path: str) -> list[Symbol]:
        """Definitions in `path` at `rev`, in source order (outer before inner)."""
        facts = self._file_facts(rev, path)
        return [_symbol(row, path) for row in facts.defs] if facts else []

    def references(self, rev: str, path: str) -> list[Reference]:
        """The calls in `path` at `rev`, in source order."""
        facts = self._file_facts(rev, path)
        return _references(facts, path) if facts else []

    def enclosing(self, rev: str, path: str, line: int) -> Symbol | None:
        """The innermost function or method containing `line`, else the innermost class."""
        containing = [s for s in self.symbols(rev, path) if s.start_line <= line <= s.end_line]
        functions = [s for s in containing if s.kind != "class"]
        pool = functions or containing
        return max(pool, key=lambda s: (s.start_line, -s.end_line)) if pool else None

    # -- the cache ------------------------------------------------------------------------------

    def _keys(self, rev: str) -> dict[str, str]:
        """path -> cache key of every source file at `rev`."""
        sources = [path for path in self._repo.tracked_files(rev) if language_for(path)]
        return {path: _key(blob, path) for path, blob in self._repo.blob_ids(rev, sources).items()}

    def _counts(self, keys: Iterable[str]) -> dict[str, tuple[int, int]]:
        wanted = set(keys)
        found = {
            key: (facts.lines, len(facts.defs))
            for key, facts in self._memory.items()
            if key in wanted
        }
        if self._store is not None:
            found.update(self._store.counts(wanted - found.keys()))
        return found

    def _file_facts(self, rev: str, path: str) -> Facts | None:
        if language_for(path) is None:
            return None
        blob = self._repo.blob_id(rev, path)
        if blob is None:
            return None
        key = _key(blob, path)
        facts = self._memory.get(key)
        if facts is None and self._store is not None:
            stored = self._store.load([key]).get(key)
            facts = Facts.from_json(stored) if stored is not None else None
        if facts is None:
            rows = list(self._parse_many(rev, {key: path}, workers=1))
            if not rows:
                return None
            facts = Facts.from_json(rows[0][3])
        self._memory[key] = facts
        return facts

    def _tree_facts(self, rev: str) -> dict[str, Facts]:
        """Facts of every source file at `rev`: from memory, else the store, else parsed."""
        keys = self._keys(rev)
        absent = [key for key in keys.values() if key not in self._memory]
        if absent and self._store is not None:
            for key, data in self._store.load(absent).items():
                self._memory[key] = Facts.from_json(data)
        missing = {key: path for path, key in keys.items() if key not in self._memory}
        workers = self._workers if len(missing) >= self._parallel_from else 1
        for key, *_, data, _peak in self._parse_many(rev, missing, workers):
            self._memory[key] = Facts.from_json(data)
        return {path: self._memory[key] for path, key in keys.items() if key in self._memory}

    def _parse_many(self, rev: str, missing: dict[str, str], workers: int) -> Iterator[Row]:
        """Parse the files `missing` names (key -> path), store and yield their rows."""
        if not missing:
            return
        key_of = {path: key for key, path in missing.items()}
        tasks = (
            (key_of[path], _language(path), content)
            for path, content in self._repo.read_files(rev, missing.values())
        )
        if workers <= 1:
            rows: Iterator[Row] = map(extract_task, tasks)
            yield from self._stored(rows)
            return
        # Largest files first, so that no worker is left with a big file while the others idle.
        largest_first = sorted(tasks, key=lambda task: len(task[2]), reverse=True)
        with _pool(workers) as pool:
            yield from self._stored(
                pool.imap_unordered(extract_task, largest_first, chunksize=_CHUNK)
            )

    def _stored(self, rows: Iterator[Row]) -> Iterator[Row]:
        def counted() -> Iterator[Row]:
            for row in rows:
                self.parse_count += 1
                yield row

        if self._store is None:
            yield from counted()
            return
        batch: list[Row] = []
        for row in counted():
            batch.append(row)
            yield row
            if len(batch) >= 200:
                self._store.save(batch)
                batch.clear()
        self._store.save(batch)


def _pool(workers: int) -> multiprocessing.pool.Pool:
    """Worker processes; forked where the platform allows (no re-import, fast start)."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method).Pool(workers)


def _language(path: str) -> str:
    found = language_for(path)
    assert found is not None
    return found.name


def _key(blob: str, path: str) -> str:
    return f"{blob}:{_language(path)}:{facts_version()}"


def _symbol(row: list[object], path: str) -> Symbol:
    name, qualname, kind, start, end, params = row
    return Symbol.model_validate(
        {
            "name": name,
            "qualname": qualname,
            "kind": kind,
            "path": path,
            "start_line": start,
            "end_line": end,
            "params": params,
        }
    )


def _references(facts: Facts, path: str) -> list[Reference]:
    return [
        Reference(
            name=name, path=path, line=line, scope=facts.defs[scope][1] if scope >= 0 else None
        )
        for name, line, scope in facts.refs
    ]


__all__ = [
    "LANGUAGES",
    "BlobRepo",
    "DirectoryTree",
    "IndexStats",
    "TreeSitterIndex",
    "extract",
    "run_captures",
]

"""The code index: definitions in a file at a commit, found with tree-sitter queries.

Implements `agent.ports.CodeIndex`. Queries are data files next to this module (`python.scm`).
Parsed symbols are cached by git blob id, in memory and optionally in SQLite, so reading an
unchanged file at a new commit parses nothing. Only Python is indexed for now; other files have
no symbols.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Protocol

import tree_sitter
import tree_sitter_python

from agent.domain import Symbol

QUERY_DIR = Path(__file__).parent
PYTHON_SUFFIXES = (".py", ".pyi")
_EXTRACTOR_VERSION = "1"
"""Bump when the extraction code changes, so cached symbols are rebuilt."""

_DEFINITIONS = {"class_definition", "function_definition"}


class BlobRepo(Protocol):
    """What the index needs from a repository: blob ids and file text at a commit."""

    def blob_id(self, rev: str, path: str) -> str | None: ...

    def read(self, rev: str, path: str) -> str | None: ...


Captures = dict[str, list[tree_sitter.Node]]


def run_captures(query: tree_sitter.Query, node: tree_sitter.Node) -> Captures:
    """Captures by name; the one place that knows the tree-sitter query API.

    0.25+ runs queries through `QueryCursor`; 0.23-0.24 had `Query.captures` (a dict, or a list
    of (node, name) pairs in older releases).
    """
    cursor_type = getattr(tree_sitter, "QueryCursor", None)
    if cursor_type is not None:
        captures = cursor_type(query).captures(node)
    else:
        captures = query.captures(node)  # type: ignore[attr-defined]
    if isinstance(captures, dict):
        return captures
    grouped: dict[str, list[tree_sitter.Node]] = {}
    for captured, name in captures:
        grouped.setdefault(name, []).append(captured)
    return grouped


@cache
def _python() -> tuple[tree_sitter.Parser, tree_sitter.Query, str]:
    language = tree_sitter.Language(tree_sitter_python.language())
    text = (QUERY_DIR / "python.scm").read_text()
    version = hashlib.sha256(f"{_EXTRACTOR_VERSION}\n{text}".encode()).hexdigest()[:12]
    return tree_sitter.Parser(language), tree_sitter.Query(language, text), version


class TreeSitterIndex:
    """Symbols of a repository's files, parsed once per blob."""

    def __init__(self, repo: BlobRepo, cache_path: Path | None = None) -> None:
        self._repo = repo
        self._memory: dict[str, list[Symbol]] = {}
        self._cache_path = cache_path
        self.parse_count = 0
        """How many files this index has parsed (the cache's effect is visible here)."""
        if cache_path is not None:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(cache_path)) as db, db:
                db.execute("CREATE TABLE IF NOT EXISTS symbols (key TEXT PRIMARY KEY, data TEXT)")

    def symbols(self, rev: str, path: str) -> list[Symbol]:
        """Definitions in `path` at `rev`, in source order (outer before inner)."""
        if not path.endswith(PYTHON_SUFFIXES):
            return []
        blob = self._repo.blob_id(rev, path)
        if blob is None:
            return []
        key = f"{blob}:{_python()[2]}"
        found = self._memory.get(key)
        if found is None:
            found = self._load(key)
        if found is None:
            text = self._repo.read(rev, path)
            if text is None:
                return []
            found = self._parse(text)
            self._store(key, found)
        self._memory[key] = found
        return [symbol.model_copy(update={"path": path}) for symbol in found]

    def enclosing(self, rev: str, path: str, line: int) -> Symbol | None:
        """The innermost function or method containing `line`, else the innermost class."""
        containing = [s for s in self.symbols(rev, path) if s.start_line <= line <= s.end_line]
        functions = [s for s in containing if s.kind != "class"]
        pool = functions or containing
        return max(pool, key=lambda s: (s.start_line, -s.end_line)) if pool else None

    def _parse(self, text: str) -> list[Symbol]:
        self.parse_count += 1
        parser, query, _ = _python()
        tree = parser.parse(text.encode())
        captures = run_captures(query, tree.root_node)
        nodes = [
            node
            for name, found in captures.items()
            if name.startswith("definition.")
            for node in found
        ]
        nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return [_symbol(node) for node in nodes]

    def _load(self, key: str) -> list[Symbol] | None:
        if self._cache_path is None:
            return None
        with closing(sqlite3.connect(self._cache_path)) as db:
            row = db.execute("SELECT data FROM symbols WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return [Symbol.model_validate(item) for item in json.loads(row[0])]

    def _store(self, key: str, symbols: list[Symbol]) -> None:
        if self._cache_path is None:
            return
        data = json.dumps([s.model_dump(mode="json") for s in symbols])
        with closing(sqlite3.connect(self._cache_path)) as db, db:
            db.execute("INSERT OR REPLACE INTO symbols (key, data) VALUES (?, ?)", (key, data))


def _text(node: tree_sitter.Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else ""


def _symbol(node: tree_sitter.Node) -> Symbol:
    name = _text(node.child_by_field_name("name"))
    parents = _definition_ancestors(node)
    outer = [_text(parent.child_by_field_name("name")) for parent in parents]
    if node.type == "class_definition":
        kind = "class"
    elif parents and parents[0].type == "class_definition":
        kind = "method"
    else:
        kind = "function"
    span = node.parent if node.parent and node.parent.type == "decorated_definition" else node
    params = _params(node.child_by_field_name("parameters")) if kind != "class" else []
    if kind == "method" and params[:1] in (["self"], ["cls"]):
        params = params[1:]
    return Symbol(
        name=name,
        qualname=".".join([*reversed(outer), name]),
        kind=kind,
        path="",
        start_line=span.start_point[0] + 1,
        end_line=span.end_point[0] + 1,
        params=params,
    )


def _definition_ancestors(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """Enclosing classes and functions, innermost first."""
    found = []
    parent = node.parent
    while parent is not None:
        if parent.type in _DEFINITIONS:
            found.append(parent)
        parent = parent.parent
    return found


def _params(parameters: tree_sitter.Node | None) -> list[str]:
    names = []
    for child in parameters.named_children if parameters else []:
        if child.type in ("identifier", "list_splat_pattern", "dictionary_splat_pattern"):
            names.append(_text(child))
        elif child.type in ("default_parameter", "typed_default_parameter"):
            names.append(_text(child.child_by_field_name("name")))
        elif child.type == "typed_parameter" and child.named_children:
            names.append(_text(child.named_children[0]))
    return names


__all__ = ["BlobRepo", "TreeSitterIndex", "run_captures"]

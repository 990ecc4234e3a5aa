"""The languages the code index reads: grammar wheels, file suffixes and `.scm` query files.

Each grammar comes from its own PyPI wheel (tree-sitter-python, -javascript, -typescript, -go,
-java); nothing is downloaded at run time. Only tree-sitter is imported here, so worker
processes start light.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import tree_sitter
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_python
import tree_sitter_typescript

QUERY_DIR = Path(__file__).parent
EXTRACTOR_VERSION = "2"
"""Bump when the extraction code changes, so cached facts are rebuilt."""


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    suffixes: tuple[str, ...]
    grammar: Callable[[], Any]
    query_file: str
    wrappers: tuple[str, ...] = ()
    """Node types that wrap a definition and belong to its span (Python's decorators)."""


LANGUAGES = (
    LanguageSpec(
        "python",
        (".py", ".pyi"),
        tree_sitter_python.language,
        "python.scm",
        wrappers=("decorated_definition",),
    ),
    LanguageSpec(
        "javascript",
        (".js", ".mjs", ".cjs", ".jsx"),
        tree_sitter_javascript.language,
        "javascript.scm",
    ),
    LanguageSpec(
        "typescript",
        (".ts", ".mts", ".cts"),
        tree_sitter_typescript.language_typescript,
        "typescript.scm",
    ),
    LanguageSpec("tsx", (".tsx",), tree_sitter_typescript.language_tsx, "typescript.scm"),
    LanguageSpec("go", (".go",), tree_sitter_go.language, "go.scm"),
    LanguageSpec("java", (".java",), tree_sitter_java.language, "java.scm"),
)
_BY_NAME = {spec.name: spec for spec in LANGUAGES}
_BY_SUFFIX = {suffix: spec for spec in LANGUAGES for suffix in spec.suffixes}


def language_for(path: str) -> LanguageSpec | None:
    """The language of a file by its suffix, or None when the index does not read it."""
    dot = path.rfind(".")
    return _BY_SUFFIX.get(path[dot:]) if dot > path.rfind("/") else None


def spec(name: str) -> LanguageSpec:
    return _BY_NAME[name]


@cache
def compiled(name: str) -> tuple[tree_sitter.Parser, tree_sitter.Query]:
    """A parser and the compiled query for a language, once per process."""
    language_spec = _BY_NAME[name]
    language = tree_sitter.Language(language_spec.grammar())
    text = (QUERY_DIR / language_spec.query_file).read_text()
    return tree_sitter.Parser(language), tree_sitter.Query(language, text)


@cache
def facts_version() -> str:
    """Changes whenever a query file or the extractor changes; part of every cache key."""
    digest = hashlib.sha256(EXTRACTOR_VERSION.encode())
    for query_file in sorted({spec.query_file for spec in LANGUAGES}):
        digest.update(query_file.encode() + b"\0" + (QUERY_DIR / query_file).read_bytes())
    return digest.hexdigest()[:12]

"""Resolve test ids as people and CI write them to the node ids pytest collects.

A reported id is matched against the node ids collected at the base commit, never turned into a
file path by guesswork alone. The shapes read:

* a pytest node id: `tests/test_mod.py::TestCase::test_m[1]`
* a parametrized family: `tests/test_mod.py::test_x` or `test_x` (all of `test_x[...]`)
* a class and method: `TestCase::test_m`, `tests/test_mod.py::TestCase` (all its tests)
* a file or a directory alone: `tests/test_mod.py`, `tests/unit` (all their tests)
* a unittest dotted id: `pkg.tests.test_mod.TestCase.test_m`, `test_mod.TestCase.test_m`, or a
  dotted module or class (all its tests)
* what unittest prints on a failure: `test_m (pkg.tests.test_mod.TestCase)` (before Python 3.11)
  and `test_m (pkg.tests.test_mod.TestCase.test_m)` (since), with or without `FAIL: `
* a line of pytest's short summary: `FAILED tests/test_mod.py::test_x[1] - assert 1 == 2`
* a JUnit XML `classname` and `name` joined by a dot, as pytest, unittest-xml-reporting and nose
  write them: `tests.test_mod.TestClass` + `test_x[1]` gives `tests.test_mod.TestClass.test_x[1]`

A path may be relative to another root than the collection's (a CI job run in a subdirectory):
it also matches as a suffix of the collected path, and a dotted id as a run of the collected
module's parts. Where one id matches at several levels, only the closest are kept: a test over
a module or class of that name, a path or module from the root over one further down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_UNITTEST_LINE = re.compile(
    r"^(?:(?:FAIL|ERROR|UNEXPECTED SUCCESS):\s+)?"
    r"(?P<method>[A-Za-z_]\w*) \((?P<where>[A-Za-z_][\w.]*)\)(?: \(.*\))?$"
)
_PYTEST_SUMMARY = re.compile(r"^(?:FAILED|ERROR) (?P<nodeid>.+?)(?: - .*)?$")
_TRAILING_SUBTEST = re.compile(r" \([^()]*\)$")


@dataclass(frozen=True)
class _Node:
    """A collected node id, split: path parts, the names after it, and the parameter part."""

    nodeid: str
    path: tuple[str, ...]
    names: tuple[str, ...]
    param: str | None

    @property
    def dotted(self) -> tuple[str, ...]:
        """Module parts (the path without `.py`) followed by the names, as unittest spells it."""
        *dirs, last = self.path
        return (*dirs, last.removesuffix(".py"), *self.names)


@dataclass(frozen=True)
class _Query:
    """A reported id, split. `path` is None for a dotted or name-only id (`parts` then)."""

    path: tuple[str, ...] | None
    parts: tuple[str, ...]
    param: str | None


@dataclass
class Resolution:
    """Per reported id, the collected node ids it names (in collection order); ids naming none."""

    matches: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def node_ids(self) -> list[str]:
        """Every matched node id once, in the order of the reported ids."""
        return list(dict.fromkeys(n for nodes in self.matches.values() for n in nodes))


def resolve(reported: Sequence[str], collected: Iterable[str]) -> Resolution:
    """Match each reported id against the collected node ids."""
    nodes = [_split_nodeid(nodeid) for nodeid in dict.fromkeys(collected)]
    resolution = Resolution()
    for text in reported:
        found = _match(text, nodes)
        if found:
            resolution.matches[text] = found
        else:
            resolution.unknown.append(text)
    return resolution


def named_failing(text: str) -> list[str]:
    """The tests a text (a CI log, a bug report) says failed, in order, each once: the lines of
    pytest's short summary that name a test (`FAILED tests/t.py::test_x - ...`, `ERROR ...`)
    and unittest's failure headers (`FAIL: test_m (pkg.mod.Case.test_m)`). A collection error
    names no test and is not read."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        pytest_line = _PYTEST_SUMMARY.match(line)
        if pytest_line and "::" in pytest_line["nodeid"] and " " not in pytest_line["nodeid"]:
            found.append(pytest_line["nodeid"])
        elif line.startswith(("FAIL: ", "ERROR: ")) and _UNITTEST_LINE.match(line):
            found.append(line.split(": ", 1)[1])
    return list(dict.fromkeys(found))


def reported_path(text: str) -> str | None:
    """The file or directory a reported id names, when it names one (`a/b.py::t` gives `a/b.py`)."""
    query = _parse(text)
    return "/".join(query.path) if query.path else None


def _match(text: str, nodes: Sequence[_Node]) -> list[str]:
    """The node ids `text` names, keeping only the closest level of match."""
    query = _parse(text)
    scored = [(score, node.nodeid) for node in nodes if (score := _score(query, node)) is not None]
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [nodeid for score, nodeid in scored if score == best]


def _score(query: _Query, node: _Node) -> tuple[bool, bool] | None:
    """(names a test rather than a container, anchored at the root), or None for no match."""
    if query.path is not None:
        return _score_path(query, query.path, node)
    return _score_dotted(query, node.dotted, len(node.dotted) - len(node.names), node)


def _score_path(query: _Query, path: tuple[str, ...], node: _Node) -> tuple[bool, bool] | None:
    if node.path == path:
        anchored = True
    elif len(path) < len(node.path) and node.path[-len(path) :] == path:
        anchored = False
    elif len(path) < len(node.path) and node.path[: len(path)] == path and not query.parts:
        return (False, True)  # a directory: every test under it
    else:
        return None
    names = query.parts
    if node.names[: len(names)] != names:
        return None
    if query.param is not None and (node.names != names or node.param != query.param):
        return None
    return (len(names) == len(node.names) and bool(names), anchored)


def _score_dotted(
    query: _Query, full: tuple[str, ...], module_end: int, node: _Node
) -> tuple[bool, bool] | None:
    """`query.parts` as a run of `full` that reaches the module's own part, or ends `full`."""
    parts = query.parts
    best: tuple[bool, bool] | None = None
    for start in range(len(full) - len(parts) + 1):
        end = start + len(parts)
        if full[start:end] != parts:
            continue
        whole = end == len(full)
        if end < module_end or (start >= module_end and not whole):
            continue
        if query.param is not None and (not whole or node.param != query.param):
            continue
        score = (whole and bool(node.names), start == 0)
        best = score if best is None else max(best, score)
    return best


def _parse(text: str) -> _Query:
    text = _normalise(text)
    body, param = _split_param(text)
    if "::" in body:
        first, *names = body.split("::")
        if _looks_like_path(first):
            return _Query(_path_parts(first), tuple(names), param)
        return _Query(None, (first, *names), param)
    if _looks_like_path(body):
        return _Query(_path_parts(body), (), param)
    return _Query(None, tuple(part for part in body.split(".") if part), param)


def _normalise(text: str) -> str:
    text = text.strip().replace("\\", "/")
    unittest = _UNITTEST_LINE.match(text)
    if unittest:
        method, where = unittest.group("method"), unittest.group("where")
        return where if where.endswith("." + method) else f"{where}.{method}"
    summary = _PYTEST_SUMMARY.match(text)
    if summary:
        text = summary.group("nodeid")
    while text.startswith("./"):
        text = text[2:]
    if "[" not in text:
        text = _TRAILING_SUBTEST.sub("", text)  # `test_m (i=1)`: a subtest of test_m
    return text


def _split_nodeid(nodeid: str) -> _Node:
    body, param = _split_param(nodeid)
    first, *names = body.split("::")
    return _Node(nodeid, _path_parts(first), tuple(names), param)


def _split_param(text: str) -> tuple[str, str | None]:
    """`test_x[a.b]` into `test_x` and `[a.b]`; a parameter may hold any character."""
    start = text.find("[")
    if start <= 0 or not text.endswith("]"):
        return text, None
    return text[:start], text[start:]


def _looks_like_path(text: str) -> bool:
    return "/" in text or text.endswith(".py")


def _path_parts(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("/") if part and part != ".")

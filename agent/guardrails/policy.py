"""Guardrails: what a candidate patch may change, checked before it is tested or pushed.

A candidate is refused when it touches a path outside the repository or inside `.git/`, a path
no allowed glob matches or a forbidden glob matches (CI config, secrets, lock files, migrations
by default), when its diff is too large or touches too many files, when it deletes or empties a
file, when it adds a dependency (`agent.guardrails.dependencies`), or when it weakens a test
file: removes a test, removes or changes an assertion, or adds a skip or an xfail.
Globs are fnmatch-style over `/`-separated paths: `*` and `?` stay within one directory,
`**` crosses directories (`**/x` also matches `x` at the root, `a/**` matches `a` and all below).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from agent.domain import FileChange, Patch
from agent.guardrails.dependencies import new_dependencies
from agent.repair.diffs import unified_diff
from agent.settings import DEFAULT_FORBIDDEN_PATHS, Settings

DEFAULT_TEST_GLOBS = ["tests/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"]

_SKIP_WORDS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "importorskip",
        "skipIf",
        "skipUnless",
        "skipTest",
        "expectedFailure",
    }
)
_SKIP_ROOTS = frozenset({"pytest", "unittest", "self", "mark"})


@dataclass(frozen=True)
class Policy:
    allowed_paths: list[str] = field(default_factory=lambda: ["**"])
    forbidden_paths: list[str] = field(default_factory=lambda: list(DEFAULT_FORBIDDEN_PATHS))
    max_diff_lines: int = 40
    max_changed_files: int = 3
    test_globs: list[str] = field(default_factory=lambda: list(DEFAULT_TEST_GLOBS))

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            allowed_paths=list(settings.allowed_paths),
            forbidden_paths=list(settings.forbidden_paths),
            max_diff_lines=settings.max_diff_lines,
            max_changed_files=settings.max_changed_files,
        )


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: list[str] = field(default_factory=list)


def check(patch: Patch, policy: Policy) -> Verdict:
    """Every reason the patch breaks a guardrail; allowed when there is none."""
    reasons: list[str] = []
    for change in patch.files:
        reasons += _path_reasons(change.path, policy)
        reasons += _content_reasons(change, policy)
        added = new_dependencies(change)
        if added:
            reasons.append(f"The change to {change.path} adds the dependency {', '.join(added)}.")
    if len(patch.files) > policy.max_changed_files:
        reasons.append(
            f"The change touches {len(patch.files)} files, more than the limit of "
            f"{policy.max_changed_files}."
        )
    size = sum(_changed_lines(change) for change in patch.files)
    if size > policy.max_diff_lines:
        paths = ", ".join(change.path for change in patch.files)
        reasons.append(
            f"The change to {paths} adds and removes {size} lines, "
            f"more than the limit of {policy.max_diff_lines}."
        )
    return Verdict(allowed=not reasons, reasons=reasons)


def glob_match(path: str, pattern: str) -> bool:
    """Whether a `/`-separated relative path matches an fnmatch-style glob with `**`."""
    return _glob_regex(pattern).fullmatch(path) is not None


def matches_any(path: str, patterns: list[str]) -> bool:
    return any(glob_match(path, pattern) for pattern in patterns)


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def _path_reasons(path: str, policy: Policy) -> list[str]:
    if not path or "\x00" in path:
        return [f"The path {path!r} is empty or contains a NUL character."]
    if "\\" in path:
        return [f"The path {path} uses backslashes; paths must be relative and use '/'."]
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return [f"The path {path} is absolute; paths must be relative to the repository."]
    parts = path.split("/")
    if ".." in parts:
        return [f"The path {path} contains '..'; paths must stay plainly inside the repository."]
    if posixpath.normpath(path) != path:
        return [f"The path {path} is not normalised (it should read {posixpath.normpath(path)})."]
    if ".git" in parts:
        return [f"The path {path} is inside a .git directory."]
    reasons = []
    if not matches_any(path, policy.allowed_paths):
        reasons.append(f"The path {path} matches none of the allowed paths.")
    forbidden = [p for p in policy.forbidden_paths if glob_match(path, p)]
    if forbidden:
        reasons.append(f"The path {path} is forbidden by the pattern {forbidden[0]}.")
    return reasons


def _changed_lines(change: FileChange) -> int:
    diff = unified_diff(change.path, change.before, change.after)
    return sum(
        1 for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def _content_reasons(change: FileChange, policy: Policy) -> list[str]:
    is_test = matches_any(change.path, policy.test_globs)
    if change.before.strip() and not change.after.strip():
        if is_test:
            return [f"The change deletes or empties the test file {change.path}."]
        return [f"The change deletes or empties {change.path}."]
    if not is_test or not change.path.endswith(".py"):
        return []
    return _test_reasons(change)


def _test_reasons(change: FileChange) -> list[str]:
    try:
        before = ast.parse(change.before)
    except SyntaxError:
        return []
    try:
        after = ast.parse(change.after)
    except SyntaxError:
        return [f"The change leaves the test file {change.path} unparseable."]
    reasons = [
        f"The change removes the test {name} from {change.path}."
        for name in sorted(_tests(before) - _tests(after))
    ]
    missing = _assertions(before) - _assertions(after)
    for scope, text in sorted(missing):
        reasons.append(
            f"The change removes or alters the assertion `{text}` in {scope} of {change.path}."
        )
    added = _skips(after) - _skips(before)
    for name in sorted(added):
        reasons.append(f"The change adds {name} to the test file {change.path}.")
    return reasons


def _walk_scoped(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """Every node with the qualified name of the function or class around it."""
    found: list[tuple[str, ast.AST]] = []
    stack: list[tuple[str, ast.AST]] = [("module level", tree)]
    while stack:
        scope, node = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "module level" else f"{scope}.{child.name}"
            found.append((inner, child))
            stack.append((inner, child))
    return found


def _tests(tree: ast.Module) -> set[str]:
    names = set()
    for scope, node in _walk_scoped(tree):
        match node:
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                if name.startswith("test"):
                    names.add(scope)
            case ast.ClassDef(name=name) if name.startswith("Test"):
                names.add(scope)
    return names


def _assertions(tree: ast.Module) -> Counter[tuple[str, str]]:
    """Assertions by scope: `assert`, `self.assert*(...)`, `pytest.raises(...)`/`approx(...)`."""
    found: Counter[tuple[str, str]] = Counter()
    for scope, node in _walk_scoped(tree):
        if isinstance(node, ast.Assert):
            found[scope, ast.unparse(node)] += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr.startswith("assert") or attr in ("raises", "warns", "approx"):
                found[scope, ast.unparse(node)] += 1
    return found


def _skips(tree: ast.Module) -> Counter[str]:
    """Uses of skip and xfail markers and calls, by dotted name."""
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("pytest", "unittest")
        for alias in node.names
        if alias.name in _SKIP_WORDS
    }
    found: Counter[str] = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _SKIP_WORDS:
            dotted = _dotted(node)
            if dotted and dotted.split(".")[0] in _SKIP_ROOTS:
                found[dotted] += 1
        elif isinstance(node, ast.Name) and node.id in imported:
            found[node.id] += 1
    return found


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])

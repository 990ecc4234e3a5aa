"""Guardrails: what a candidate patch may change, checked before it is tested or pushed.

A candidate is refused when it touches a path outside the repository or inside `.git/`, a path
no allowed glob matches or a forbidden glob matches (CI config, secrets, lock files, migrations
by default; forbidden globs match case-insensitively), when its diff is too large or touches too
many files, when it deletes or empties a file, when it adds a dependency or a runtime install
(`agent.guardrails.dependencies`), or when it weakens a test file or pytest's configuration
(`agent.guardrails.weakening`). What the candidate's run collects and skips is compared with
the baseline's by `agent.guardrails.collection`, in the proof.
Globs are fnmatch-style over `/`-separated paths: `*` and `?` stay within one directory,
`**` crosses directories (`**/x` also matches `x` at the root, `a/**` matches `a` and all below).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import cache

from agent.domain import FileChange, Patch
from agent.guardrails.dependencies import new_dependencies, runtime_installs
from agent.guardrails.weakening import config_reasons, weakening_reasons
from agent.repair.diffs import unified_diff
from agent.settings import DEFAULT_FORBIDDEN_PATHS, Settings

DEFAULT_TEST_GLOBS = ["tests/**", "**/test_*.py", "**/*_test.py", "**/conftest.py"]


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
        for install in runtime_installs(change):
            reasons.append(f"The change to {change.path} adds {install} (a runtime install).")
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
    if ".git" in (part.lower() for part in parts):
        return [f"The path {path} is inside a .git directory."]
    reasons = []
    if not matches_any(path, policy.allowed_paths):
        reasons.append(f"The path {path} matches none of the allowed paths.")
    forbidden = [p for p in policy.forbidden_paths if glob_match(path.lower(), p.lower())]
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
    reasons = config_reasons(change.path, change.before, change.after)
    if is_test and change.path.endswith(".py"):
        reasons += weakening_reasons(change.path, change.before, change.after)
    return reasons

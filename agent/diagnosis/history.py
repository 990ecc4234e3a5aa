"""History since the last good release: what changed, and which commit to blame.

The incident's release resolves to a commit (`agent.diagnosis.frames.resolve_release`; the base
commit when it names none that this clone knows). The last good release is the newest tag among
that commit's strict ancestors. Code that changed between the two can have introduced a regression;
code that did not, cannot. With no earlier tag there is no window, and history gives no signal.
Reads the repository through the `Repo` port and writes nothing.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.diagnosis.frames import resolve_release
from agent.errors import RepoError
from agent.ports import CommitLike, Repo

MAX_COMMITS = 200
"""The most commits a window holds; older ones are not read."""

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_STRING = re.compile(r"(?P<q>['\"]).*?(?P=q)")


@dataclass
class Window:
    """The commits since the last good release, and the lines they changed at the base commit."""

    last_good: str
    """The tag of the last release without the incident."""
    last_good_sha: str
    release_sha: str
    commits: list[CommitLike]
    changed: dict[str, set[int]] = field(default_factory=dict)
    """Path at the base commit -> its lines added or changed since the last good release, and
    the lines next to which lines were deleted."""

    @property
    def shas(self) -> set[str]:
        return {c.sha for c in self.commits}

    def touched(self, path: str, start: int, end: int) -> bool:
        lines = self.changed.get(path, set())
        return any(start <= line <= end for line in lines)

    def describe(self) -> str:
        return (
            f"{len(self.commits)} commit(s) since the last good release {self.last_good} "
            f"({self.last_good_sha[:12]}) up to the incident's release {self.release_sha[:12]}"
        )


def release_window(release: str | None, repo: Repo, base: str) -> Window | None:
    """The window from the last good release to the incident's release, or None without one."""
    release_sha = base
    if release:
        found = resolve_release(release, lambda rev: _resolve(repo, rev))
        if found is not None:
            release_sha = found[0]
    tag = repo.previous_tag(release_sha)
    if tag is None:
        return None
    last_good_sha = repo.head(tag)
    commits = list(repo.commits_between(last_good_sha, release_sha, MAX_COMMITS))
    changed = changed_lines(repo.diff(last_good_sha, base))
    return Window(tag, last_good_sha, release_sha, commits, changed)


def _resolve(repo: Repo, rev: str) -> str | None:
    try:
        return repo.head(rev)
    except RepoError:
        return None


def changed_lines(diff: str) -> dict[str, set[int]]:
    """Per new path, the new-side lines a unified diff adds, and where it deletes lines."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    line = 0
    for text in diff.splitlines():
        header = _FILE.match(text)
        if header:
            current = changed.setdefault(header.group(2), set())
            continue
        hunk = _HUNK.match(text)
        if hunk and current is not None:
            line = int(hunk.group(1))
            continue
        if current is None or text.startswith(("+++", "---")):
            continue
        if text.startswith("+"):
            current.add(line)
            line += 1
        elif text.startswith("-"):
            current.update({max(line - 1, 1), line})  # the lines around the deletion
        elif text.startswith(" "):
            line += 1
    return {path: lines for path, lines in changed.items() if lines}


def names_on(line: str) -> set[str]:
    """The identifiers a line of code names, without keywords and string contents."""
    code = _STRING.sub("", line.split("#", 1)[0])
    return {name for name in _IDENTIFIER.findall(code) if not keyword.iskeyword(name)}


def definition_changes(
    repo: Repo, commit: CommitLike, names: Iterable[str], is_test: Callable[[str], bool]
) -> set[str]:
    """Which of `names` the commit redefined, renamed or removed outside test code.

    A definition counts when a removed line defines the name (`def name`, `class name`, a
    module-level `name =`), or the commit renamed or deleted a module called `name`.
    """
    wanted = set(names)
    if not wanted:
        return set()
    try:
        diff = repo.diff(f"{commit.sha}^", commit.sha)
    except RepoError:
        return set()
    found: set[str] = set()
    path = ""
    for text in diff.splitlines():
        header = _FILE.match(text)
        if header:
            old, new = header.groups()
            path = old
            stem = old.rsplit("/", 1)[-1].removesuffix(".py")
            if old != new and stem in wanted and not is_test(old):
                found.add(stem)
            continue
        if text.startswith("deleted file") and path and not is_test(path):
            stem = path.rsplit("/", 1)[-1].removesuffix(".py")
            if stem in wanted:
                found.add(stem)
            continue
        if not text.startswith("-") or text.startswith("---") or is_test(path):
            continue
        defined = _defined_name(text[1:])
        if defined in wanted:
            found.add(defined)
    return found


_DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*[:=]")


def _defined_name(line: str) -> str | None:
    match = _DEFINITION.match(line)
    if match is None:
        return None
    return match.group(1) or match.group(2)


__all__ = ["Window", "changed_lines", "definition_changes", "names_on", "release_window"]

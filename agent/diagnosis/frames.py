"""Frames to code: the repository file a stack frame ran, and the commit a release names.

A frame belongs to the repository when its path names a file the repository has at the
incident's commit, whatever the path's prefix: a deploy prefix (given, like `/app`), another
machine's checkout (`~/code/shop/...`), the package installed (`.../site-packages/shop/cart.py`
for `src/shop/cart.py`), an egg or zip. The path's tail must name the tracked file down to an
import root: the whole tracked path, or at least its last folder and file where that folder's
parent is not itself a package (so `.../sphinx/conf.py` is not the repository's `docs/conf.py`).
A dotted module the frame carries (Sentry sends it; intake reads it off an install location)
places the import root: `vendor.app.reports` is not the repository's `app/reports.py`.
Library code is what the repository does not have; `in_app` and the words in a path are not
trusted either way. A frame without a usable path (`<stdin>`, a notebook cell, a path the
reporter cut) is placed by its quoted source line when exactly one file of the repository holds
it (narrowed by the frame's function when the line is in several). Pure: it reads what it is
given, the search included.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from agent.domain import Frame
from agent.ports import Repo

_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_SOURCE_FILE = re.compile(r"\.(?:py[wi]?|pyx|pxd)$")
_ARCHIVE = re.compile(r"\.(?:egg|zip|whl|pyz)$", re.IGNORECASE)
_MIN_SEARCHED_LINE = 12
"""Shorter source lines (`return x`) name no one file; they are not searched for."""

Origin = Literal["application", "library", "unknown"]
LineSearch = Callable[[str], Sequence[tuple[str, int]]]
"""Where a text occurs in the repository's Python files: (path, 1-based line) pairs."""


@dataclass(frozen=True)
class FrameMapping:
    path: str | None
    """The tracked file the frame ran, or None."""
    origin: Origin
    """`unknown`: no usable path, and its source line names no one file."""
    how: str
    """How the frame was placed, for the diagnosis's evidence."""
    line: int | None = None
    """The line the frame ran when it was placed by its source line, not by its line number."""


class RepoFiles:
    """The files of the repository at one commit, indexed to place frames; build it once per
    commit. `search` finds a source line in the repository's Python files."""

    def __init__(
        self,
        tracked: Collection[str],
        search: LineSearch | None = None,
        read: Callable[[str], str | None] | None = None,
    ) -> None:
        self.tracked = tracked if isinstance(tracked, set | frozenset) else set(tracked)
        self.search = search
        self.read = read
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for path in self.tracked:
            self._by_name[path.rsplit("/", 1)[-1]].append(path)

    def __contains__(self, path: object) -> bool:
        return path in self.tracked

    def named_by(self, path: str) -> str | None:
        """The tracked file whose path the printed `path` ends with, down to an import root."""
        parts = [part for part in path.split("/") if part not in ("", ".", "~")]
        if not parts:
            return None
        best: tuple[int, int, str] | None = None
        for candidate in self._by_name.get(parts[-1], ()):
            tracked = candidate.split("/")
            common = _common_suffix(parts, tracked)
            if not self._rooted(tracked, common):
                continue
            key = (-common, len(tracked), candidate)
            if best is None or key < best:
                best = key
        return best[2] if best else None

    def _rooted(self, tracked: list[str], common: int) -> bool:
        if common == len(tracked):
            return True
        if common < 2:
            return False
        above = "/".join(tracked[: len(tracked) - common])
        return f"{above}/__init__.py" not in self.tracked

    def module_file(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for tail in (f"{base}.py", f"{base}/__init__.py"):
            found = self.named_by(tail)
            if found is not None and (found == tail or found.endswith(f"/{tail}")):
                return found
        return None


def repo_files(repo: Repo, rev: str) -> RepoFiles:
    """The repository's files at `rev`, with its source-line search."""
    return RepoFiles(
        repo.tracked_files(rev),
        lambda text: repo.find_line(rev, text),
        lambda path: repo.read(rev, path),
    )


def _common_suffix(left: list[str], right: list[str]) -> int:
    count = 0
    while count < min(len(left), len(right)) and left[-1 - count] == right[-1 - count]:
        count += 1
    return count


def is_test_path(path: str) -> bool:
    """True for test code: under `tests/` or `test/`, `test_*.py`, `*_test.py`, `conftest.py`."""
    *folders, name = path.split("/")
    return (
        "tests" in folders
        or "test" in folders
        or name == "conftest.py"
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def map_frame(
    frame: Frame, files: Collection[str] | RepoFiles, prefixes: Sequence[str] = ()
) -> FrameMapping:
    """Place one frame: a repository file (application), library code, or unknown."""
    repo = files if isinstance(files, RepoFiles) else RepoFiles(files)
    paths = [_slashed(p) for p in (frame.abs_path, frame.filename) if p]
    usable = [p for p in paths if _SOURCE_FILE.search(p)]
    for path in usable:
        for prefix in prefixes:
            stem = _slashed(prefix).rstrip("/") + "/"
            if path.startswith(stem) and path[len(stem) :] in repo:
                return FrameMapping(path[len(stem) :], "application", f"deploy prefix {stem}")
    relative = _slashed(frame.filename).removeprefix("./")
    if relative in repo:
        return FrameMapping(relative, "application", "repository-relative path")
    module = frame.module or ""
    if usable and _names_its_file(module, usable[0]):
        # The dotted module says where the import root is: `vendor.app.reports` is not the
        # repository's `app/reports.py`, however the path ends.
        found = repo.module_file(module)
        if found is None:
            return FrameMapping(None, "library", f"the repository has no module {module}")
        return FrameMapping(found, "application", f"module {module} of {usable[0]}")
    for path in usable:  # abs_path first: it carries the most of the path
        found = repo.named_by(path)
        if found is not None:
            return FrameMapping(found, "application", f"{path} ends with {found}")
    if _MODULE.fullmatch(module) and (found := repo.module_file(module)) is not None:
        return FrameMapping(found, "application", f"module {module}")
    if usable:
        return FrameMapping(None, "library", f"the repository has no file {usable[0]} names")
    searched = _by_source_line(frame, repo)
    if searched is not None:
        return searched
    if _MODULE.fullmatch(module):
        return FrameMapping(None, "library", f"the repository has no module {module}")
    return FrameMapping(None, "unknown", "no usable path, and no one file holds its source line")


_DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?def\s+(?P<name>\w+)")


def _enclosing_def(source: str | None, number: int) -> str | None:
    """The name of the function whose body holds line `number` of `source`."""
    lines = (source or "").splitlines()
    if not 1 <= number <= len(lines):
        return None
    target = lines[number - 1]
    indent = len(target) - len(target.lstrip())
    for text in reversed(lines[: number - 1]):
        match = _DEF.match(text)
        if match and len(match["indent"]) < indent:
            return match["name"]
        if text.strip() and len(text) - len(text.lstrip()) < indent and not match:
            indent = len(text) - len(text.lstrip())
    return None


def _names_its_file(module: str, path: str) -> bool:
    """The frame's module is a dotted name of two parts or more that the path ends with
    (`shop.cart` for `.../shop/cart.py`): it names the file, down to its import root."""
    if "." not in module or not _MODULE.fullmatch(module):
        return False
    parts = module.split(".")
    tail = path.removesuffix(".py").split("/")
    if tail[-1] == "__init__":
        tail.pop()
    return tail[-len(parts) :] == parts


def _slashed(path: str) -> str:
    slashed = path.replace("\\", "/")
    # A file inside an egg or zip: `/x/shop-1.0.egg/shop/cart.py` keeps its inner path.
    parts = slashed.split("/")
    for index in range(len(parts) - 1, -1, -1):
        if _ARCHIVE.search(parts[index]):
            return "/".join(parts[index + 1 :])
    return slashed


def _by_source_line(frame: Frame, repo: RepoFiles) -> FrameMapping | None:
    line = (frame.context_line or "").strip()
    if repo.search is None or len(line) < _MIN_SEARCHED_LINE:
        return None
    hits = [(path, number) for path, number in repo.search(line) if path in repo]
    if len(hits) > 1 and frame.function.isidentifier() and repo.read is not None:
        hits = [hit for hit in hits if _enclosing_def(repo.read(hit[0]), hit[1]) == frame.function]
    if len(hits) != 1:
        return None
    path, number = hits[0]
    return FrameMapping(
        path, "application", f"its source line `{line}` is {path}:{number}", line=number
    )


def release_revisions(release: str, mapping: Mapping[str, str] | None = None) -> list[str]:
    """Revisions a release may name, most specific first.

    A mapping entry wins; then the release as a ref; Sentry's `package@version+build` gives its
    version (also as `v<version>`) and a build that is a sha. (git itself reads `git describe`
    output such as `v1.4-3-gabc1234`, even when the tag is unknown.)
    """
    candidates: list[str] = []
    if mapping and release in mapping:
        candidates.append(mapping[release])
    candidates.append(release)
    version = release.rsplit("@", 1)[-1]
    version, _, build = version.partition("+")
    candidates += [version, f"v{version}"]
    if _HEX.match(build):
        candidates.append(build)
    return list(dict.fromkeys(c for c in candidates if c))


def resolve_release(
    release: str, resolve: Callable[[str], str | None], mapping: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """(commit sha, the revision that named it) for a release, or None when none resolves.

    `resolve` turns a revision (tag, branch, sha) into a commit sha, or None when unknown.
    """
    for revision in release_revisions(release, mapping):
        sha = resolve(revision)
        if sha is not None:
            return sha, revision
    return None

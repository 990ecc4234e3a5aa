"""Frames to code: the repository file a stack frame ran, and the commit a release names.

SDKs mark frames `in_app` by guesswork, so the flag is not trusted either way: a frame is library
code when its path is an install location (site-packages, dist-packages, an interpreter's
`lib/pythonX.Y` or Windows `Lib`, frozen and generated code) or, with no usable path, when its
module is a standard-library module the repository does not itself define. Application paths
are mapped through deploy prefixes (given, like `/app` or `/srv/shop/current`, or found as the
longest tracked suffix of the path) and module names. Pure: it reads what it is given.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from agent.domain import Frame

_INSTALLED = re.compile(
    r"(^|/)(site-packages|dist-packages)/"
    r"|(^|/)lib(64)?/python\d+(\.\d+)?/"
    r"|^[A-Za-z]:/(.+/)?Python\d*/Lib/"
    r"|^<(frozen [\w.]+|string|stdin)>$"
)
_MODULE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")

Origin = Literal["application", "library", "unknown"]


@dataclass(frozen=True)
class FrameMapping:
    path: str | None
    """The tracked file the frame ran, or None."""
    origin: Origin
    """`unknown`: not an install location, yet no file of the repository."""
    how: str
    """How the frame was placed, for the diagnosis's evidence."""


def is_installed_path(path: str) -> bool:
    """True for installed packages, an interpreter's standard library and generated code."""
    return _INSTALLED.search(path.replace("\\", "/")) is not None


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


def map_frame(frame: Frame, tracked: Collection[str], prefixes: Sequence[str] = ()) -> FrameMapping:
    """Place one frame: a repository file (application), library code, or unknown."""
    paths = [p.replace("\\", "/") for p in (frame.abs_path, frame.filename) if p]
    installed = next((p for p in paths if is_installed_path(p)), None)
    if installed is not None:
        return FrameMapping(None, "library", f"{installed} is an install location")
    for path in paths:
        for prefix in prefixes:
            stem = prefix.replace("\\", "/").rstrip("/") + "/"
            if path.startswith(stem) and path[len(stem) :] in tracked:
                return FrameMapping(path[len(stem) :], "application", f"deploy prefix {stem}")
    relative = frame.filename.replace("\\", "/").removeprefix("./")
    if relative in tracked:
        return FrameMapping(relative, "application", "repository-relative path")
    for path in paths:  # abs_path first: it carries the most of the path
        found = _longest_tracked_suffix(path, tracked)
        if found is not None:
            return FrameMapping(found, "application", f"{path} ends with {found}")
    module = frame.module or ""
    if _MODULE.fullmatch(module):
        found = _module_file(module, tracked)
        if found is not None:
            return FrameMapping(found, "application", f"module {module}")
        if module.split(".")[0] in sys.stdlib_module_names:
            return FrameMapping(None, "library", f"{module} is a standard-library module")
    return FrameMapping(None, "unknown", "no file of the repository matches")


def _longest_tracked_suffix(path: str, tracked: Collection[str]) -> str | None:
    parts = [part for part in path.split("/") if part not in ("", ".")]
    for start in range(len(parts)):
        suffix = "/".join(parts[start:])
        for candidate in (suffix, f"src/{suffix}"):
            if candidate in tracked:
                return candidate
    return None


def _module_file(module: str, tracked: Collection[str]) -> str | None:
    base = module.replace(".", "/")
    for root in ("", "src/"):
        for candidate in (f"{root}{base}.py", f"{root}{base}/__init__.py"):
            if candidate in tracked:
                return candidate
    return None


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

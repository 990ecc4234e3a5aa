"""Build a Patch from file contents: unified diff and a content-derived id."""

from __future__ import annotations

import difflib
import hashlib

from agent.domain import FileChange, Patch


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def make_patch(
    engine: str, title: str, rationale: str, changes: list[FileChange], rank: int = 0
) -> Patch:
    diff = "".join(unified_diff(c.path, c.before, c.after) for c in changes)
    digest = hashlib.sha256(diff.encode()).hexdigest()[:10]
    return Patch(
        id=f"{engine}-{digest}",
        engine=engine,
        title=title,
        rationale=rationale,
        files=changes,
        diff=diff,
        rank=rank,
    )

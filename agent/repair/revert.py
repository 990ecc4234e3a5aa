"""Revert of the suspect commit, offered as one more candidate for the test node to prove.

Offered only when the suspect commit is recent (among the last `window` first-parent commits
of the base) and reverts cleanly: every file it changed is, at the base commit, exactly as the
commit left it, and existed before it (a revert never deletes a file). The candidate restores
those files to their state before the commit.
"""

from __future__ import annotations

import re

from agent.domain import CommitRef, FileChange, Patch
from agent.errors import RepoError
from agent.repair import RepairContext
from agent.repair.diffs import make_patch

ENGINE = "revert"
_DIFF_HEADER = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.MULTILINE)


class RevertEngine:
    """The suspect commit undone, when it is recent and reverts cleanly."""

    name = ENGINE

    def __init__(self, window: int = 20) -> None:
        self.window = window

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        commit = ctx.diagnosis.suspect_commit
        if commit is None or ctx.limit < 1:
            return []
        age = _age(ctx, commit.sha, self.window)
        if age is None:
            return []
        changes = _reverted_files(ctx, commit.sha)
        if not changes:
            return []
        patch = make_patch(ENGINE, f"Revert {commit.sha[:12]}: {commit.summary}", "", changes)
        if patch.id in ctx.tried:
            return []
        return [patch.model_copy(update={"rationale": _rationale(commit, age), "rank": 1})]


def _age(ctx: RepairContext, sha: str, window: int) -> int | None:
    """How many first-parent commits before the base the commit is, within `window`."""
    for back in range(window):
        try:
            if ctx.repo.head(f"{ctx.rev}~{back}") == sha:
                return back
        except RepoError:
            return None
    return None


def _reverted_files(ctx: RepairContext, sha: str) -> list[FileChange]:
    try:
        diff = ctx.repo.diff(f"{sha}^", sha)
    except RepoError:
        return []
    changes = []
    for old, new in _DIFF_HEADER.findall(diff):
        if old != new:
            return []
        before = ctx.repo.read(f"{sha}^", old)
        after_commit = ctx.repo.read(sha, old)
        current = ctx.repo.read(ctx.rev, old)
        if before is None or after_commit is None or current != after_commit:
            return []
        changes.append(FileChange(path=old, before=current, after=before))
    return changes


def _rationale(commit: CommitRef, age: int) -> str:
    when = "the last commit" if age == 0 else f"{age} commit(s) before the base"
    pr = f" (PR #{commit.pr_number})" if commit.pr_number else ""
    return (
        f'The diagnosis names {commit.sha[:12]}{pr} "{commit.summary}" by {commit.author} '
        f"({when}) as the change that introduced the failure. Reverting it restores the code "
        "that worked; it is proposed only because it reverts cleanly, and it is ranked after "
        "smaller forward fixes."
    )

"""Pull requests without a hosting service: a real branch in the target repo plus a PR record.

The branch is the idempotency key: `open_pr` on a branch that already has a PR returns it.
Reviews happen with `fixloop review`, which calls `approve`, `merge` or `close_pr` here.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Protocol

from agent.domain import BOT_BRANCH_PREFIX, PullRequest, utcnow
from agent.errors import NotFound, RepoError
from tools.sqlite_db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS pull_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    base TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    diff TEXT NOT NULL,
    status TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    merge_sha TEXT,
    merged_at TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (repo, branch)
);
CREATE TABLE IF NOT EXISTS pr_reviews (
    pr_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    comment TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


class BranchingRepo(Protocol):
    path: Path

    def diff(self, base: str, head: str) -> str: ...

    def set_branch(self, name: str, sha: str) -> None: ...

    def merge(self, branch: str, into: str, message: str) -> str: ...


class LocalForge:
    def __init__(self, db_path: Path, repo: BranchingRepo, base_branch: str) -> None:
        self.db_path = db_path
        self.repo = repo
        self.base = base_branch
        self.repo_key = str(repo.path.resolve())

    def find_pr(self, branch: str) -> PullRequest | None:
        with connect(self.db_path, SCHEMA) as db:
            row = db.execute(
                "SELECT * FROM pull_requests WHERE repo = ? AND branch = ?",
                (self.repo_key, branch),
            ).fetchone()
        return _pr(row) if row else None

    def get_pr(self, pr_id: int) -> PullRequest:
        with connect(self.db_path, SCHEMA) as db:
            row = db.execute("SELECT * FROM pull_requests WHERE id = ?", (pr_id,)).fetchone()
        if row is None:
            raise NotFound(f"no pull request #{pr_id}")
        return _pr(row)

    def open_pr(self, branch: str, head_sha: str, title: str, body: str) -> PullRequest:
        if not branch.startswith(BOT_BRANCH_PREFIX):
            raise RepoError(
                f"refusing to open a PR from {branch!r}: fixloop owns {BOT_BRANCH_PREFIX}* only"
            )
        existing = self.find_pr(branch)
        if existing is not None:
            return existing
        self.repo.set_branch(branch, head_sha)
        diff = self.repo.diff(self.base, head_sha)
        with connect(self.db_path, SCHEMA) as db:
            db.execute(
                "INSERT OR IGNORE INTO pull_requests (repo, branch, base, title, body, diff, "
                "status, head_sha, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
                (self.repo_key, branch, self.base, title, body, diff, head_sha, _now()),
            )
        found = self.find_pr(branch)
        assert found is not None
        return found

    def approve(self, pr_id: int, comment: str) -> PullRequest:
        pr = self._require_open(pr_id)
        self._record(pr.id, "approve", comment, status="approved")
        return self.get_pr(pr_id)

    def merge(self, pr_id: int, comment: str) -> PullRequest:
        pr = self._require_open(pr_id)
        message = f"Merge pull request #{pr.id} from {pr.branch}\n\n{pr.title}"
        merge_sha = self.repo.merge(pr.branch, pr.base, message)
        with connect(self.db_path, SCHEMA) as db:
            db.execute(
                "UPDATE pull_requests SET merge_sha = ?, merged_at = ? WHERE id = ?",
                (merge_sha, _now(), pr.id),
            )
        self._record(pr.id, "merge", comment, status="merged")
        return self.get_pr(pr_id)

    def close_pr(self, pr_id: int, comment: str) -> PullRequest:
        pr = self._require_open(pr_id)
        self._record(pr.id, "reject", comment, status="closed")
        return self.get_pr(pr_id)

    def reviews(self, pr_id: int) -> list[dict[str, str]]:
        with connect(self.db_path, SCHEMA) as db:
            rows = db.execute(
                "SELECT action, comment, at FROM pr_reviews WHERE pr_id = ? ORDER BY rowid",
                (pr_id,),
            ).fetchall()
        return [dict(row) for row in rows]

    def _require_open(self, pr_id: int) -> PullRequest:
        pr = self.get_pr(pr_id)
        if pr.status not in ("open", "approved"):
            raise RepoError(f"pull request #{pr_id} is {pr.status}, not open")
        return pr

    def _record(self, pr_id: int, action: str, comment: str, *, status: str) -> None:
        with connect(self.db_path, SCHEMA) as db:
            db.execute("UPDATE pull_requests SET status = ? WHERE id = ?", (status, pr_id))
            db.execute(
                "INSERT INTO pr_reviews VALUES (?, ?, ?, ?)", (pr_id, action, comment, _now())
            )


def _now() -> str:
    return utcnow().isoformat()


def _pr(row: sqlite3.Row) -> PullRequest:
    merged_at = row["merged_at"]
    return PullRequest(
        id=row["id"],
        branch=row["branch"],
        base=row["base"],
        title=row["title"],
        body=row["body"],
        diff=row["diff"],
        status=row["status"],
        head_sha=row["head_sha"],
        merge_sha=row["merge_sha"],
        merged_at=datetime.fromisoformat(merged_at) if merged_at else None,
        url=f"local://pr/{row['id']}",
    )

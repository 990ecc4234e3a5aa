"""Pull requests without a hosting service: a real branch in the target repo plus a PR record.

The branch is the idempotency key: `open_pr` on a branch that already has a PR returns it.
Reviews happen with `fixloop review`, which calls `approve`, `merge` or `close_pr` here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Row, func, select, update

from agent.domain import BOT_BRANCH_PREFIX, PullRequest, utcnow
from agent.errors import NotFound, RepoError
from tools.store.database import Database, database_of
from tools.store.tables import pr_reviews, pull_requests


class BranchingRepo(Protocol):
    path: Path

    def diff(self, base: str, head: str) -> str: ...

    def set_branch(self, name: str, sha: str) -> None: ...

    def merge(self, branch: str, into: str, message: str) -> str: ...


class LocalForge:
    def __init__(self, db: Database | Path, repo: BranchingRepo, base_branch: str) -> None:
        self.db = database_of(db, "records")
        self.repo = repo
        self.base = base_branch
        self.repo_key = str(repo.path.resolve())

    def find_pr(self, branch: str) -> PullRequest | None:
        query = select(pull_requests).where(
            pull_requests.c.repo == self.repo_key, pull_requests.c.branch == branch
        )
        with self.db.transaction() as db:
            row = db.execute(query).first()
        return _pr(row) if row else None

    def get_pr(self, pr_id: int) -> PullRequest:
        with self.db.transaction() as db:
            row = db.execute(select(pull_requests).where(pull_requests.c.id == pr_id)).first()
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
        with self.db.transaction() as db:
            db.execute(
                self.db.insert(pull_requests)
                .values(
                    repo=self.repo_key,
                    branch=branch,
                    base=self.base,
                    title=title,
                    body=body,
                    diff=diff,
                    status="open",
                    head_sha=head_sha,
                    created_at=_now(),
                )
                .on_conflict_do_nothing()
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
        with self.db.transaction() as db:
            db.execute(
                update(pull_requests)
                .where(pull_requests.c.id == pr.id)
                .values(merge_sha=merge_sha, merged_at=_now())
            )
        self._record(pr.id, "merge", comment, status="merged")
        return self.get_pr(pr_id)

    def close_pr(self, pr_id: int, comment: str) -> PullRequest:
        pr = self._require_open(pr_id)
        self._record(pr.id, "reject", comment, status="closed")
        return self.get_pr(pr_id)

    def bot_pr_counts(self, opened_since: datetime) -> tuple[int, int]:
        mine = (pull_requests.c.repo == self.repo_key) & pull_requests.c.branch.startswith(
            BOT_BRANCH_PREFIX
        )
        count = select(func.count()).select_from(pull_requests)
        with self.db.transaction() as db:
            open_now = db.execute(
                count.where(mine, pull_requests.c.status.in_(("open", "approved")))
            ).scalar_one()
            opened = db.execute(
                count.where(mine, pull_requests.c.created_at >= opened_since.isoformat())
            ).scalar_one()
        return int(open_now), int(opened)

    def reviews(self, pr_id: int) -> list[dict[str, str]]:
        query = (
            select(pr_reviews.c.action, pr_reviews.c.comment, pr_reviews.c.at)
            .where(pr_reviews.c.pr_id == pr_id)
            .order_by(pr_reviews.c.id)
        )
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [dict(row._mapping) for row in rows]

    def _require_open(self, pr_id: int) -> PullRequest:
        pr = self.get_pr(pr_id)
        if pr.status not in ("open", "approved"):
            raise RepoError(f"pull request #{pr_id} is {pr.status}, not open")
        return pr

    def _record(self, pr_id: int, action: str, comment: str, *, status: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                update(pull_requests).where(pull_requests.c.id == pr_id).values(status=status)
            )
            db.execute(
                pr_reviews.insert().values(pr_id=pr_id, action=action, comment=comment, at=_now())
            )


def _now() -> str:
    return utcnow().isoformat()


def _pr(found: Row[Any]) -> PullRequest:
    row = found._mapping
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

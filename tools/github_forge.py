"""Pull requests on GitHub: PyGithub for the API, GitPython to push (`agent.ports.Forge`).

What it may touch: branches named `fixloop/*` and the PRs opened from them, nothing else. It
pushes without force (a remote branch that moved elsewhere is an error, not overwritten), opens
PRs as drafts with labels, and asks the CODEOWNERS of the changed files for review. The token
goes to git as an HTTP header, never in a URL, and is cut out of every error message.
"""

from __future__ import annotations

import base64
import fnmatch
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import git
from github import Github
from github.PullRequest import PullRequest as GithubPullRequest

from agent.domain import BOT_BRANCH_PREFIX, PullRequest, aware
from agent.errors import RepoError
from tools.github_calls import github_call

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
T = TypeVar("T")


class LocalRepo(Protocol):
    path: Path

    def diff(self, base: str, head: str) -> str: ...

    def read(self, rev: str, path: str) -> str | None: ...


class GitHubForge:
    def __init__(
        self,
        client: Github,
        full_name: str,
        repo: LocalRepo,
        base_branch: str,
        *,
        remote_url: str,
        token: str,
        labels: list[str],
    ) -> None:
        self.client = client
        self.full_name = full_name
        self.repo = repo
        self.base = base_branch
        self.remote_url = remote_url
        self.labels = labels
        self._token = token
        self._git = git.Repo(repo.path).git
        self._remote_ref = f"refs/remotes/fixloop-github/{base_branch}"

    def find_pr(self, branch: str) -> PullRequest | None:
        if not branch.startswith(BOT_BRANCH_PREFIX):
            return None
        owner = self.full_name.split("/", 1)[0]
        pulls = self._call(
            lambda: list(self._repo().get_pulls(state="all", head=f"{owner}:{branch}"))
        )
        return self._record(pulls[0]) if pulls else None

    def bot_pr_counts(self, opened_since: datetime) -> tuple[int, int]:
        """Open fixloop PRs, and those created since `opened_since` (a PR without a creation
        time counts as created now)."""
        repo = self._repo()
        open_now = sum(
            1
            for pull in self._call(lambda: list(repo.get_pulls(state="open")))
            if pull.head.ref.startswith(BOT_BRANCH_PREFIX)
        )
        opened = 0
        for pull in self._call(
            lambda: list(repo.get_pulls(state="all", sort="created", direction="desc"))
        ):
            created = pull.created_at
            if created is not None and aware(created) < opened_since:
                break
            opened += pull.head.ref.startswith(BOT_BRANCH_PREFIX)
        return open_now, opened

    def get_pr(self, pr_id: int) -> PullRequest:
        return self._record(self._own_pull(pr_id))

    def open_pr(self, branch: str, head_sha: str, title: str, body: str) -> PullRequest:
        if not branch.startswith(BOT_BRANCH_PREFIX):
            raise RepoError(
                f"refusing to open a PR from {branch!r}: fixloop owns {BOT_BRANCH_PREFIX}*"
            )
        existing = self.find_pr(branch)
        if existing is not None:
            return existing
        self._run_git("push", self.remote_url, f"{head_sha}:refs/heads/{branch}")
        repo = self._repo()
        pull = self._call(
            lambda: repo.create_pull(
                base=self.base, head=branch, title=title, body=body, draft=True
            )
        )
        if self.labels:
            self._call(lambda: pull.add_to_labels(*self.labels))
        users, teams = self._owners(head_sha)
        if users or teams:
            self._call(lambda: pull.create_review_request(reviewers=users, team_reviewers=teams))
        return self._record(pull)

    def approve(self, pr_id: int, comment: str) -> PullRequest:
        pull = self._own_pull(pr_id, open_only=True)
        self._call(lambda: pull.create_review(body=comment or "Approved.", event="APPROVE"))
        return self._record(pull)

    def merge(self, pr_id: int, comment: str) -> PullRequest:
        pull = self._own_pull(pr_id, open_only=True)
        message = f"{pull.title}\n\n{comment}".strip()
        self._call(lambda: pull.merge(commit_message=message, merge_method="merge"))
        return self.get_pr(pr_id)

    def close_pr(self, pr_id: int, comment: str) -> PullRequest:
        pull = self._own_pull(pr_id, open_only=True)
        if comment:
            self._call(lambda: pull.create_issue_comment(comment))
        self._call(lambda: pull.edit(state="closed"))
        return self.get_pr(pr_id)

    # -- helpers ------------------------------------------------------------------------------

    def _repo(self) -> Any:
        return self._call(lambda: self.client.get_repo(self.full_name))

    def _own_pull(self, pr_id: int, open_only: bool = False) -> GithubPullRequest:
        pull = self._call(lambda: self._repo().get_pull(pr_id))
        if not pull.head.ref.startswith(BOT_BRANCH_PREFIX):
            raise RepoError(f"PR #{pr_id} is from {pull.head.ref!r}, not a fixloop branch")
        if open_only and (pull.merged or pull.state != "open"):
            raise RepoError(f"pull request #{pr_id} is {pull.state}, not open")
        return pull

    def _record(self, pull: GithubPullRequest) -> PullRequest:
        if pull.merged:
            status = "merged"
            self._fetch_base()
        elif pull.state == "closed":
            status = "closed"
        elif any(review.state == "APPROVED" for review in self._call(pull.get_reviews)):
            status = "approved"
        else:
            status = "open"
        head_sha = pull.head.sha
        return PullRequest(
            id=pull.number,
            branch=pull.head.ref,
            base=pull.base.ref,
            title=pull.title,
            body=pull.body or "",
            diff=self._diff(head_sha),
            status=status,
            head_sha=head_sha,
            merge_sha=pull.merge_commit_sha if pull.merged else None,
            merged_at=pull.merged_at,
            url=pull.html_url,
        )

    def _diff(self, head_sha: str) -> str:
        try:
            return self.repo.diff(self.base, head_sha)
        except RepoError:
            return ""

    def _fetch_base(self) -> None:
        """Bring the merged base branch here, so verify can check out the merge commit."""
        self._run_git("fetch", self.remote_url, f"+refs/heads/{self.base}:{self._remote_ref}")

    def _owners(self, head_sha: str) -> tuple[list[str], list[str]]:
        """CODEOWNERS (at the base branch) of the files the fix changes: users and team slugs."""
        rules = next(
            (text for path in CODEOWNERS_PATHS if (text := self.repo.read(self.base, path))),
            "",
        )
        changed = self._run_git("diff", "--name-only", self.base, head_sha).splitlines()
        users: set[str] = set()
        teams: set[str] = set()
        for path in changed:
            for owner in _owners_of(rules, path):
                if "/" in owner:
                    teams.add(owner.split("/", 1)[1])
                else:
                    users.add(owner)
        return sorted(users), sorted(teams)

    def _run_git(self, *args: str) -> str:
        header = base64.b64encode(f"x-access-token:{self._token}".encode()).decode()
        try:
            return str(
                self._git.execute(
                    ["git", "-c", f"http.extraHeader=Authorization: Basic {header}", *args]
                )
            )
        except git.GitCommandError as error:
            text = str(error).replace(header, "***").replace(self._token, "***")
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            reason = next((line for line in lines if "rejected" in line or "error" in line), "")
            raise RepoError(f"git {args[0]} to GitHub failed: {reason or lines[-1]}") from None

    def _call(self, action: Callable[[], T]) -> T:
        return github_call(self.full_name, action)


def _owners_of(rules: str, path: str) -> list[str]:
    """The owners of `path` by CODEOWNERS rules: the last matching line wins."""
    owners: list[str] = []
    for line in rules.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) < 2:
            continue
        if _matches(parts[0], path):
            owners = [owner.lstrip("@") for owner in parts[1:] if owner.startswith("@")]
    return owners


def _matches(pattern: str, path: str) -> bool:
    anchored = pattern.startswith("/")
    pattern = pattern.strip("/") if pattern != "/" else ""
    if pattern in ("", "*", "**"):
        return True
    candidates = [path] if anchored else [path, *_suffixes(path)]
    for candidate in candidates:
        if fnmatch.fnmatch(candidate, pattern) or candidate.startswith(pattern + "/"):
            return True
    return False


def _suffixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[i:]) for i in range(1, len(parts))]

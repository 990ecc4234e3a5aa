"""A fake GitHub REST API over a local bare repository, for PyGithub and GitHubForge.

Pull requests live in memory; branches, heads and merges are real git in the bare remote, so
a merge here is a real merge commit that a clone can fetch.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.fakes.http import FakeServer, Request

_IDENTITY = {
    "GIT_AUTHOR_NAME": "GitHub",
    "GIT_AUTHOR_EMAIL": "noreply@github.com",
    "GIT_COMMITTER_NAME": "GitHub",
    "GIT_COMMITTER_EMAIL": "noreply@github.com",
}
REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class FakeGitHub(FakeServer):
    def __init__(self, full_name: str, bare: Path, default_branch: str = "main") -> None:
        self.full_name = full_name
        self.bare = bare
        self.default_branch = default_branch
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        super().__init__(
            [
                ("GET", REPO, self._get_repo),
                ("GET", REPO + "/pulls", self._list_pulls),
                ("POST", REPO + "/pulls", self._create_pull),
                ("GET", REPO + r"/pulls/(?P<n>\d+)", self._get_pull),
                ("PATCH", REPO + r"/pulls/(?P<n>\d+)", self._edit_pull),
                ("PUT", REPO + r"/pulls/(?P<n>\d+)/merge", self._merge_pull),
                ("GET", REPO + r"/pulls/(?P<n>\d+)/reviews", self._list_reviews),
                ("POST", REPO + r"/pulls/(?P<n>\d+)/reviews", self._create_review),
                ("POST", REPO + r"/pulls/(?P<n>\d+)/requested_reviewers", self._request_review),
                ("POST", REPO + r"/issues/(?P<n>\d+)/labels", self._add_labels),
                ("POST", REPO + r"/issues/(?P<n>\d+)/comments", self._add_comment),
                ("GET", REPO + r"/issues/(?P<n>\d+)/comments", self._list_comments),
                ("POST", REPO + "/issues", self._create_issue),
                ("GET", REPO + "/issues", self._list_issues),
                ("GET", REPO + r"/issues/(?P<n>\d+)", self._get_issue),
                ("PATCH", REPO + r"/issues/(?P<n>\d+)", self._edit_issue),
            ]
        )

    # -- git in the bare remote -----------------------------------------------------------

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.bare), *args],
            check=True,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", **_IDENTITY},
        ).stdout.strip()

    def branch_sha(self, branch: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", f"refs/heads/{branch}")
        except subprocess.CalledProcessError:
            return None

    # -- API ------------------------------------------------------------------------------

    def _repo_url(self) -> str:
        return f"{self.url}/repos/{self.full_name}"

    def _get_repo(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        if f"{owner}/{name}" != self.full_name:
            return 404, {"message": "Not Found"}
        return 200, {
            "id": 1,
            "name": name,
            "full_name": self.full_name,
            "owner": {"login": owner},
            "url": self._repo_url(),
            "html_url": f"https://github.example/{self.full_name}",
            "default_branch": self.default_branch,
        }

    def _list_pulls(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        state = request.arg("state", "open")
        head = request.arg("head")
        found = [
            self._pull_json(pr)
            for pr in self.pulls.values()
            if (state == "all" or pr["state"] == state)
            and (head is None or f"{owner}:{pr['head']}" == head)
        ]
        return 200, found

    def _create_pull(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        body = request.body
        head_sha = self.branch_sha(body["head"])
        if head_sha is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head"}]}
        if any(pr["head"] == body["head"] and pr["state"] == "open" for pr in self.pulls.values()):
            return 422, {"message": f"A pull request already exists for {owner}:{body['head']}."}
        number = self._next_number()
        self.pulls[number] = {
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "head": body["head"],
            "base": body["base"],
            "draft": bool(body.get("draft")),
            "state": "open",
            "merged": False,
            "merged_at": None,
            "merge_commit_sha": None,
            "labels": [],
            "reviewers": [],
            "team_reviewers": [],
            "reviews": [],
        }
        return 201, self._pull_json(self.pulls[number])

    def _get_pull(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        pr = self.pulls.get(int(n))
        return (200, self._pull_json(pr)) if pr else (404, {"message": "Not Found"})

    def _edit_pull(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        pr = self.pulls[int(n)]
        for key in ("state", "title", "body"):
            if key in request.body:
                pr[key] = request.body[key]
        return 200, self._pull_json(pr)

    def _merge_pull(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        pr = self.pulls[int(n)]
        if pr["state"] != "open":
            return 405, {"message": "Pull Request is not mergeable"}
        sha = self.merge(int(n), (request.body or {}).get("commit_message") or pr["title"])
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def merge(self, number: int, message: str) -> str:
        """Merge a PR as GitHub's merge button does: a merge commit on the base branch."""
        pr = self.pulls[number]
        base_sha = self.git("rev-parse", f"refs/heads/{pr['base']}")
        head_sha = self.git("rev-parse", f"refs/heads/{pr['head']}")
        tree = self.git("merge-tree", "--write-tree", base_sha, head_sha).splitlines()[0]
        sha = self.git("commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", message)
        self.git("update-ref", f"refs/heads/{pr['base']}", sha, base_sha)
        pr |= {
            "state": "closed",
            "merged": True,
            "merge_commit_sha": sha,
            "merged_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return sha

    def _list_reviews(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        return 200, self.pulls[int(n)]["reviews"]

    def _create_review(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        pr = self.pulls[int(n)]
        event = request.body.get("event", "COMMENT")
        state = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(event, event)
        review = {"id": len(pr["reviews"]) + 1, "state": state, "body": request.body.get("body")}
        pr["reviews"].append(review)
        return 200, review

    def _request_review(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        pr = self.pulls[int(n)]
        pr["reviewers"] += request.body.get("reviewers", [])
        pr["team_reviewers"] += request.body.get("team_reviewers", [])
        return 201, self._pull_json(pr)

    def _add_labels(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        item = self.pulls.get(int(n)) or self.issues[int(n)]
        labels = request.body["labels"] if isinstance(request.body, dict) else request.body
        item["labels"] += [label for label in labels if label not in item["labels"]]
        return 200, [{"name": label} for label in item["labels"]]

    def _add_comment(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        self.comments.setdefault(int(n), []).append(request.body["body"])
        return 201, self._comment_json(int(n), len(self.comments[int(n)]))

    def _list_comments(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        count = len(self.comments.get(int(n), []))
        return 200, [self._comment_json(int(n), i) for i in range(1, count + 1)]

    def _comment_json(self, number: int, index: int) -> dict[str, Any]:
        return {
            "id": number * 1000 + index,
            "body": self.comments[number][index - 1],
            "url": f"{self._repo_url()}/issues/comments/{number * 1000 + index}",
        }

    def _next_number(self) -> int:
        return len(self.pulls) + len(self.issues) + 1

    def _create_issue(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        number = self._next_number()
        self.issues[number] = {
            "number": number,
            "title": request.body["title"],
            "body": request.body.get("body"),
            "labels": list(request.body.get("labels", [])),
            "state": "open",
        }
        return 201, self._issue_json(self.issues[number])

    def _list_issues(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        state = request.arg("state", "open")
        wanted = [x for x in (request.arg("labels") or "").split(",") if x]
        found = [
            self._issue_json(issue)
            for issue in self.issues.values()
            if (state == "all" or issue["state"] == state)
            and all(label in issue["labels"] for label in wanted)
        ]
        return 200, found

    def _get_issue(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        issue = self.issues.get(int(n))
        return (200, self._issue_json(issue)) if issue else (404, {"message": "Not Found"})

    def _edit_issue(self, request: Request, owner: str, name: str, n: str) -> tuple[int, Any]:
        issue = self.issues[int(n)]
        for key in ("state", "title", "body", "labels"):
            if key in request.body:
                issue[key] = request.body[key]
        return 200, self._issue_json(issue)

    def _issue_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        number = issue["number"]
        return {
            "id": 2000 + number,
            "number": number,
            "url": f"{self._repo_url()}/issues/{number}",
            "html_url": f"https://github.example/{self.full_name}/issues/{number}",
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "labels": [{"name": label} for label in issue["labels"]],
            "pull_request": None,
            "comments_url": f"{self._repo_url()}/issues/{number}/comments",
        }

    def _pull_json(self, pr: dict[str, Any]) -> dict[str, Any]:
        number = pr["number"]
        return {
            "id": 1000 + number,
            "number": number,
            "url": f"{self._repo_url()}/pulls/{number}",
            "issue_url": f"{self._repo_url()}/issues/{number}",
            "html_url": f"https://github.example/{self.full_name}/pull/{number}",
            "state": pr["state"],
            "draft": pr["draft"],
            "title": pr["title"],
            "body": pr["body"],
            "merged": pr["merged"],
            "merged_at": pr["merged_at"],
            "merge_commit_sha": pr["merge_commit_sha"],
            "labels": [{"name": label} for label in pr["labels"]],
            "requested_reviewers": [{"login": login} for login in pr["reviewers"]],
            "requested_teams": [{"slug": slug} for slug in pr["team_reviewers"]],
            "head": {"ref": pr["head"], "sha": self.branch_sha(pr["head"]) or ""},
            "base": {"ref": pr["base"], "sha": self.branch_sha(pr["base"]) or ""},
            "user": {"login": "fixloop-bot"},
        }

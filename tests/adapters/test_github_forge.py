"""GitHubForge through real PyGithub and git against a fake GitHub and a bare remote."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.errors import RepoError
from tests.support.github_setup import TOKEN, GitHubSetup, github_for
from tests.support.repo_builder import RepoBuilder, git
from tools.github_forge import _owners_of

CODEOWNERS = """\
# owners
*               @acme/platform
/app/           @alice
app/reports.py  @bob @acme/analytics
docs/           @carol
"""


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[GitHubSetup]:
    builder = RepoBuilder(tmp_path / "shop")
    builder.commit(
        {
            "app/reports.py": "def total(xs):\n    return sum(xs)\n",
            ".github/CODEOWNERS": CODEOWNERS,
        },
        "initial",
    )
    with github_for(builder.path, tmp_path / "origin.git") as github:
        yield github


def fix_commit(setup: GitHubSetup, text: str = "def total(xs):\n    return sum(xs or [])\n") -> str:
    """A commit on top of main that is not on any branch, as open_pr's commit_patch makes."""
    path = setup.repo.path
    git(path, "checkout", "--quiet", "--detach")
    (path / "app" / "reports.py").write_text(text)
    git(path, "commit", "--quiet", "-am", "fix: total of None")
    sha = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "--quiet", "main")
    return sha


def test_open_pr_pushes_the_branch_and_opens_a_labelled_draft_with_codeowners(
    setup: GitHubSetup,
) -> None:
    forge = setup.forge()
    head = fix_commit(setup)

    pr = forge.open_pr("fixloop/fx-1", head, "fix: total of None", "body")

    assert (pr.id, pr.status, pr.head_sha, pr.branch, pr.base) == (
        1,
        "open",
        head,
        "fixloop/fx-1",
        "main",
    )
    assert git(setup.bare, "rev-parse", "refs/heads/fixloop/fx-1") == head
    stored = setup.fake.pulls[1]
    assert stored["draft"] is True
    assert stored["labels"] == ["fixloop"]
    assert (stored["reviewers"], stored["team_reviewers"]) == (["bob"], ["analytics"])
    assert "+    return sum(xs or [])" in pr.diff
    assert pr.url == "https://github.example/acme/shop/pull/1"


def test_open_pr_twice_finds_the_first_and_foreign_branches_are_refused(
    setup: GitHubSetup,
) -> None:
    forge = setup.forge()
    head = fix_commit(setup)
    first = forge.open_pr("fixloop/fx-1", head, "t", "b")

    again = forge.open_pr("fixloop/fx-1", head, "t", "b")

    assert again.id == first.id
    assert len(setup.fake.pulls) == 1
    assert forge.find_pr("fixloop/fx-1") == first
    assert forge.find_pr("fixloop/fx-none") is None
    with pytest.raises(RepoError, match="fixloop owns"):
        forge.open_pr("main", head, "t", "b")


def test_a_moved_remote_branch_is_never_overwritten(setup: GitHubSetup) -> None:
    forge = setup.forge()
    elsewhere = fix_commit(setup, "def total(xs):\n    return 0\n")
    git(setup.repo.path, "push", "--quiet", str(setup.bare), f"{elsewhere}:refs/heads/fixloop/fx-2")
    head = fix_commit(setup)

    with pytest.raises(RepoError, match="git push to GitHub failed") as raised:
        forge.open_pr("fixloop/fx-2", head, "t", "b")

    assert git(setup.bare, "rev-parse", "refs/heads/fixloop/fx-2") == elsewhere
    assert TOKEN not in str(raised.value)
    assert setup.fake.pulls == {}


def test_a_merge_on_github_is_fetched_so_the_merge_commit_is_here(setup: GitHubSetup) -> None:
    forge = setup.forge()
    pr = forge.open_pr("fixloop/fx-1", fix_commit(setup), "t", "b")
    merge_sha = setup.fake.merge(pr.id, "Merge pull request #1")

    merged = forge.get_pr(pr.id)

    assert (merged.status, merged.merge_sha) == ("merged", merge_sha)
    assert merged.merged_at is not None
    assert git(setup.repo.path, "cat-file", "-t", merge_sha) == "commit"
    with pytest.raises(RepoError, match="not open"):
        forge.merge(pr.id, "again")


def test_approve_merge_and_close_through_the_api(setup: GitHubSetup) -> None:
    forge = setup.forge(labels=[])
    one = forge.open_pr("fixloop/fx-1", fix_commit(setup), "one", "b")
    two = forge.open_pr("fixloop/fx-2", fix_commit(setup, "x = 1\n"), "two", "b")

    assert forge.approve(one.id, "looks right").status == "approved"
    merged = forge.merge(one.id, "ship it")
    closed = forge.close_pr(two.id, "not this way")

    assert merged.status == "merged"
    assert git(setup.bare, "rev-parse", "refs/heads/main") == merged.merge_sha
    assert closed.status == "closed"
    assert setup.fake.comments[two.id] == ["not this way"]
    assert setup.fake.pulls[one.id]["labels"] == []


def test_prs_from_branches_fixloop_did_not_create_are_not_touched(setup: GitHubSetup) -> None:
    forge = setup.forge()
    git(setup.bare, "branch", "feature/x", "main")
    setup.fake.pulls[1] = {
        "number": 1,
        "title": "human work",
        "body": "",
        "head": "feature/x",
        "base": "main",
        "draft": False,
        "state": "open",
        "merged": False,
        "merged_at": None,
        "merge_commit_sha": None,
        "labels": [],
        "reviewers": [],
        "team_reviewers": [],
        "reviews": [],
    }

    with pytest.raises(RepoError, match="not a fixloop branch"):
        forge.close_pr(1, "no")
    assert setup.fake.pulls[1]["state"] == "open"


def test_pr_counts_are_the_forges_fixloop_prs(setup: GitHubSetup) -> None:
    forge = setup.forge(labels=[])
    one = forge.open_pr("fixloop/fx-1", fix_commit(setup), "one", "b")
    forge.open_pr("fixloop/fx-2", fix_commit(setup, "x = 1\n"), "two", "b")
    git(setup.bare, "branch", "feature/x", "main")
    human = dict(setup.fake.pulls[one.id], number=9, head="feature/x")
    setup.fake.pulls[9] = human
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert forge.bot_pr_counts(midnight) == (2, 2)

    setup.fake.pulls[one.id]["state"] = "closed"  # closed by hand on GitHub
    assert forge.bot_pr_counts(midnight) == (1, 2)


def test_codeowners_last_matching_rule_wins() -> None:
    assert _owners_of(CODEOWNERS, "app/reports.py") == ["bob", "acme/analytics"]
    assert _owners_of(CODEOWNERS, "app/web.py") == ["alice"]
    assert _owners_of(CODEOWNERS, "lib/app/web.py") == ["acme/platform"]
    assert _owners_of(CODEOWNERS, "docs/x.md") == ["carol"]
    assert _owners_of("", "a.py") == []

from pathlib import Path

import pytest

from agent.domain import FileChange
from agent.errors import RepoError
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder, git
from tools.git_repo import GitRepo
from tools.local_forge import LocalForge
from tools.store.database import Database


@pytest.fixture
def setup(tmp_path: Path, records_db: Database) -> tuple[GitRepo, LocalForge, str]:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"app.py": "def f():\n    return 1\n"}, "initial")
    repo = GitRepo(builder.path)
    patch = make_patch(
        "templates",
        "return 2",
        "why",
        [
            FileChange(
                path="app.py", before="def f():\n    return 1\n", after="def f():\n    return 2\n"
            )
        ],
    )
    head = repo.commit_patch(repo.head("main"), patch, "fix: return 2")
    return repo, LocalForge(records_db, repo, "main"), head


def test_pr_is_found_by_branch_never_made_twice(setup: tuple[GitRepo, LocalForge, str]) -> None:
    repo, forge, head = setup
    pr = forge.open_pr("fixloop/fx-1", head, "fix: return 2", "body")
    again = forge.open_pr("fixloop/fx-1", head, "fix: return 2", "body")
    assert pr == again
    assert pr.status == "open" and pr.base == "main" and pr.head_sha == head
    assert repo.head("fixloop/fx-1") == head
    assert "+    return 2" in pr.diff and "-    return 1" in pr.diff
    assert forge.find_pr("fixloop/other") is None


def test_refuses_branches_fixloop_does_not_own(setup: tuple[GitRepo, LocalForge, str]) -> None:
    _, forge, head = setup
    with pytest.raises(RepoError):
        forge.open_pr("main", head, "t", "b")


def test_merge_makes_a_merge_commit_on_the_base(setup: tuple[GitRepo, LocalForge, str]) -> None:
    repo, forge, head = setup
    before = repo.head("main")
    pr = forge.open_pr("fixloop/fx-1", head, "fix: return 2", "body")
    merged = forge.merge(pr.id, "lgtm")
    assert merged.status == "merged" and merged.merged_at is not None
    assert merged.merge_sha == repo.head("main")
    assert (repo.path / "app.py").read_text().endswith("return 2\n")
    parents = git(repo.path, "rev-list", "--parents", "-n1", "main").split()
    assert parents[1:] == [before, head]
    with pytest.raises(RepoError):
        forge.merge(pr.id, "again")
    assert [r["action"] for r in forge.reviews(pr.id)] == ["merge"]


def test_reject_closes_and_keeps_the_branch(setup: tuple[GitRepo, LocalForge, str]) -> None:
    repo, forge, head = setup
    pr = forge.open_pr("fixloop/fx-1", head, "fix: return 2", "body")
    assert forge.approve(pr.id, "ok").status == "approved"
    closed = forge.close_pr(pr.id, "wrong fix")
    assert closed.status == "closed"
    assert repo.branch_exists("fixloop/fx-1")
    assert forge.reviews(pr.id)[-1] == {
        "action": "reject",
        "comment": "wrong fix",
        "at": forge.reviews(pr.id)[-1]["at"],
    }


def test_a_pr_from_a_detached_head_has_its_commit_as_base_and_is_merged_by_hand(
    setup: tuple[GitRepo, LocalForge, str], tmp_path: Path
) -> None:
    repo, _, head = setup
    base = repo.head("main")
    forge = LocalForge(tmp_path / "detached.db", repo, base)
    pr = forge.open_pr("fixloop/fx-9", head, "fix: return 2", "body")
    assert (pr.base, pr.head_sha) == (base, head)
    assert "+    return 2" in pr.diff
    with pytest.raises(RepoError, match=r"not a branch .*merge it by hand"):
        forge.merge(pr.id, "ok")
    assert repo.head("main") == base

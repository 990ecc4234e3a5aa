"""GitRepo against real repositories in temp dirs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from git import Git

from agent.domain import FileChange
from agent.errors import RepoError
from agent.repair.diffs import make_patch
from tests.support.repo_builder import RepoBuilder, git
from tools.git_repo import GitRepo


@pytest.fixture
def built(tmp_path: Path) -> tuple[RepoBuilder, list[str]]:
    builder = RepoBuilder(tmp_path / "repo")
    shas = [
        builder.commit({"app/cart.py": "a = 1\nb = 2\n", "README.md": "hi\n"}, "Initial commit"),
        builder.commit({"app/cart.py": "a = 1\nb = 3\nc = 4\n"}, "Change b (#12)", author="Ann"),
    ]
    return builder, shas


def test_head_branch_files_and_read(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    assert repo.head() == shas[1]
    assert repo.head("HEAD~1") == shas[0]
    assert repo.default_branch() == "main"
    assert repo.tracked_files(shas[0]) == ["README.md", "app/cart.py"]
    assert repo.read(shas[0], "app/cart.py") == "a = 1\nb = 2\n"
    assert repo.read("HEAD", "missing.py") is None
    assert repo.blob_id("HEAD", "README.md") == git(builder.path, "rev-parse", "HEAD:README.md")
    with pytest.raises(RepoError, match="unknown revision"):
        repo.head("no-such-branch")


def test_a_commit_blob_and_blame_are_read_from_git_once(
    built: tuple[RepoBuilder, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    commands: list[str] = []
    execute = Git.execute

    def counted(self: Git, command: list[str], **kwargs: Any) -> Any:
        commands.append(command[1])
        return execute(self, command, **kwargs)

    monkeypatch.setattr(Git, "execute", counted)
    for _ in range(3):  # a recursion's thousand frames ask the same questions again and again
        assert repo.head(shas[1]) == shas[1]
        assert repo.read(shas[1], "app/cart.py") == "a = 1\nb = 3\nc = 4\n"
        assert [b.sha for b in repo.blame(shas[1], "app/cart.py", 2, 2)] == [shas[1]]
    assert sorted(commands) == ["blame", "cat-file", "ls-tree", "rev-parse"]
    assert repo.head("HEAD") == shas[1], "a branch name is resolved every time"
    assert commands.count("rev-parse") == 2


def test_a_detached_head_is_the_commit_checked_out(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    assert (repo.default_branch(), repo.is_shallow()) == ("main", False)
    git(builder.path, "checkout", "--quiet", "--detach", shas[0])
    assert repo.default_branch() == shas[0]


def test_find_line_names_each_python_file_and_line_holding_it(
    built: tuple[RepoBuilder, list[str]],
) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    assert repo.find_line(shas[1], "b = 3") == [("app/cart.py", 2)]
    assert repo.find_line(shas[1], "  b = 3  ") == [("app/cart.py", 2)]
    assert repo.find_line(shas[1], "b =") == []  # part of a line is not the line
    assert repo.find_line(shas[0], "no such line") == []


def test_blame_names_the_commit_that_last_touched_each_line(
    built: tuple[RepoBuilder, list[str]],
) -> None:
    builder, shas = built
    lines = GitRepo(builder.path).blame("HEAD", "app/cart.py", 1, 3)
    assert [(b.line, b.sha) for b in lines] == [(1, shas[0]), (2, shas[1]), (3, shas[1])]
    assert lines[1].summary == "Change b (#12)"
    assert lines[1].author == "Ann"
    assert lines[0].author == "Test Author"
    assert lines[1].date > lines[0].date
    assert [b.line for b in GitRepo(builder.path).blame("HEAD", "app/cart.py", 2, 2)] == [2]


def test_worktrees_are_detached_and_survive_stale_leftovers(
    built: tuple[RepoBuilder, list[str]], tmp_path: Path
) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    where = tmp_path / "wt" / "one"
    assert repo.add_worktree(where, shas[0]) == where
    assert (where / "app/cart.py").read_text() == "a = 1\nb = 2\n"
    assert git(where, "rev-parse", "HEAD") == shas[0]
    assert git(where, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached

    # A crashed run deleted the directory but left the registration behind.
    shutil.rmtree(where)
    assert repo.add_worktree(where, shas[1]) == where
    assert git(where, "rev-parse", "HEAD") == shas[1]

    # A crashed run left the whole worktree, with changes in it.
    (where / "app/cart.py").write_text("garbage\n")
    repo.add_worktree(where, shas[0])
    assert (where / "app/cart.py").read_text() == "a = 1\nb = 2\n"

    repo.remove_worktree(where)
    assert not where.exists()
    assert str(where) not in git(builder.path, "worktree", "list")
    assert repo.default_branch() == "main"


def test_worktrees_never_delete_a_directory_that_is_not_one(
    built: tuple[RepoBuilder, list[str]], tmp_path: Path
) -> None:
    builder, _ = built
    repo = GitRepo(builder.path)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me\n")
    with pytest.raises(RepoError, match="not a git worktree"):
        repo.add_worktree(precious, "HEAD")
    with pytest.raises(RepoError, match="main worktree"):
        repo.remove_worktree(builder.path)
    assert (precious / "notes.txt").read_text() == "keep me\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (repo.add_worktree(empty, "HEAD") / "README.md").exists()


def test_commit_patch_leaves_checkout_and_index_untouched(
    built: tuple[RepoBuilder, list[str]],
) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    (builder.path / "README.md").write_text("local edit\n")
    git(builder.path, "add", "README.md")
    (builder.path / "app/cart.py").write_text("unstaged edit\n")
    status_before = git(builder.path, "status", "--porcelain")
    index_before = git(builder.path, "ls-files", "--stage")

    patch = make_patch(
        "test",
        "fix",
        "because",
        [
            FileChange(path="app/cart.py", before="a = 1\nb = 3\nc = 4\n", after="a = 1\n"),
            FileChange(path="README.md", before="hi\n", after=""),
            FileChange(path="app/new.py", before="", after="x = 1\n"),
        ],
    )
    sha = repo.commit_patch("HEAD", patch, "fixloop: fix the cart")

    assert git(builder.path, "status", "--porcelain") == status_before
    assert git(builder.path, "ls-files", "--stage") == index_before
    assert repo.head() == shas[1]
    assert repo.tracked_files(sha) == ["app/cart.py", "app/new.py"]
    assert repo.read(sha, "app/cart.py") == "a = 1\n"
    assert repo.read(sha, "app/new.py") == "x = 1\n"
    assert git(builder.path, "log", "-1", "--format=%P|%an <%ae>|%cn|%s", sha) == (
        f"{shas[1]}|fixloop <fixloop@localhost>|fixloop|fixloop: fix the cart"
    )
    diff = repo.diff(shas[1], sha)
    assert "-b = 3" in diff
    assert "deleted file mode" in diff
    assert "+x = 1" in diff


def test_commit_patch_refuses_paths_outside_the_repo(
    built: tuple[RepoBuilder, list[str]],
) -> None:
    builder, _ = built
    patch = make_patch("t", "t", "t", [FileChange(path="../evil.py", before="", after="x\n")])
    with pytest.raises(RepoError, match="outside"):
        GitRepo(builder.path).commit_patch("HEAD", patch, "nope")


def test_set_branch_moves_only_fixloop_branches(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    assert not repo.branch_exists("fixloop/inc-1")
    repo.set_branch("fixloop/inc-1", shas[0])
    assert repo.branch_exists("fixloop/inc-1")
    repo.set_branch("fixloop/inc-1", shas[1])
    assert repo.head("fixloop/inc-1") == shas[1]

    repo.set_branch("feature", shas[0])
    repo.set_branch("feature", shas[0])
    with pytest.raises(RepoError, match="refusing to move branch feature"):
        repo.set_branch("feature", shas[1])
    with pytest.raises(RepoError, match="refusing to move branch main"):
        repo.set_branch("main", shas[0])
    assert repo.head("main") == shas[1]


def _fix_branch(repo: GitRepo, base: str) -> str:
    patch = make_patch(
        "t", "t", "t", [FileChange(path="app/fix.py", before="", after="fixed = True\n")]
    )
    sha = repo.commit_patch(base, patch, "fixloop: fix")
    repo.set_branch("fixloop/inc-1", sha)
    return sha


def test_merge_into_the_checked_out_branch(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    fix = _fix_branch(repo, shas[1])
    merged = repo.merge("fixloop/inc-1", "main", "Merge fixloop/inc-1")
    assert repo.head("main") == merged
    assert git(builder.path, "log", "-1", "--format=%P|%s", merged) == (
        f"{shas[1]} {fix}|Merge fixloop/inc-1"
    )
    assert (builder.path / "app/fix.py").read_text() == "fixed = True\n"
    assert repo.is_clean()
    assert repo.merge("fixloop/inc-1", "main", "again") == merged


def test_merge_into_a_branch_that_is_not_checked_out(
    built: tuple[RepoBuilder, list[str]],
) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    git(builder.path, "branch", "release", shas[0])
    fix = _fix_branch(repo, shas[0])
    (builder.path / "README.md").write_text("dirty, but not the target\n")

    merged = repo.merge("fixloop/inc-1", "release", "Merge into release")
    assert repo.head("release") == merged
    assert git(builder.path, "log", "-1", "--format=%P|%an", merged) == f"{shas[0]} {fix}|fixloop"
    assert repo.read(merged, "app/fix.py") == "fixed = True\n"
    assert repo.head("main") == shas[1]
    assert (builder.path / "README.md").read_text() == "dirty, but not the target\n"


def test_merge_refuses_a_dirty_checkout(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    _fix_branch(repo, shas[1])
    (builder.path / "README.md").write_text("uncommitted\n")
    assert not repo.is_clean()
    with pytest.raises(RepoError, match="has changes"):
        repo.merge("fixloop/inc-1", "main", "Merge")
    assert repo.head("main") == shas[1]
    assert (builder.path / "README.md").read_text() == "uncommitted\n"


def test_merge_conflict_is_a_clean_error(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    patch = make_patch(
        "t", "t", "t", [FileChange(path="app/cart.py", before="", after="conflict\n")]
    )
    repo.set_branch("fixloop/inc-2", repo.commit_patch(shas[0], patch, "conflicting"))
    git(builder.path, "branch", "release", shas[1])
    with pytest.raises(RepoError, match="merge conflict"):
        repo.merge("fixloop/inc-2", "release", "Merge")
    with pytest.raises(RepoError, match="merge conflict"):
        repo.merge("fixloop/inc-2", "main", "Merge")
    assert repo.is_clean()
    assert repo.head("main") == shas[1]


def test_log_lists_commits_newest_first(built: tuple[RepoBuilder, list[str]]) -> None:
    builder, shas = built
    repo = GitRepo(builder.path)
    log = repo.log("HEAD")
    assert [c.sha for c in log] == [shas[1], shas[0]]
    assert log[0].parents == (shas[0],)
    assert log[1].parents == ()
    assert log[0].summary == "Change b (#12)"
    assert log[0].author == "Ann"
    assert [c.sha for c in repo.log("HEAD", path="README.md")] == [shas[0]]
    assert len(repo.log("HEAD", max_count=1)) == 1


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(RepoError, match="not a git repository"):
        GitRepo(tmp_path)


ADD_AND_DIE = """
import os, signal, sys
from pathlib import Path
from tools.git_repo import GitRepo
GitRepo(Path(sys.argv[1])).add_worktree(Path(sys.argv[2]), "HEAD")
print("added", flush=True)
if sys.argv[3] == "die":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()
"""


def add_in_another_process(repo: Path, where: Path, fate: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", ADD_AND_DIE, str(repo), str(where), fate],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline() == "added\n"
    return process


def test_the_next_run_removes_worktrees_a_killed_run_left_behind(
    built: tuple[RepoBuilder, list[str]], tmp_path: Path
) -> None:
    builder, _ = built
    dead, alive, mine = tmp_path / "dead", tmp_path / "alive", tmp_path / "mine"
    add_in_another_process(builder.path, dead, "die").wait()
    assert dead.exists() and str(dead) in git(builder.path, "worktree", "list")
    running = add_in_another_process(builder.path, alive, "live")  # the next run
    try:
        assert not dead.exists() and str(dead) not in git(builder.path, "worktree", "list")
        repo = GitRepo(builder.path)
        repo.add_worktree(mine, "HEAD")
        assert alive.exists() and str(alive) in git(builder.path, "worktree", "list")
        assert repo.remove_dead_worktrees() == []
        assert mine.exists()
    finally:
        running.communicate("")
    assert GitRepo(builder.path).remove_dead_worktrees() == [alive]
    assert not alive.exists()

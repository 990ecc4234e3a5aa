"""The command line as a user meets it: clear one-line errors, nothing written on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import fixloop
from tests.support.repo_builder import RepoBuilder, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"app.py": "def f():\n    return 1\n"}, "initial")
    return builder.path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"event_id": "abc", "exception": {"values": [{"type": "KeyErr', "truncated"),
        ("this is not json", "not valid JSON"),
        ("", "empty"),
        ("[1, 2, 3]", "expected a JSON object"),
        ('{"hello": "world"}', "unrecognised"),
        ('{"kind": "test_failure", "tests": []}', "tests"),
    ],
)
def test_a_broken_event_file_exits_with_one_line_and_writes_nothing(
    tmp_path: Path, repo: Path, content: str, reason: str
) -> None:
    event = tmp_path / "event.json"
    event.write_text(content)
    home = tmp_path / "state"

    result = fixloop(home, "run", "--repo", str(repo), "--event", str(event))

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fixloop: ")
    assert reason.lower() in lines[0].lower()
    assert not home.exists()
    assert git(repo, "for-each-ref", "refs/heads/fixloop") == ""


def test_a_missing_event_file_is_named(tmp_path: Path, repo: Path) -> None:
    result = fixloop(tmp_path / "s", "run", "--repo", str(repo), "--event", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "no such file" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_a_repo_that_is_not_git_is_refused(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"kind": "test_failure", "tests": ["tests/test_a.py::test_a"]}')
    result = fixloop(tmp_path / "s", "run", "--repo", str(tmp_path), "--event", str(event))
    assert result.returncode == 2
    assert result.stderr.strip() == f"fixloop: {tmp_path} is not a git repository"


def test_unknown_runs_and_prs_are_clear_errors(tmp_path: Path) -> None:
    status = fixloop(tmp_path / "s", "status", "fx-000000000000")
    review = fixloop(tmp_path / "s", "review", "7", "--merge")
    resume = fixloop(tmp_path / "s", "resume", "fx-000000000000")
    assert (status.returncode, review.returncode, resume.returncode) == (2, 2, 2)
    assert "no run for incident fx-000000000000" in status.stderr
    assert "PR #7" in review.stderr
    assert "Traceback" not in status.stderr + review.stderr + resume.stderr


def test_status_with_no_runs(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "s", "status")
    assert result.returncode == 0
    assert result.stdout.startswith("no runs in ")


def test_review_needs_exactly_one_action(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "s", "review", "1", "--merge", "--reject")
    assert result.returncode == 2
    assert "not allowed with" in result.stderr


def test_graph_prints_mermaid_with_every_node(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "s", "graph")
    assert result.returncode == 0
    assert result.stdout.startswith("---") or "graph TD" in result.stdout
    for node in ("detect", "ticket", "root_cause", "fix", "test", "open_pr", "await_review"):
        assert node in result.stdout
    for node in ("find_release", "await_release", "verify", "close", "escalate", "reject"):
        assert node in result.stdout


def test_verify_pending_with_no_run_waiting_says_so(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "s", "verify-pending")
    assert (result.returncode, result.stdout) == (0, "no run is waiting for a release\n")


def test_a_bad_setting_is_one_line(tmp_path: Path, repo: Path) -> None:
    (tmp_path / "fixloop.toml").write_text('sandbox = "docker"\n')
    result = fixloop(tmp_path / "s", "status", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("fixloop: bad setting sandbox:")


def test_a_database_url_that_is_not_postgresql_is_one_line(tmp_path: Path) -> None:
    result = fixloop(tmp_path / "s", "status", database_url="mysql://db/fixloop")
    assert result.returncode == 2
    assert result.stderr.startswith("fixloop: bad setting database_url: only PostgreSQL")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", [["status"], ["verify-pending"]])
def test_a_database_that_cannot_be_opened_is_one_line_without_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    url = "postgresql://fixloop:hunter2@127.0.0.1:5432/no_such_database_here"
    result = fixloop(tmp_path / "s", *command, database_url=url)
    assert result.returncode == 2
    assert result.stderr.startswith("fixloop: cannot open the ")
    assert "no_such_database_here" in result.stderr and "hunter2" not in result.stderr
    assert len(result.stderr.splitlines()) == 1

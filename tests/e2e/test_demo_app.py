"""The demo's sample service: git history with the bug commit, a passing suite, a real crash."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from agent.demo import BUG_COMMIT_MESSAGE, build_demo_repo, trigger_incident
from agent.demo.sample_repo import BUGGY_AVERAGE_BASKET, GUARDED_AVERAGE_BASKET
from agent.errors import AdapterError, ConfigError
from agent.intake.payloads import load_event_file, parse_payload
from tests.support.paths import FIXTURES
from tools.error_store import LocalErrorStore
from tools.sentry_intake import SentryIntakeServer


@pytest.fixture(scope="module")
def repo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_repo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def repo(repo_path: Path) -> Iterator[git.Repo]:
    with git.Repo(repo_path) as handle:
        yield handle


def test_history_has_the_bug_commit_and_a_later_unrelated_one(repo: git.Repo) -> None:
    commits = list(repo.iter_commits("main", reverse=True))
    messages = [commit.summary for commit in commits]

    assert len(commits) == 5
    assert repo.active_branch.name == "main"
    bug_index = messages.index(BUG_COMMIT_MESSAGE)
    assert bug_index == 3
    bug = commits[bug_index]
    assert list(bug.stats.files) == ["app/reports.py"]
    before = (bug.parents[0].tree / "app/reports.py").data_stream.read().decode()
    after = (bug.tree / "app/reports.py").data_stream.read().decode()
    assert GUARDED_AVERAGE_BASKET in before
    assert "    if not orders:\n        return 0.0\n" in before
    assert BUGGY_AVERAGE_BASKET in after
    assert "if not orders" not in after
    later = commits[bug_index + 1 :]
    assert later and all("app/reports.py" not in commit.stats.files for commit in later)
    assert {commit.author.name for commit in commits} == {"Ana Lima", "Ben Okafor", "Chris Novak"}
    assert not repo.is_dirty(untracked_files=True)
    with repo.config_reader("repository") as config:
        assert config.get_value("user", "email") == "dev@shop.example"


def test_build_is_deterministic(repo: git.Repo, tmp_path: Path) -> None:
    again = build_demo_repo(tmp_path)

    with git.Repo(again) as rebuilt:
        assert rebuilt.head.commit.hexsha == repo.head.commit.hexsha


def test_build_refuses_an_existing_directory(repo_path: Path) -> None:
    with pytest.raises(ConfigError, match="exists already"):
        build_demo_repo(repo_path.parent)


def test_sample_suite_passes_on_head(repo_path: Path, repo: git.Repo) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "16 passed" in result.stdout
    assert not repo.is_dirty(untracked_files=True)


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[SentryIntakeServer, LocalErrorStore]]:
    store = LocalErrorStore(tmp_path / "errors.db")
    with SentryIntakeServer(store, parse_payload) as server:
        yield server, store


def test_trigger_incident_delivers_a_real_zero_division_event(
    repo_path: Path, repo: git.Repo, intake: tuple[SentryIntakeServer, LocalErrorStore]
) -> None:
    server, store = intake

    event_id = trigger_incident(
        repo_path,
        server.dsn(project_id="4504"),
        timeout=60,
        delivered=lambda eid: store.get(eid) is not None,
    )

    payload = store.get(event_id)
    assert payload is not None
    incident = parse_payload(payload)
    assert incident.event_id == event_id
    assert incident.release == repo.head.commit.hexsha
    assert incident.environment == "demo"
    assert incident.project == "4504"
    assert incident.title == (
        "ZeroDivisionError: division by zero in average_basket (app/reports.py)"
    )
    assert incident.crash is not None and incident.crash.type == "ZeroDivisionError"
    crash_frame = incident.crash.frames[-1]
    assert crash_frame.function == "average_basket"
    assert crash_frame.filename == "app/reports.py"
    assert crash_frame.module == "app.reports"
    assert crash_frame.context_line == "    return total / len(orders)"
    assert crash_frame.in_app is True
    assert crash_frame.vars["orders"] == []
    handler_frame = incident.crash.frames[-2]
    assert handler_frame.function == "merchant_summary"
    assert handler_frame.vars["merchant_id"] == "'m-404'"
    assert not repo.is_dirty(untracked_files=True)

    production, _ = load_event_file(FIXTURES / "sentry_webhook_event_alert.json")
    assert incident.fingerprint == production.fingerprint, "same bug, same project"


def test_trigger_incident_reports_a_dsn_nobody_listens_on(repo_path: Path, tmp_path: Path) -> None:
    store = LocalErrorStore(tmp_path / "errors.db")
    closed = SentryIntakeServer(store, parse_payload)
    dsn = closed.dsn()
    closed.stop()

    with pytest.raises(AdapterError, match="did not reach the intake"):
        trigger_incident(
            repo_path, dsn, timeout=4, delivered=lambda eid: store.get(eid) is not None
        )


def test_trigger_incident_explains_a_service_that_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a git repository"):
        trigger_incident(tmp_path, "http://k@127.0.0.1:9/1", delivered=lambda eid: False)

    with git.Repo.init(tmp_path) as empty:
        empty.index.commit("empty", author=git.Actor("A", "a@x"), committer=git.Actor("A", "a@x"))
    with pytest.raises(AdapterError, match=r"did not report its port: it exited .*serve\.py"):
        trigger_incident(tmp_path, "http://k@127.0.0.1:9/1", delivered=lambda eid: False)

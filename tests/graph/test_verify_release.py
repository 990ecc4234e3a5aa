"""Verify's parts on their own: the release that contains a merge commit, the event rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.domain import Incident, Release
from agent.nodes.find_release import release_with
from agent.nodes.verify import event_rates
from tests.support.repo_builder import RepoBuilder, git
from tools.error_store import LocalErrorStore
from tools.git_repo import GitRepo

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _repo(tmp_path: Path) -> tuple[GitRepo, str, str, str]:
    builder = RepoBuilder(tmp_path / "repo")
    old = builder.commit({"app.py": "x = 1\n"}, "first")
    git(builder.path, "tag", "v1.0")
    merge = builder.commit({"app.py": "x = 2\n"}, "the fix")
    later = builder.commit({"app.py": "x = 3\n"}, "after the fix")
    git(builder.path, "tag", "v1.1")
    return GitRepo(builder.path), old, merge, later


def test_the_release_with_the_merge_is_found_by_version_build_or_commit(tmp_path: Path) -> None:
    repo, old, merge, later = _repo(tmp_path)

    def seen(version: str, minutes: int, commit: str | None = None) -> Release:
        return Release(version=version, commit=commit, first_seen=NOW + timedelta(minutes=minutes))

    before_fix = [seen("shop@1.0", 0), seen(f"shop@0.9+{old[:12]}", 1), seen("unknown-9", 2)]
    assert release_with(repo, before_fix, merge) is None
    assert release_with(repo, [*before_fix, seen("shop@1.1", 5)], merge) == seen("shop@1.1", 5)
    by_build = seen(f"shop@2.0+{merge[:12]}", 3)
    assert release_with(repo, [seen("shop@1.1", 5), by_build], merge) == by_build
    by_commit = seen("2026.11.24-build-7", 4, commit=later)
    assert release_with(repo, [by_commit], merge) == by_commit
    assert release_with(repo, [seen("2026.11.24-build-7", 4, commit=old)], merge) is None


def _event(store: LocalErrorStore, at: datetime, n: int) -> None:
    incident = Incident(
        id=f"fx-{n}", source="sentry_event", fingerprint="fp", title="boom", received_at=at
    )
    store.record(incident.model_copy(update={"event_id": f"{n:032x}"}), {})


def test_rates_compare_the_release_window_with_as_long_before_the_merge(tmp_path: Path) -> None:
    store = LocalErrorStore(tmp_path / "errors.db")
    merged = NOW - timedelta(hours=3)
    released = NOW - timedelta(hours=2)
    for n, minutes_before_now in enumerate([300, 250, 200, 179, 150, 130, 60]):
        _event(store, NOW - timedelta(minutes=minutes_before_now), n)

    after_release = event_rates(
        store, "fp", merged, Release(version="v2", first_seen=released), NOW, 1.0
    )
    assert (after_release.after_since, after_release.after_hours) == (released, 2.0)
    assert (after_release.events_before, after_release.before_hours) == (3, 2.0)
    assert (after_release.new_events, after_release.rate_after) == (1, 0.5)
    assert after_release.rate_before == 1.5, "the 3 events 5 to 3 hours ago"

    since_merge = event_rates(store, "fp", merged, None, NOW, 1.0)
    assert (since_merge.after_since, since_merge.new_events, since_merge.rate_after) == (
        merged,
        4,
        4 / 3,
    )
    assert (since_merge.before_hours, since_merge.events_before) == (3.0, 3)

    at_once = event_rates(store, "fp", NOW, None, NOW, 1.0)
    assert (at_once.before_hours, at_once.events_before, at_once.new_events) == (1.0, 1, 0)

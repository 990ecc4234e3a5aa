"""find_release: after the merge, has a release that contains the merge commit been seen?

Reads only (the forge, the error source's releases, git), so it is safe to re-run at every
check. Decides when such a release is seen or when `verify_window` after the merge has passed;
otherwise the run waits in `await_release` as `waiting_for_release`, with the deadline in state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.diagnosis.frames import resolve_release
from agent.domain import Incident, PullRequest, Release, aware, utcnow
from agent.nodes import audit
from agent.ports import Repo
from agent.state import State

SKEW = timedelta(minutes=10)
"""Releases first seen more than this before the merge cannot contain it (clocks disagree a
little); they are not resolved in git at every check."""


def find_release(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    pr = deps.forge.get_pr(PullRequest.model_validate(state["pr"]).id)
    if pr.merge_sha is None or pr.merged_at is None:
        unmerged = {"done": True, "release": None, "deadline": None, "why": "not merged"}
        return {"pr": pr.model_dump(mode="json"), "release_wait": unmerged}
    window = deps.settings.verify_window
    merged_at = aware(pr.merged_at)
    deadline = merged_at + timedelta(seconds=window)
    since_merge = [
        r for r in deps.errors.releases(incident.project) if aware(r.first_seen) >= merged_at - SKEW
    ]
    release = release_with(deps.repo, since_merge, pr.merge_sha)
    sha = pr.merge_sha[:10]
    done = release is not None or utcnow() >= deadline
    if not done:
        why = f"waiting until {deadline:%Y-%m-%d %H:%M:%S} UTC for a release containing {sha}"
    elif release is not None:
        seen = f"{release.first_seen:%Y-%m-%d %H:%M:%S} UTC"
        why = f"release {release.version} contains {sha}; first seen {seen}"
    elif window > 0:
        why = f"no release containing {sha} was seen in the {window:g} s after the merge"
    else:
        why = f"no release containing {sha} seen yet; not waiting for one (verify_window is 0)"
    wait: dict[str, Any] = {
        "done": done,
        "release": release.model_dump(mode="json") if release else None,
        "deadline": deadline.isoformat(),
        "why": why,
    }
    update: State = {"pr": pr.model_dump(mode="json"), "release_wait": wait}
    first_wait = not done and state.get("status") != "waiting_for_release"
    if done or first_wait:
        update["audit"] = audit(
            "find_release",
            f"PR #{pr.id} merged as {sha}",
            "verify" if done else "wait for the release",
            why,
            release=release.version if release else None,
            deadline=wait["deadline"],
        )
    update["status"] = "running" if done else "waiting_for_release"
    return update


def release_with(repo: Repo, releases: Sequence[Release], merge_sha: str) -> Release | None:
    """The first-seen release whose commit has `merge_sha` as an ancestor, or None."""
    for release in sorted(releases, key=lambda r: r.first_seen):
        mapping = {release.version: release.commit} if release.commit else None
        resolved = resolve_release(release.version, repo.resolve, mapping)
        if resolved is not None and repo.is_ancestor(merge_sha, resolved[0]):
            return release
    return None

"""A red CI run on a base branch, as GitHub reports it: `workflow_run` and `check_suite` webhooks.

Pure functions over the parsed body and the settings; nothing here stores, runs or calls
anything. A body that is not one of the two shapes raises `IntakeError` (the server answers 400).
A well-formed run fixloop does not act on (still running, not a failure, another branch, a
repository it does not serve) is named by `CiRun.ignored` or by the routing, never an error.

One red commit is one incident, whichever event told of it: `CiRun.dedup_key` is the repository
and the commit, so a redelivery, a re-run, or a `check_suite` after a `workflow_run` of the same
commit is recognised as the same.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from agent.domain import Incident
from agent.errors import IntakeError
from agent.intake.payloads import incident_id
from agent.settings import Settings

CI_EVENTS = ("workflow_run", "check_suite")
_SHA = re.compile(r"[0-9a-f]{40}")


class CiRun(BaseModel):
    """One finished (or not) CI run of one commit, from either webhook."""

    event: Literal["workflow_run", "check_suite"]
    action: str
    repository: str
    """GitHub's `owner/name` of the repository the run belongs to."""
    head_sha: str
    head_branch: str | None
    conclusion: str | None
    name: str
    """The workflow's name, or the check suite's app."""
    url: str | None = None
    from_fork: bool = False
    """The run is of a branch in another repository (a fork's pull request)."""

    @property
    def dedup_key(self) -> str:
        return f"ci:{self.repository.lower()}@{self.head_sha}"

    def ignored(self) -> str | None:
        """Why this run is no incident whatever the settings, or None when it may be one."""
        if self.action != "completed":
            return f"{self.event} action {self.action!r}: only 'completed' runs are read"
        if self.conclusion != "failure":
            return f"{self.event} conclusion {self.conclusion!r}: only 'failure' is read"
        if self.from_fork:
            return f"{self.event} of a branch in another repository than {self.repository}"
        return None

    def as_incident(self) -> Incident:
        """The incident this red commit is, before its failing tests are known."""
        digest = hashlib.sha256(self.dedup_key.encode()).hexdigest()
        return Incident(
            id=incident_id(None, digest),
            source="test_failure",
            fingerprint=digest,
            title=f"CI failed on {self.head_branch} at {self.head_sha[:10]}: {self.name}"[:200],
            project=self.repository,
            tags={"ci_event": self.event, "ci_commit": self.head_sha},
        )


def github_ci_run(event: str, payload: dict[str, Any]) -> CiRun:
    """The run a `workflow_run` or `check_suite` webhook is about."""
    if event not in CI_EVENTS:
        raise IntakeError(f"X-GitHub-Event {event!r} is not a CI event")
    run = payload.get(event)
    if not isinstance(run, dict):
        raise IntakeError(f"GitHub {event} event has no '{event}' object")
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(full_name, str) or full_name.count("/") != 1:
        raise IntakeError(f"GitHub {event} event has no 'repository.full_name' (owner/name)")
    action = payload.get("action")
    if not isinstance(action, str):
        raise IntakeError(f"GitHub {event} event has no 'action' string")
    head_sha = run.get("head_sha")
    if not isinstance(head_sha, str) or not _SHA.fullmatch(head_sha):
        raise IntakeError(f"{event}.head_sha is not a 40-hex commit sha")
    head_repo = run.get("head_repository")
    head_name = head_repo.get("full_name") if isinstance(head_repo, dict) else None
    return CiRun(
        event=event,
        action=action,
        repository=full_name,
        head_sha=head_sha,
        head_branch=_opt_text(run, "head_branch"),
        conclusion=_opt_text(run, "conclusion"),
        name=_run_name(event, run),
        url=_opt_text(run, "html_url") or _opt_text(run, "url"),
        from_fork=isinstance(head_name, str) and head_name.lower() != full_name.lower(),
    )


@dataclass(frozen=True)
class RepoRoute:
    """Where a GitHub repository's fixes are made."""

    checkout: Path
    base_branch: str | None
    """None: the branch checked out in `checkout`."""
    table: str
    """The repository table whose settings its runs take."""


def route_github_repo(settings: Settings, full_name: str) -> RepoRoute | None:
    """Which configured repository GitHub's `owner/name` is, or None when none is.

    The one place that maps a GitHub repository to a checkout: the repository table whose
    `github_repo` (its own, or the global one) it is. Several tables of one GitHub repository
    (a monorepo) route nowhere rather than to a guess.
    """
    tables = settings.tables_of_github(full_name)
    if len(tables) != 1:
        return None
    effective = settings.for_repo(tables[0])
    return RepoRoute(
        checkout=settings.repos[tables[0]].checkout.resolve(),
        base_branch=effective.base_branch,
        table=tables[0],
    )


def _run_name(event: str, run: dict[str, Any]) -> str:
    if event == "workflow_run":
        return _opt_text(run, "name") or f"workflow run {run.get('id')}"
    app = run.get("app")
    app_name = _opt_text(app, "name") if isinstance(app, dict) else None
    return f"check suite {run.get('id')}" + (f" ({app_name})" if app_name else "")


def _opt_text(source: dict[str, Any], key: str) -> str | None:
    value = source.get(key)
    return value if isinstance(value, str) and value else None

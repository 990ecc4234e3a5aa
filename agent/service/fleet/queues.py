"""Which queue a job goes to: `heavy` for the jobs that run a repository's tests (root cause
and proof), `light` for the rest, so a flood of test runs never holds up intake and reviews."""

from __future__ import annotations

from pydantic import ValidationError

from agent.domain import Job
from agent.errors import FixloopError
from agent.intake.ci import CiRun, route_github_repo
from agent.intake.issues import IssueEvent
from agent.intake.payloads import parse_payload
from agent.settings import Settings

QUEUES = ("light", "heavy")
HEAVY_KINDS = frozenset({"run", "issue", "ci_run"})


def queue_of(kind: str) -> str:
    return "heavy" if kind in HEAVY_KINDS else "light"


def repository_of(settings: Settings, job: Job) -> str | None:
    """The repository table a heavy job runs in, when its payload routes it to one (a payload
    that routes nowhere is the run's to report)."""
    try:
        return _repository_of(settings, job)
    except (FixloopError, ValidationError):
        return None


def _repository_of(settings: Settings, job: Job) -> str | None:
    if job.kind == "run":
        return settings.table_of_project(parse_payload(job.payload).project)
    if job.kind == "issue":
        issue = IssueEvent.model_validate(job.payload["issue"])
        route = route_github_repo(settings, issue.repository)
        return None if route is None else route.table
    if job.kind == "ci_run":
        route = route_github_repo(settings, CiRun.model_validate(job.payload).repository)
        return None if route is None else route.table
    return None

"""One job on a Celery worker: take the leases, run it, release them.

A job's message may arrive more than once (the broker redelivers what a dead worker never
acknowledged; the dispatcher hands a job over again when its worker's lease expired). The job's
state in the inbox decides: a settled job is acknowledged and dropped; a job whose incident a
live worker carries, or whose repository is at its limit, waits and is tried again; otherwise
this worker takes it over and the runner resumes the run from its last checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent import wiring
from agent.domain import INCIDENT_LEASE, Job
from agent.ports import Leases
from agent.service.fleet.queues import repository_of
from agent.service.leasing import holder_id, holding
from agent.service.worker import Worker
from agent.settings import Settings


@dataclass(frozen=True)
class Wait:
    """Not now: try the job again in `seconds`."""

    seconds: float
    why: str


def carry(settings: Settings, job_id: int) -> str | Wait:
    """Run job `job_id` here unless it is settled or held: its outcome, or how long to wait."""
    inbox = wiring.inbox(settings)
    leases = wiring.leases(settings)
    found = inbox.job(job_id)
    if found is None or found[0] in ("done", "failed"):
        return "settled before"
    holder = holder_id()
    pause = max(settings.lease_seconds / 3, 1.0)
    slot = _repository_slot(settings, leases, found[1], holder)
    if slot == "":
        return Wait(pause, "its repository runs max_concurrent_runs jobs already")
    state, job = inbox.take(job_id, holder, settings.lease_seconds)
    if job is None:
        if slot is not None:
            leases.release(slot, holder)
        if state == "settled":
            return "settled before"
        return Wait(pause, "another worker carries its incident")
    names = [INCIDENT_LEASE + job.incident_id, *([slot] if slot else [])]
    with holding(leases, names, holder, settings.lease_seconds):
        return Worker(settings, inbox).run_job(job)


def _repository_slot(settings: Settings, leases: Leases, job: Job, holder: str) -> str | None:
    """The lease of a free run slot of the job's repository, taken; None when no limit applies,
    "" when every slot is taken."""
    table = repository_of(settings, job)
    limit = settings.for_repo(table).max_concurrent_runs if table is not None else 0
    if not limit:
        return None
    for slot in (f"repo:{table}:{n}" for n in range(limit)):
        if leases.acquire(slot, holder, settings.lease_seconds):
            return slot
    return ""

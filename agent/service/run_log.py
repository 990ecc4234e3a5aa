"""The log lines of one job of the worker: its start, each step its run took, its end.

A step is an audit entry the run recorded while the job ran, so a resumed run logs only what
it did this time.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.domain import Job
from agent.errors import FixloopError
from agent.logs import event
from agent.service import runner
from agent.settings import Settings

log = logging.getLogger("fixloop.worker")


def job_started(settings: Settings, job: Job) -> int:
    """Log the start; return how many audit entries the incident's run had before."""
    event("job_started", job.incident_id, job=job.id, kind=job.kind)
    summary = _summary(settings, job.incident_id) or {}
    return len(summary.get("audit") or [])


def job_ended(settings: Settings, job: Job, outcome: str, seen: int, failed: bool = False) -> None:
    """Log the steps the run took since `seen`, then the job's outcome (a failure as error)."""
    summary = _summary(settings, job.incident_id) or {}
    for entry in list(summary.get("audit") or [])[seen:]:
        event(
            "step",
            job.incident_id,
            node=entry.get("node"),
            decided=entry.get("decided"),
            why=entry.get("why"),
        )
    level = logging.ERROR if failed else logging.INFO
    event(
        "job_failed" if failed else "job_ended",
        job.incident_id,
        level,
        job=job.id,
        kind=job.kind,
        outcome=outcome,
        status=summary.get("status"),
    )


def _summary(settings: Settings, incident_id: str) -> dict[str, Any] | None:
    """The run's summary; None without a run. A log line never stops a job: a store that
    cannot be read here is logged and the job goes on."""
    try:
        return runner.incident_status(settings, incident_id)
    except FixloopError:
        return None
    except Exception:
        log.warning("the run of %s could not be read for the log", incident_id, exc_info=True)
        return None

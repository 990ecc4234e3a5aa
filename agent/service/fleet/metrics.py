"""Per-queue figures for the server's `/metrics` (Prometheus text format).

fixloop_queue_depth{queue}           messages waiting in the broker (absent when it is away)
fixloop_queue_jobs{queue,state}      the inbox's jobs of the queue, by state
fixloop_queue_oldest_seconds{queue}  age of the oldest job not yet started (0: none)
fixloop_runs{status}                 incidents by the outcome of their last job
fixloop_broker_up                    1 when the broker answered this scrape
"""

from __future__ import annotations

import logging
import time
from typing import Any, get_args

from agent.domain import Status
from agent.ports import Inbox
from agent.service.fleet.queues import QUEUES, queue_of

log = logging.getLogger("fixloop.metrics")
STATUSES = frozenset(get_args(Status))
WAITING = ("queued", "sent")


def broker_depths(app: Any) -> dict[str, int] | None:
    """Messages waiting in each queue of the broker; None when the broker does not answer."""
    from kombu.exceptions import OperationalError

    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            # The virtual transport's own count (every priority list of the queue): a passive
            # declare would refuse a queue no worker has declared yet, which may hold messages.
            return {queue: int(connection.default_channel._size(queue)) for queue in QUEUES}
    except (OperationalError, OSError) as error:
        log.warning("the broker did not answer: %s", error)
        return None


def run_status(outcome: str | None) -> str:
    """The status a job's outcome names: a run's status, `failed`, `open` (not settled yet) or
    `other` (a page ticketed, an event fetched)."""
    if outcome is None:
        return "open"
    if outcome.startswith(("failed", "crashed")):
        return "failed"
    word = outcome.split(";")[0].split(":")[0].strip()
    return word if word in STATUSES else "other"


def queue_lines(inbox: Inbox, depths: dict[str, int] | None, now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    counts = {(queue, state): 0 for queue in QUEUES for state in ("queued", "sent", "running")}
    oldest = dict.fromkeys(QUEUES, now)
    for kind, state, jobs, created in inbox.queue_stats():
        queue = queue_of(kind)
        counts[(queue, state)] = counts.get((queue, state), 0) + jobs
        if state in WAITING:
            oldest[queue] = min(oldest[queue], created)
    runs: dict[str, int] = {}
    for outcome, incidents in inbox.outcomes().items():
        runs[run_status(outcome)] = runs.get(run_status(outcome), 0) + incidents
    lines = _gauge("queue_jobs", "Jobs of each queue, by state.")
    lines += [
        f'fixloop_queue_jobs{{queue="{queue}",state="{state}"}} {jobs}'
        for (queue, state), jobs in sorted(counts.items())
    ]
    lines += _gauge("queue_oldest_seconds", "Age of the oldest job not started yet.")
    lines += [
        f'fixloop_queue_oldest_seconds{{queue="{queue}"}} {now - oldest[queue]:.3f}'
        for queue in QUEUES
    ]
    lines += _gauge("broker_up", "Whether the broker answered.")
    lines.append(f"fixloop_broker_up {0 if depths is None else 1}")
    if depths is not None:
        lines += _gauge("queue_depth", "Messages waiting in the broker's queue.")
        lines += [f'fixloop_queue_depth{{queue="{queue}"}} {depths[queue]}' for queue in QUEUES]
    lines += _gauge("runs", "Incidents by the outcome of their last job.")
    lines += [f'fixloop_runs{{status="{status}"}} {n}' for status, n in sorted(runs.items())]
    return lines


def _gauge(name: str, help_text: str) -> list[str]:
    return [f"# HELP fixloop_{name} {help_text}", f"# TYPE fixloop_{name} gauge"]

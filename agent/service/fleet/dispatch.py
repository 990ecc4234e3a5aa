"""Hand the inbox's due jobs to the broker, and take back the jobs of dead workers.

The inbox stays the record of every job: a job is `queued` until a message for it is in the
broker, then `sent`. A message is sent before the job is marked, so a crash in between sends it
again, which `carry` shrugs off; a broker that is down leaves the jobs queued, nothing lost.
A `running` job whose worker's lease expired (the worker died) is queued again and re-sent.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from agent.ports import Inbox
from agent.service.fleet.queues import queue_of
from agent.service.worker import Worker
from agent.settings import Settings

log = logging.getLogger("fixloop.dispatch")
BATCH = 100


def publish_due(inbox: Inbox, app: Any) -> int:
    """Send every due job to its queue; return how many were sent."""
    sent = 0
    while jobs := inbox.due(BATCH):
        for job in jobs:
            app.send_task("fixloop.carry", args=[job.id], queue=queue_of(job.kind))
        inbox.mark_sent([job.id for job in jobs])
        sent += len(jobs)
        if len(jobs) < BATCH:
            break
    return sent


def reclaim_and_publish(inbox: Inbox, app: Any) -> int:
    """Queue again the jobs of workers that died, then send every due job."""
    inbox.requeue_running()
    return publish_due(inbox, app)


class Dispatcher:
    """The server's side when a broker is set: in a thread, sends jobs as they are queued and
    takes back dead workers' jobs every `lease_seconds / 3`. Same face as the in-process
    `Worker` towards the server (start, stop, wake, release_seen, alive)."""

    def __init__(self, settings: Settings, inbox: Inbox, app: Any) -> None:
        self.settings = settings
        self.inbox = inbox
        self.app = app
        self.period = max(settings.lease_seconds / 3, 0.5)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._release_seen = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fixloop-dispatch", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def release_seen(self) -> None:
        self._release_seen.set()
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        last_reclaim = 0.0
        while not self._stop.is_set():
            try:
                if self._release_seen.is_set():
                    self._release_seen.clear()
                    Worker(self.settings, self.inbox).queue_release_checks(now=True)
                if time.monotonic() - last_reclaim >= self.period:
                    last_reclaim = time.monotonic()
                    reclaim_and_publish(self.inbox, self.app)
                else:
                    publish_due(self.inbox, self.app)
            except Exception:
                # The broker or the store is away: the jobs stay queued; try again later.
                log.exception("handing jobs to the broker failed; retrying")
            self._wake.wait(self.period)
            self._wake.clear()

"""The Celery app of a fixloop fleet: Redis broker, two queues, late acknowledgement.

A task is acknowledged when it ends, not when it starts, and a worker process that dies
rejects it back to the queue (`task_reject_on_worker_lost`); a whole worker killed leaves it
unacknowledged in Redis, which hands it out again after `broker_visibility_timeout`, and the
dispatcher re-sends its job as soon as the worker's lease on the incident expires. Workers
take one task at a time (`worker_prefetch_multiplier=1`), so a long run never holds others.

Beat runs `verify-pending` (the release checks) every `verify_poll_seconds`, and `dispatch`
(dead workers' jobs, jobs the server could not hand over) every `lease_seconds / 3`.
"""

from __future__ import annotations

from typing import Any

from agent import wiring
from agent.errors import ConfigError
from agent.service.fleet.carry import Wait, carry
from agent.service.fleet.dispatch import publish_due, reclaim_and_publish
from agent.service.fleet.evals import replay_here
from agent.service.fleet.queues import QUEUES
from agent.service.worker import Worker
from agent.settings import Settings


def make_app(settings: Settings) -> Any:
    """The Celery app for `settings.broker_url`, with fixloop's tasks."""
    from celery import Celery
    from kombu import Exchange, Queue

    if settings.broker_url is None:
        raise ConfigError("no broker: set broker_url (FIXLOOP_BROKER_URL=redis://host:6379/0)")
    url = settings.broker_url.get_secret_value()
    if not url.startswith(("redis://", "rediss://")):
        raise ConfigError("broker_url must be a redis:// or rediss:// URL")
    # Results come back only for eval cases (`fixloop eval --broker`), through the same Redis.
    app = Celery("fixloop", broker=url, backend=url, set_as_current=False)
    transport: dict[str, Any] = {"visibility_timeout": settings.broker_visibility_timeout}
    if settings.broker_prefix:
        transport["global_keyprefix"] = settings.broker_prefix
    app.conf.update(
        broker_transport_options=transport,
        result_backend_transport_options=(
            {"global_keyprefix": settings.broker_prefix} if settings.broker_prefix else {}
        ),
        broker_connection_retry_on_startup=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        result_expires=86400,
        task_serializer="json",
        accept_content=["json"],
        task_queues=[Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        task_default_queue="light",
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        beat_schedule={
            "verify-pending": {
                "task": "fixloop.verify_pending",
                "schedule": settings.verify_poll_seconds,
                "options": {"queue": "light"},
            },
            "dispatch": {
                "task": "fixloop.dispatch",
                "schedule": max(settings.lease_seconds / 3, 1.0),
                "options": {"queue": "light", "expires": max(settings.lease_seconds, 5.0)},
            },
        },
    )
    _register_tasks(app, settings)
    return app


def _register_tasks(app: Any, settings: Settings) -> None:
    @app.task(name="fixloop.carry", bind=True, max_retries=None, shared=False)
    def carry_job(task: Any, job_id: int) -> str:
        outcome = carry(settings, job_id)
        if isinstance(outcome, Wait):
            raise task.retry(countdown=outcome.seconds, exc=None)
        publish_due(wiring.inbox(settings), app)  # what the job queued (a fetched event, ...)
        return outcome

    @app.task(name="fixloop.verify_pending", shared=False)
    def verify_pending() -> list[str]:
        inbox = wiring.inbox(settings)
        waiting = Worker(settings, inbox).queue_release_checks()
        publish_due(inbox, app)
        return waiting

    @app.task(name="fixloop.dispatch", shared=False)
    def dispatch() -> int:
        return reclaim_and_publish(wiring.inbox(settings), app)

    @app.task(name="fixloop.eval_case", shared=False, ignore_result=False)
    def eval_case(case: str, engines: list[str], timeout: float) -> dict[str, Any]:
        return replay_here(settings, case, engines, timeout)

"""`fixloop serve`: webhooks, Sentry ingest, health, metrics and incidents over HTTP.

Thin: every request is handed to `agent.service.receive.Receiver`, which persists it and queues its
work in the inbox; the in-process `agent.service.worker.Worker` carries queued incidents through
`agent.service.runner` (with a broker set, `agent.service.fleet` hands them to Celery workers).
A request never runs the loop, so it is answered in milliseconds.

    POST /webhooks/sentry | /webhooks/pagerduty | /webhooks/github   signed webhooks
    POST /api/<project>/envelope/ | /api/<project>/store/           Sentry ingest (DSN key)
    GET  /console ...                                                the web console (agent.console)
    GET  /healthz   /readyz                                          liveness, readiness
    GET  /metrics   /incidents   /incidents/<id>                     private (`access`)

Bad input is a 4xx with a reason: headers slower than `header_read_timeout` and a body slower
than `body_read_timeout` are 408, a larger body 413. `ErrorBoundary` counts every answer in
`/metrics` by route and status, and turns anything else raised into a logged 500 (a server
fault) that keeps the connection usable; the header 408s, which no route sees, count as
endpoint `headers`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agent import logs, wiring
from agent.console import app as console
from agent.controls import http as control_routes
from agent.controls import overview
from agent.errors import IntakeError, NotFound, SignatureError
from agent.logs import event
from agent.ports import Inbox
from agent.service import openapi, readiness, runner
from agent.service.access import AccessGate
from agent.service.fleet import app as fleet_app
from agent.service.fleet import metrics as fleet_metrics
from agent.service.fleet.dispatch import Dispatcher
from agent.service.header_deadline import header_deadline_protocol
from agent.service.receive import Receiver
from agent.service.worker import Worker
from agent.settings import Settings

MAX_BODY_BYTES = 20 * 1024 * 1024
log = logging.getLogger(__name__)


class Metrics:
    """Request counters for `/metrics`, by endpoint (the route's name) and status."""

    def __init__(self, more: Callable[[], list[str]] = list) -> None:
        """`more`: further lines (the queues of a fleet)."""
        self.requests: Counter[tuple[str, int]] = Counter()
        self.more = more

    def count(self, endpoint: str, status: int) -> None:
        self.requests[(endpoint, status)] += 1

    def render(self, inbox: Inbox) -> str:
        lines = [
            "# HELP fixloop_requests_total Requests answered, by endpoint and status.",
            "# TYPE fixloop_requests_total counter",
        ]
        for (endpoint, status), count in sorted(self.requests.items()):
            lines.append(
                f'fixloop_requests_total{{endpoint="{endpoint}",status="{status}"}} {count}'
            )
        stats = inbox.stats()
        for name in ("deliveries", "incidents", "events"):
            lines += [
                f"# HELP fixloop_{name} {name.capitalize()} in the inbox.",
                f"# TYPE fixloop_{name} gauge",
                f"fixloop_{name} {stats[name]}",
            ]
        lines += ["# HELP fixloop_jobs Jobs in the queue, by state.", "# TYPE fixloop_jobs gauge"]
        for state in ("queued", "sent", "running", "done", "failed"):
            lines.append(f'fixloop_jobs{{state="{state}"}} {stats["jobs_" + state]}')
        return "\n".join(lines + self.more()) + "\n"


class ErrorBoundary:
    """Around every route: counts each answer by route and status; an exception no route handled
    is a server fault, logged and answered 500 rather than dropped with the connection."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Callable[[], list[Any]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            log.exception("server fault on %s %s", scope.get("method"), scope.get("path"))
            if status:
                raise
            status.append(500)
            await JSONResponse({"error": "internal server error"}, 500)(scope, receive, send)
        finally:
            self.metrics.requests[(self._route(scope), status[0] if status else 500)] += 1

    def _route(self, scope: Scope) -> str:
        """The name of the route the request is for (a wrong method is a partial match)."""
        partial = "unmatched"
        for route in self.routes():
            match = route.matches(scope)[0]
            if match == Match.FULL:
                return str(route.name)
            if match == Match.PARTIAL and partial == "unmatched":
                partial = str(route.name)
        return partial


def create_app(settings: Settings, *, worker: bool | None = None) -> FastAPI:
    """The server's app; the worker runs (per setting `worker` unless given) while it serves."""
    inbox = wiring.inbox(settings)
    metrics = Metrics()
    job_worker = _job_runner(
        settings, inbox, metrics, settings.worker if worker is None else worker
    )
    receiver = Receiver(
        settings,
        inbox,
        wiring.error_source(settings),
        wiring.ingest_reader(MAX_BODY_BYTES),
        on_job=job_worker.wake if job_worker else lambda: None,
        on_release=job_worker.release_seen if job_worker else lambda: None,
    )
    runs = runner.StatusReader(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if job_worker is not None:
            job_worker.start()
        yield
        if job_worker is not None:
            job_worker.stop()
        runs.close()

    app = FastAPI(title="fixloop", lifespan=lifespan, docs_url=None, redoc_url=None)

    def post(path: str, endpoint: str, handle: Callable[[Request, bytes], dict[str, Any]]) -> None:
        """A plain Starlette route: no FastAPI dependency solving on the hot path."""

        async def route(request: Request) -> JSONResponse:
            try:
                body = await _read_body(request, MAX_BODY_BYTES, settings.body_read_timeout)
                status, result = 200, handle(request, body)
            except SignatureError as error:
                status, result = 401, {"error": str(error)}
            except IntakeError as error:
                status, result = error.status, {"error": str(error)}
            close = {"Connection": "close"} if status in (408, 413) else None
            _log_request(endpoint, status, result)
            return JSONResponse(result, status_code=status, headers=close)

        app.router.add_route(path, route, methods=["POST"], name=endpoint)

    post("/webhooks/sentry", "sentry", lambda r, body: receiver.sentry(body, r.headers))
    post("/webhooks/pagerduty", "pagerduty", lambda r, body: receiver.pagerduty(body, r.headers))
    post("/webhooks/github", "github", lambda r, body: receiver.github(body, r.headers))
    for endpoint in ("envelope", "store"):
        post(f"/api/{{project}}/{endpoint}/", endpoint, _ingest(receiver, endpoint))

    _add_probes(app, settings, inbox, job_worker)
    control_routes.add_routes(app, settings, inbox, job_worker.wake if job_worker else lambda: None)

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        text = metrics.render(inbox) + _control_metrics(settings)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.get("/incidents")
    def incidents(limit: int = 100) -> dict[str, Any]:
        return {"incidents": inbox.incidents(min(max(limit, 1), 1000))}

    @app.get("/incidents/{incident_id}")
    def incident(incident_id: str) -> JSONResponse:
        record = inbox.incident(incident_id)
        try:
            run: dict[str, Any] | None = runs.status(incident_id)
        except NotFound:
            run = None
        if record is None and run is None:
            return JSONResponse({"error": f"no incident {incident_id}"}, status_code=404)
        return JSONResponse({"incident": record, "run": run})

    console.mount(app, settings, inbox, runs, lambda: job_worker.alive() if job_worker else None)
    app.state.metrics = metrics
    app.openapi_schema = openapi.schema(app)
    app.add_middleware(AccessGate, settings=settings)
    app.add_middleware(ErrorBoundary, metrics=metrics, routes=lambda: app.routes)
    return app


def _add_probes(
    app: FastAPI, settings: Settings, inbox: Inbox, job_worker: Worker | Dispatcher | None
) -> None:
    """`/healthz` (liveness) and `/readyz` (the database, the queue, each outside system)."""

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return _health(job_worker.alive() if job_worker else None, inbox, settings)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        alive = job_worker.alive() if job_worker else None
        report = readiness.readiness(settings, inbox, alive)
        return JSONResponse(report, status_code=200 if report["ready"] else 503)


def _log_request(endpoint: str, status: int, result: dict[str, Any]) -> None:
    """One log line per webhook (ingest requests at debug level): its outcome and why."""
    outcome = result.get("outcome") or (
        "ignored" if "ignored" in result else "refused" if status >= 400 else "ok"
    )
    reason = result.get("ignored") or result.get("error") or result.get("note")
    webhook = endpoint in ("sentry", "pagerduty", "github")
    level = logging.INFO if webhook or status >= 400 else logging.DEBUG
    event(
        "webhook" if webhook else "ingest",
        result.get("incident_id"),
        level,
        endpoint=endpoint,
        status=status,
        outcome=outcome,
        reason=reason,
    )


def _job_runner(
    settings: Settings, inbox: Inbox, metrics: Metrics, run_worker: bool
) -> Worker | Dispatcher | None:
    """What carries the queued jobs: the in-process worker, or with a broker the dispatcher that
    hands them to Celery (and the queues' figures join `/metrics`); None when off."""
    if settings.broker_url is None:
        return Worker(settings, inbox) if run_worker else None
    fleet = fleet_app.make_app(settings)
    metrics.more = lambda: fleet_metrics.queue_lines(inbox, fleet_metrics.broker_depths(fleet))
    return Dispatcher(settings, inbox, fleet) if run_worker else None


def _health(alive: bool | None, inbox: Inbox, settings: Settings) -> dict[str, Any]:
    return {
        "ok": alive is not False,
        "worker": alive,
        "queue": inbox.stats()["jobs_queued"],
        "paused": overview.controls_view(settings)["paused"],
    }


def _control_metrics(settings: Settings) -> str:
    held = overview.held_counts(runner.list_incidents(settings))
    return "\n".join(overview.metrics_lines(overview.controls_view(settings, held))) + "\n"


def _ingest(receiver: Receiver, endpoint: str) -> Callable[[Request, bytes], dict[str, Any]]:
    def handle(request: Request, body: bytes) -> dict[str, Any]:
        project = request.path_params["project"]
        key = request.query_params.get("sentry_key")
        return receiver.ingest(project, endpoint, body, request.headers, key)

    return handle


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise IntakeError(f"body is over {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise IntakeError(f"body is over {limit} bytes", status=413)
                chunks.append(chunk)
    except TimeoutError:
        raise IntakeError(f"body not received within {timeout:g} s", status=408) from None
    return b"".join(chunks)


def uvicorn_options(settings: Settings, app: FastAPI) -> dict[str, Any]:
    """What uvicorn needs besides the app: the HTTP protocol with the header deadline, whose
    408s `/metrics` counts as endpoint `headers` (no route saw them)."""
    metrics: Metrics = app.state.metrics
    protocol = header_deadline_protocol(
        settings.header_read_timeout, lambda: metrics.count("headers", 408)
    )
    return {"http": protocol}


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Run the server until interrupted (uvicorn, one process)."""
    import uvicorn

    logs.configure(settings)
    app = create_app(settings)
    event(
        "server_started",
        host=host or settings.server_host,
        port=settings.server_port if port is None else port,
        repos=sorted(settings.repos),
        worker=settings.worker,
    )
    uvicorn.run(
        app,
        host=host or settings.server_host,
        port=settings.server_port if port is None else port,
        log_level="warning",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        **uvicorn_options(settings, app),
    )

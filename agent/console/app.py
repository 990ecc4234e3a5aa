"""The console's routes on the server's app (`mount`): HTML pages under `/console`.

Every page is rendered by Jinja with autoescape, and every string a page shows passes the
scrubber (`redact`) on its way out, so no production secret or personal data reaches a browser
even if a stored record kept one. Pages load nothing from elsewhere and run no script.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from agent.console import auth
from agent.console.records import Records, eval_report, eval_reports
from agent.domain import ReviewDecision
from agent.errors import FixloopError, NotFound
from agent.guardrails.redaction import redact, secrets_of
from agent.ports import Inbox
from agent.service import runner
from agent.settings import Settings

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The eval report is a self-contained page of its own, with its styles inline.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
STATIC = jinja2.PackageLoader("agent.console", "static")


def environment(settings: Settings) -> jinja2.Environment:
    secrets = secrets_of(settings)

    @lru_cache(maxsize=8192)
    def scrubbed(text: str) -> str:
        return redact(text, secrets)

    def finalize(value: Any) -> Any:
        if isinstance(value, str) and not isinstance(value, Markup):
            return scrubbed(value)
        return value

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("agent.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )
    env.filters["when"] = _when
    env.filters["href"] = _href
    env.filters["money"] = lambda value: f"${value:.4f}" if value is not None else "-"
    return env


def mount(
    app: FastAPI,
    settings: Settings,
    inbox: Inbox,
    runs: runner.StatusReader,
    worker_alive: Callable[[], bool | None],
) -> None:
    """Add the console's routes to `app` (left out of the OpenAPI schema)."""
    console = Console(settings, Records(settings, inbox, runs), worker_alive)
    routes: list[tuple[str, Callable[..., Any], list[str]]] = [
        ("/console", console.incidents, ["GET"]),
        ("/console/incidents/{incident_id}", console.incident, ["GET"]),
        ("/console/incidents/{incident_id}/review", console.review, ["POST"]),
        ("/console/evals", console.evals, ["GET"]),
        ("/console/evals/compare", console.compare, ["GET"]),
        ("/console/evals/{name}", console.eval_page, ["GET"]),
        ("/console/health", console.health, ["GET"]),
        ("/console/login", console.login, ["GET", "POST"]),
        ("/console/static/console.css", console.stylesheet, ["GET"]),
    ]
    for path, endpoint, methods in routes:
        app.add_api_route(path, endpoint, methods=methods, include_in_schema=False)


class Console:
    def __init__(
        self, settings: Settings, records: Records, worker_alive: Callable[[], bool | None]
    ) -> None:
        self.settings = settings
        self.records = records
        self.worker_alive = worker_alive
        self.pages = environment(settings)

    def page(self, request: Request, name: str, code: int = 200, **context: Any) -> Response:
        csrf = request.cookies.get(auth.CSRF_COOKIE) or auth.new_csrf()
        viewer = auth.viewer(request, self.settings)
        body = self.pages.get_template(name).render(viewer=viewer, csrf=Markup(csrf), **context)
        response = HTMLResponse(body, status_code=code, headers=_headers(CSP))
        if request.cookies.get(auth.CSRF_COOKIE) != csrf:
            response.set_cookie(
                auth.CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/console"
            )
        return response

    def error(self, request: Request, status: int, message: str) -> Response:
        return self.page(request, "error.html.j2", status, message=message)

    def refused(self, request: Request) -> Response:
        if auth.needs_login(self.settings):
            return self.page(request, "login.html.j2", 401, failed=False, wanted=request.url.path)
        return self.error(
            request,
            403,
            "This console serves requests from a loopback address only. Set "
            "FIXLOOP_CONSOLE_TOKEN or FIXLOOP_CONSOLE_PROXY_HEADER to serve it elsewhere.",
        )

    def allowed(self, request: Request) -> bool:
        return auth.viewer(request, self.settings) is not None

    def incidents(self, request: Request) -> Response:
        if not self.allowed(request):
            return self.refused(request)
        query = request.query_params
        try:
            number = int(query.get("page") or 1)
        except ValueError:
            return self.error(request, 400, "page must be a whole number")
        status, repository = query.get("status", ""), query.get("repository", "")
        filters = {k: v for k, v in (("status", status), ("repository", repository)) if v}
        return self.page(
            request,
            "incidents.html.j2",
            found=self.records.incidents(status, repository, number),
            status=status,
            repository=repository,
            page_url=lambda n: "/console?" + urlencode(filters | {"page": n}),
        )

    def incident(self, request: Request, incident_id: str) -> Response:
        if not self.allowed(request):
            return self.refused(request)
        found = self.records.incident(incident_id)
        if found is None:
            return self.error(request, 404, f"no incident {incident_id}")
        done = request.query_params.get("done")
        return self.page(request, "incident.html.j2", item=found, done=done)

    async def review(self, request: Request, incident_id: str) -> Response:
        """What `fixloop review` does, for a signed-in viewer, with the form's CSRF token."""
        viewer = auth.viewer(request, self.settings)
        if viewer is None:
            return self.refused(request)
        form = await _form(request)
        if not auth.csrf_ok(request, form.get("csrf", "")):
            return self.error(request, 403, "the form expired; reload the page")
        action = form.get("action", "")
        if action not in ("merge", "approve", "reject"):
            return self.error(request, 400, "action must be merge, approve or reject")
        comment = form.get("comment", "")[:2000]
        decision = ReviewDecision(action=action, comment=comment, reviewer=viewer.name)
        try:
            summary = await run_in_threadpool(
                runner.review_incident, self.settings, incident_id, decision
            )
        except NotFound as error:
            return self.error(request, 404, str(error))
        except FixloopError as error:
            return self.error(request, 409, str(error))
        done = urlencode({"done": f"{action}: the run is now {summary['status']}"})
        return RedirectResponse(f"/console/incidents/{incident_id}?{done}", status_code=303)

    def evals(self, request: Request) -> Response:
        if not self.allowed(request):
            return self.refused(request)
        return self.page(request, "evals.html.j2", reports=eval_reports(self.settings))

    def compare(self, request: Request) -> Response:
        from evals.compare import compare, render_comparison

        if not self.allowed(request):
            return self.refused(request)
        first, second = request.query_params.get("a", ""), request.query_params.get("b", "")
        try:
            delta = compare(eval_report(self.settings, first), eval_report(self.settings, second))
        except NotFound as error:
            return self.error(request, 404, str(error))
        text = render_comparison(delta)
        return self.page(
            request, "compare.html.j2", first=first, second=second, delta=delta, text=text
        )

    def eval_page(self, request: Request, name: str) -> Response:
        from evals.report import render_html

        if not self.allowed(request):
            return self.refused(request)
        try:
            report = eval_report(self.settings, name)
        except NotFound as error:
            return self.error(request, 404, str(error))
        return HTMLResponse(render_html(report), headers=_headers(REPORT_CSP))

    def health(self, request: Request) -> Response:
        if not self.allowed(request):
            return self.refused(request)
        figures = self.records.health(self.worker_alive())
        return self.page(request, "health.html.j2", health=figures)

    async def login(self, request: Request) -> Response:
        token = self.settings.console_token
        if request.method == "GET" or token is None:
            return self.page(request, "login.html.j2", failed=False, wanted="/console")
        form = await _form(request)
        wanted = form.get("wanted", "")
        if not auth.csrf_ok(request, form.get("csrf", "")) or not auth.same(
            form.get("token", ""), token.get_secret_value()
        ):
            return self.page(request, "login.html.j2", 401, failed=True, wanted=wanted)
        target = wanted if wanted.startswith("/console") and "//" not in wanted else "/console"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            auth.session_value(token.get_secret_value()),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/console",
        )
        return response

    def stylesheet(self) -> Response:
        source, _, _ = STATIC.get_source(jinja2.Environment(), "console.css")
        return Response(source, media_type="text/css", headers={"Cache-Control": "max-age=300"})


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the console's own): its fields as strings."""
    body = await request.body()
    if len(body) > 16_384:
        return {}
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _href(url: str | None) -> str:
    """A link only to a web address: any other scheme (`javascript:`) becomes no link."""
    return url if url and url.startswith(("https://", "http://")) else "#"


def _when(epoch: float | str | None) -> str:
    """A time as a reader wants it: UTC, to the second."""
    from datetime import UTC, datetime

    if epoch is None or epoch == "":
        return "-"
    if isinstance(epoch, str):
        return epoch.replace("T", " ")[:19] + " UTC"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

"""The in-process worker: drains the server's inbox, one job at a time, through the runner.

Jobs are claimed from the durable queue under a lease on their incident, renewed while the job
runs, so one worker carries an incident at a time; a process killed mid-job leaves it `running`
and its lease expires; a worker (here or on another host) then puts it back in the queue, and
the runner resumes the run idempotently. A job a live worker carries is never requeued.
Every `verify_poll_seconds`, and when an event names a release not seen before, the worker queues
a `verify` job for each run waiting for the release of its merged fix: a run never holds the
thread while it waits.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from agent import wiring
from agent.controls import places
from agent.domain import INCIDENT_LEASE, Job, ReviewDecision
from agent.errors import FixloopError, NotFound
from agent.guardrails.redaction import RedactingTracker, secrets_of
from agent.intake.ci import route_github_repo
from agent.intake.issues import IssueEvent
from agent.intake.links import sentry_host, sentry_issue_ids
from agent.intake.payloads import parse_payload
from agent.intake.projects import sentry_project_slug
from agent.intake.webhooks import Page
from agent.logs import event
from agent.ports import Inbox
from agent.service import run_log, runner
from agent.service.leasing import holder_id, holding
from agent.service.red_commit import run_red_commit
from agent.settings import Settings

log = logging.getLogger("fixloop.worker")


class Worker:
    def __init__(self, settings: Settings, inbox: Inbox, poll_seconds: float = 0.5) -> None:
        self.settings = settings
        self.inbox = inbox
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_release_check = 0.0
        self._last_requeue = 0.0
        self._release_seen = threading.Event()
        self.holder = holder_id()
        self.leases = wiring.leases(settings)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="fixloop-worker", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def release_seen(self) -> None:
        """An event named a new release: check the runs waiting for one now."""
        self._release_seen.set()
        self._wake.set()

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the job in hand; a job cut off by process exit is requeued on restart."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def drain(self) -> int:
        """Run queued jobs until none is left, in this thread; return how many ran."""
        ran = 0
        while (job := self._claim()) is not None:
            self._carry(job)
            ran += 1
        return ran

    def _claim(self, kind: str | None = None) -> Job | None:
        return self.inbox.claim(kind, self.holder, self.settings.lease_seconds)

    def _carry(self, job: Job) -> str:
        """Run a job claimed under this worker's lease on its incident, renewing the lease."""
        lease = INCIDENT_LEASE + job.incident_id
        with holding(self.leases, [lease], self.holder, self.settings.lease_seconds):
            return self.run_job(job)

    def queue_release_checks(self, now: bool = False) -> list[str]:
        """Queue a `verify` job for every run waiting for a release; return their incidents.
        A run gets one check per poll period, unless `now` asks for one more."""
        self._last_release_check = time.time()
        period = int(self._last_release_check // max(self.settings.verify_poll_seconds, 1.0))
        check = f"{self._last_release_check:.6f}" if now else str(period)
        waiting = runner.waiting_for_release(self.settings)
        for incident_id in waiting:
            admission = self.inbox.admit_note(
                "fixloop",
                f"release-check:{incident_id}:{check}",
                incident_id,
                "release_check",
                {},
                job="verify",
            )
            if admission.outcome == "recorded":
                self.wake()
        return waiting

    def check_releases(self) -> list[tuple[str, str]]:
        """Check every run waiting for a release now, in this thread (`fixloop verify-pending`):
        (incident, outcome) for each."""
        self.queue_release_checks(now=True)
        checked = []
        while (job := self._claim("verify")) is not None:
            checked.append((job.incident_id, self._carry(job)))
        return checked

    def _loop(self) -> None:
        while not self._stop.is_set():
            new_release = self._release_seen.is_set()
            if new_release or (
                time.time() - self._last_release_check >= self.settings.verify_poll_seconds
            ):
                self._release_seen.clear()
                self._queue_release_checks_safely(now=new_release)
                self._resume_deferred_safely()
            if time.time() - self._last_requeue >= self.settings.lease_seconds:
                self._last_requeue = time.time()
                self.inbox.requeue_running()
            job = self._claim()
            if job is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
                continue
            self._carry(job)

    def _resume_deferred_safely(self) -> None:
        """Deferred runs go on where a place freed up (a PR closed by hand, a new day)."""
        try:
            places.resume_deferred(self.settings)
        except Exception:
            log.exception("resuming the deferred runs crashed")

    def _queue_release_checks_safely(self, now: bool) -> None:
        try:
            self.queue_release_checks(now)
        except Exception:
            # Like a crashed job: the queue goes on, the next period tries again.
            self._last_release_check = time.time()
            log.exception("queueing the release checks crashed")

    def run_job(self, job: Job) -> str:
        """Run one claimed job and settle it; return its outcome (or why it failed)."""
        seen = run_log.job_started(self.settings, job)
        try:
            outcome, finished = self._dispatch(job)
        except FixloopError as error:
            self.inbox.fail(job.id, str(error))
            run_log.job_ended(self.settings, job, f"failed: {error}", seen, failed=True)
            return f"failed: {error}"
        except Exception as error:
            # A bug in one job must not stop the server's queue: record it loudly and go on.
            log.exception("job %s (%s for %s) crashed", job.id, job.kind, job.incident_id)
            self.inbox.fail(job.id, f"crashed: {error!r}")
            run_log.job_ended(self.settings, job, f"crashed: {error!r}", seen, failed=True)
            return f"crashed: {error!r}"
        self.inbox.finish(job.id, outcome, close_incident=finished)
        run_log.job_ended(self.settings, job, outcome, seen)
        return outcome

    def _dispatch(self, job: Job) -> tuple[str, bool]:
        if job.kind == "run":
            return self._run(job.payload)
        if job.kind == "page":
            return self._page(job), False
        if job.kind == "sentry_issue":
            return self._sentry_issue(job), False
        if job.kind == "issue":
            return self._issue(job.payload)
        if job.kind == "ci_run":
            return run_red_commit(self.settings, self.inbox, job)
        if job.kind == "verify":
            summary = runner.check_release(self.settings, job.incident_id)
            return self._settle(job.incident_id, summary)
        if job.kind == "resume_held":
            awaiting = str(job.payload.get("awaiting", "unpause"))
            summary = runner.continue_held(self.settings, job.incident_id, awaiting)
            return self._settle(job.incident_id, summary)
        action = "merge" if job.kind == "merged" else "reject"
        decision = ReviewDecision(
            action=action,
            comment=str(job.payload.get("comment", "")),
            reviewer=str(job.payload.get("sender", "github")),
        )
        settled = self._settle(
            job.incident_id, runner.review_incident(self.settings, job.incident_id, decision)
        )
        self._resume_deferred_safely()  # a fixloop PR merged or closed frees a place
        return settled

    def _settle(self, incident_id: str, summary: dict[str, Any]) -> tuple[str, bool]:
        """A run's outcome; a closed run also resolves the PagerDuty incidents linked to it."""
        if summary["status"] != "closed":
            return summary["status"], False
        resolved = self._resolve_pages(incident_id, summary)
        return "closed" + (f"; resolved PagerDuty {', '.join(resolved)}" if resolved else ""), True

    def _resolve_pages(self, incident_id: str, summary: dict[str, Any]) -> list[str]:
        """Resolve the PagerDuty incidents linked to an incident whose fix is verified."""
        api = wiring.pagerduty_api(self.settings)
        record = self.inbox.incident(incident_id)
        if api is None or record is None:
            return []
        pages = [n["detail"]["pagerduty_incident"] for n in record["notes"] if n["kind"] == "paged"]
        verification = (summary.get("verification") or {}).get("summary", "")
        for page in pages:
            api.resolve(page, f"fixloop verified the merged fix. {verification}".strip())
            event("outside_write", incident_id, system="pagerduty", action="resolve", page=page)
        return pages

    def _run(self, payload: dict[str, Any]) -> tuple[str, bool]:
        incident = parse_payload(payload)
        slug = sentry_project_slug(payload)
        table = self.settings.table_of_project(incident.project) or self.settings.table_of_project(
            slug
        )
        if table is None:
            named = f" (slug {slug!r})" if slug else ""
            return (
                f"no repository mapped for project {incident.project!r}{named} (setting repos)",
                False,
            )
        checkout = self.settings.repos[table].checkout
        summary = runner.run_incident(self.settings, checkout, incident, payload, repo=table)
        return summary["status"], summary["status"] == "closed"

    def _issue(self, payload: dict[str, Any]) -> tuple[str, bool]:
        """A GitHub issue with a traceback, run in the repository its `github_repo` routes."""
        event = IssueEvent.model_validate(payload["issue"])
        route = route_github_repo(self.settings, event.repository)
        if route is None:
            return f"repository {event.repository} is no longer configured (github_repo)", False
        incident = event.as_incident()
        commit = None
        if incident.source == "test_failure":
            # Run at the head of the base branch, keeping the issue's incident id.
            repo = wiring.open_repo(route.checkout)
            commit = repo.head(route.base_branch or repo.default_branch())
        summary = runner.run_incident(
            self.settings,
            route.checkout,
            incident,
            event.as_payload(),
            repo=route.table,
            commit=commit,
        )
        return summary["status"], summary["status"] == "closed"

    def _sentry_issue(self, job: Job) -> str:
        """Fetch an issue's latest event through the Sentry API and admit it as an event."""
        api = wiring.sentry_api(self.settings)
        if api is None:
            return "not fetched: sentry_org and sentry_token are not set"
        issue_id = str(job.payload["issue_id"])
        event = api.latest_event(issue_id)
        incident = parse_payload(event)
        wiring.error_source(self.settings).record(incident, event)
        delivery = f"event:{incident.event_id}" if incident.event_id else f"issue:{issue_id}"
        admission = self.inbox.admit_event("sentry", delivery, incident, event, "run")
        return f"latest event of issue {issue_id}: {admission.outcome} {admission.incident_id}"

    def _page(self, job: Job) -> str:
        """Link a page to its Sentry issue and run the incident from that issue's latest event;
        else link it to the open incident of its service's Sentry project; else ticket it for
        a human with what the page says."""
        page = Page.model_validate(job.payload["page"])
        issue_id = page.sentry_issue or self._sentry_issue_of_alerts(page)
        if issue_id is not None:
            linked = self._run_from_sentry_issue(page, issue_id)
            if linked is not None:
                return linked
        project = self.settings.pagerduty_services.get(page.service_id)
        table = self.settings.table_of_project(page.service_id) or self.settings.table_of_project(
            project
        )
        linked_id = self._open_incident_of(
            [project] if project else self.settings.repos[table].projects if table else []
        )
        if linked_id is not None:
            self._link(page, linked_id, "service mapping")
            return f"linked to {linked_id}"
        settings = self.settings.for_repo(table)
        tracker = RedactingTracker(wiring.tracker(settings), secrets_of(settings))
        body = _page_body(page, project, issue_id)
        ticket = tracker.ensure_ticket(page.as_incident(), page.title, body)
        tracker.comment(
            ticket.key,
            "escalation:no_stack_trace",
            "No stack trace to work from: "
            + (
                f"the page links Sentry issue {issue_id}, whose latest event fixloop could not "
                "fetch (settings sentry_org and sentry_token). "
                if issue_id
                else "the page names no Sentry issue that fixloop has seen. "
            )
            + "Escalated to a human.",
        )
        return f"escalated: ticket {ticket.key}"

    def _open_incident_of(self, projects: list[str]) -> str | None:
        """The open incident of the first of `projects` that has one."""
        found = (self.inbox.open_incident_of_project(p) for p in projects)
        return next((incident for incident in found if incident is not None), None)

    def _sentry_issue_of_alerts(self, page: Page) -> str | None:
        """The Sentry issue the page's alerts link (PagerDuty REST), when the webhook had none."""
        api = wiring.pagerduty_api(self.settings)
        if api is None:
            return None
        host = sentry_host(self.settings.sentry_url)
        found = sentry_issue_ids(api.alerts(page.incident_id), [host] if host else [])
        return found[0] if found else None

    def _run_from_sentry_issue(self, page: Page, issue_id: str) -> str | None:
        """Admit the issue's latest event as the page's incident; None without the Sentry API
        or when Sentry does not know the issue."""
        api = wiring.sentry_api(self.settings)
        if api is None:
            return None
        try:
            event = api.latest_event(issue_id)
        except NotFound:
            return None
        incident = parse_payload(event)
        wiring.error_source(self.settings).record(incident, event)
        delivery = f"event:{incident.event_id}" if incident.event_id else f"issue:{issue_id}"
        admission = self.inbox.admit_event("sentry", delivery, incident, event, "run")
        target = admission.incident_id or incident.id
        self._link(page, target, f"Sentry issue {issue_id}")
        return f"linked to {target} through Sentry issue {issue_id} ({admission.outcome})"

    def _link(self, page: Page, incident_id: str, how: str) -> None:
        self.inbox.admit_note(
            "pagerduty",
            f"link:{page.incident_id}",
            incident_id,
            "paged",
            {"pagerduty_incident": page.incident_id, "url": page.html_url, "how": how},
        )


def _page_body(page: Page, project: str | None, issue_id: str | None) -> str:
    lines = [
        f"PagerDuty incident {page.incident_id}: {page.title}",
        f"service {page.service_id}" + (f" (Sentry project {project})" if project else ""),
        f"triggered at {page.occurred_at.isoformat()}",
    ]
    if issue_id:
        lines.append(f"Sentry issue {issue_id}")
    if page.html_url:
        lines.append(page.html_url)
    return "\n".join(lines)

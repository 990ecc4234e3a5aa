"""What the server does with one request: check it, read it, persist it, queue its work.

Never processes an incident: a request is answered once its delivery is in the inbox. Each
method returns the JSON answer, or raises `SignatureError` (401) or `IntakeError` (4xx); both
are raised before anything is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import SecretStr

from agent import wiring
from agent.domain import Incident
from agent.errors import FixloopError, IntakeError, SignatureError
from agent.guardrails.scrub import scrub_intake
from agent.intake import ci, issues, webhooks
from agent.intake.links import sentry_host
from agent.intake.payloads import parse_payload
from agent.ports import ErrorSource, EventReader, Inbox
from agent.settings import Settings

MAX_RELEASES_REMEMBERED = 10_000


class Receiver:
    def __init__(
        self,
        settings: Settings,
        inbox: Inbox,
        errors: ErrorSource,
        read_events: EventReader,
        on_job: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
        on_release: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_job`: a job was queued. `on_release`: an event named a release this receiver
        had not seen yet (a run may be waiting for it)."""
        self.settings = settings
        self.inbox = inbox
        self.errors = errors
        self.read_events = read_events
        self.on_job = on_job
        self.clock = clock
        self.on_release = on_release
        self._releases_seen: set[tuple[str | None, str]] = set()
        host = sentry_host(settings.sentry_url)
        self.sentry_hosts = [host] if host else []

    def sentry(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        webhooks.check_sentry(
            _listed(self.settings.sentry_client_secret, self.settings.sentry_client_secrets),
            body,
            headers.get("sentry-hook-signature"),
            headers.get("sentry-hook-timestamp"),
            self.clock(),
            self.settings.webhook_max_age,
        )
        resource = headers.get("sentry-hook-resource")
        if not resource:
            raise IntakeError("missing Sentry-Hook-Resource header")
        payload = webhooks.json_body(body, "Sentry webhook")
        if resource in webhooks.SENTRY_EVENT_RESOURCES:
            incident, event = webhooks.sentry_event(resource, payload)
            stored = {"action": payload.get("action"), "data": {"event": event}}
            return self._admit_event("sentry", incident, stored)
        if resource == "issue":
            return self._sentry_issue("content:" + webhooks.content_key(payload), payload)
        return {"ignored": f"Sentry-Hook-Resource {resource!r} is not read"}

    def _sentry_issue(self, request_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An issue webhook has no stack trace: queue fetching its latest event (with the
        Sentry API configured) when the issue is new or back; record it in any case."""
        data = payload.get("data")
        issue = data.get("issue") if isinstance(data, dict) else None
        if not isinstance(issue, dict) or not issue.get("id"):
            raise IntakeError("Sentry issue webhook has no 'data.issue' object with an id")
        action = payload.get("action")
        detail = {"action": action, "issue_id": str(issue["id"]), "title": issue.get("title")}
        can_fetch = bool(self.settings.sentry_org and self.settings.sentry_token)
        job = "sentry_issue" if can_fetch and action in ("created", "unresolved") else None
        admission = self.inbox.admit_note(
            "sentry", request_id, f"sentry-issue-{issue['id']}", f"issue.{action}", detail, job
        )
        if job is not None and admission.outcome == "recorded":
            self.on_job()
        note = "latest event queued for fetching" if job else "recorded only"
        if not can_fetch:
            note += ": fetching an issue's latest event needs sentry_org and sentry_token"
        return admission.model_dump() | {"note": note}

    def pagerduty(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        webhooks.check_pagerduty(
            self.settings.pagerduty_webhook_secrets, body, headers.get("x-pagerduty-signature")
        )
        payload = webhooks.json_body(body, "PagerDuty webhook")
        page = webhooks.pagerduty_page(
            payload, self.clock(), self.settings.webhook_max_age, self.sentry_hosts
        )
        incident = page.as_incident()
        if page.event_type == "incident.triggered":
            stored = {"page": page.model_dump(mode="json")}
            admission = self.inbox.admit_event("pagerduty", page.event_id, incident, stored, "page")
            if admission.outcome == "new":
                self.on_job()
            return admission.model_dump()
        if page.event_type == "incident.resolved":
            detail = page.model_dump(mode="json")
            return self.inbox.admit_note(
                "pagerduty", page.event_id, incident.id, "resolved", detail
            ).model_dump()
        return {"ignored": f"event_type {page.event_type!r} is not read"}

    def github(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        webhooks.check_github(
            _listed(self.settings.github_webhook_secret, self.settings.github_webhook_secrets),
            body,
            headers.get("x-hub-signature-256"),
        )
        event = headers.get("x-github-event")
        delivery = headers.get("x-github-delivery")
        if not event or not delivery:
            raise IntakeError("missing X-GitHub-Event or X-GitHub-Delivery header")
        payload = webhooks.json_body(body, "GitHub webhook")
        if event == "ping":
            return {"pong": True}
        if event in ci.CI_EVENTS:
            return self._ci_run(event, payload)
        if event == "issues":
            return self._issue(payload)
        if event not in ("pull_request", "pull_request_review"):
            return {"ignored": f"X-GitHub-Event {event!r} is not read"}
        pr = webhooks.github_pull_request(event, payload)
        if pr is None:
            return {"ignored": "not a pull request from a fixloop/* branch"}
        job = None
        if event == "pull_request" and pr.action == "closed":
            job = "merged" if pr.merged else "closed_unmerged"
        kind = f"{event}.{pr.action}"
        admission = self.inbox.admit_note(
            "github", "content:" + pr.content_key, pr.incident_id, kind, pr.model_dump(), job
        )
        if job is not None and admission.outcome == "recorded":
            self.on_job()
        return admission.model_dump()

    def _ci_run(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A failed CI run of a base branch: queue finding the tests its commit broke, once per
        repository and commit whichever event or delivery tells of it."""
        run = ci.github_ci_run(event, payload)
        if (why := run.ignored()) is not None:
            return {"ignored": why}
        route = ci.route_github_repo(self.settings, run.repository)
        if route is None:
            return {"ignored": f"repository {run.repository} is not configured (github_repo)"}
        try:
            base = route.base_branch or wiring.open_repo(route.checkout).default_branch()
        except FixloopError as error:
            message = f"the checkout of {run.repository} cannot be read: {error}"
            raise IntakeError(message, status=503) from None
        if run.head_branch != base:
            return {"ignored": f"branch {run.head_branch!r} is not the base branch {base!r}"}
        incident = run.as_incident()
        admission = self.inbox.admit_event(
            "github", run.dedup_key, incident, run.model_dump(mode="json"), "ci_run"
        )
        if admission.outcome == "new":
            self.on_job()
        return admission.model_dump() | {"commit": run.head_sha}

    def _issue(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An issue opened or labelled whose body holds a traceback: queue a run of it in the
        repository it belongs to, once per issue and body whichever event tells of it."""
        event = issues.github_issue(payload)
        route = ci.route_github_repo(self.settings, event.repository)
        if route is None:
            return {"ignored": f"repository {event.repository} is not configured (github_repo)"}
        effective = self.settings.for_repo(route.table)
        why = event.ignored(effective.issue_trigger, effective.issue_label, effective.github_login)
        if why is not None:
            return {"ignored": why}
        try:
            incident = event.as_incident()
        except IntakeError as error:
            return {"ignored": f"issue {event.reference} holds no readable traceback: {error}"}
        stored = {"issue": event.model_dump(mode="json")}
        incident, stored = scrub_intake(
            incident, stored, self.settings.scrub_keys, keep_raw=self.settings.keep_raw_payloads
        )
        admission = self.inbox.admit_event("github", event.content_key, incident, stored, "issue")
        if admission.outcome == "new":
            self.on_job()
        return admission.model_dump() | {"issue": event.reference}

    def ingest(
        self,
        project: str,
        endpoint: str,
        body: bytes,
        headers: Mapping[str, str],
        query_key: str | None,
    ) -> dict[str, Any]:
        """Sentry's ingest protocol: authenticated by a DSN key, answered with the event id."""
        self._check_dsn_key(_dsn_key(headers.get("x-sentry-auth")) or query_key)
        events = self.read_events(project, endpoint, body, headers.get("content-encoding"))
        events = [webhooks.without_lone_surrogates(event) for event in events]
        incidents = [(parse_payload(event), event) for event in events]
        event_id = None
        for incident, event in incidents:
            self._admit_event("ingest", incident, event)
            event_id = incident.event_id
        return {"id": event_id}

    def _note_release(self, incident: Incident) -> None:
        if incident.release is None:
            return
        release = (incident.project, incident.release)
        if release not in self._releases_seen:
            if len(self._releases_seen) >= MAX_RELEASES_REMEMBERED:
                self._releases_seen.clear()
            self._releases_seen.add(release)
            self.on_release()

    def _check_dsn_key(self, key: str | None) -> None:
        keys = self.settings.ingest_keys
        if not keys:
            raise SignatureError("ingest is refused: no ingest_keys are set")
        if not key:
            raise SignatureError("missing DSN key (X-Sentry-Auth sentry_key, or ?sentry_key=)")
        if not any(webhooks.same_secret(key, known.get_secret_value()) for known in keys):
            raise SignatureError("unknown DSN key")

    def _admit_event(
        self, source: str, incident: Incident, stored: dict[str, Any]
    ) -> dict[str, Any]:
        """Count the event first (idempotent by event id), then admit it: a delivery retried
        after a crash between the two is neither lost nor counted twice. An event without an
        id is known by its content, never by a header its sender chose."""
        incident, stored = scrub_intake(
            incident, stored, self.settings.scrub_keys, keep_raw=self.settings.keep_raw_payloads
        )
        self.errors.record(incident, stored)
        self._note_release(incident)
        if incident.event_id:
            delivery = f"event:{incident.event_id}"
        else:
            delivery = "content:" + webhooks.content_key(stored)
        admission = self.inbox.admit_event(source, delivery, incident, stored, "run")
        if admission.outcome == "new":
            self.on_job()
        return admission.model_dump()


def _listed(one: SecretStr | None, more: list[SecretStr]) -> list[SecretStr]:
    """A secret setting and its list of more (rotation), as one list."""
    return ([one] if one is not None else []) + more


def _dsn_key(auth_header: str | None) -> str | None:
    """`sentry_key` of an `X-Sentry-Auth: Sentry sentry_key=..., sentry_version=7` header."""
    if not auth_header:
        return None
    fields = auth_header.removeprefix("Sentry ").split(",")
    for field in fields:
        name, _, value = field.strip().partition("=")
        if name == "sentry_key":
            return value.strip()
    return None

"""Signed webhooks from Sentry, PagerDuty and GitHub: check the signature, read the body.

Pure functions over bytes and headers; nothing here stores or calls anything. A bad signature
raises `SignatureError` (the server answers 401), a bad body `IntakeError` (400).

* Sentry:    `Sentry-Hook-Signature` = hex HMAC-SHA256 of the raw body with the client secret;
             `Sentry-Hook-Timestamp` (seconds) must be recent.
* PagerDuty: `X-PagerDuty-Signature` = `v1=<hex HMAC-SHA256>`, comma-separated, one per secret
             during a rotation; the event's `occurred_at` must be recent.
* GitHub:    `X-Hub-Signature-256` = `sha256=<hex HMAC-SHA256>`; replays are caught by the
             delivery id (`X-GitHub-Delivery`), as GitHub signs no timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from agent.domain import BOT_BRANCH_PREFIX, Incident
from agent.errors import IntakeError, SignatureError
from agent.intake.links import sentry_issue_ids
from agent.intake.payloads import parse_payload

SENTRY_EVENT_RESOURCES = ("event_alert", "error")


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body`: what each of the three services signs."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_sentry(
    secret: SecretStr | None,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_age: float,
) -> None:
    if secret is None:
        raise SignatureError("Sentry webhooks are refused: no sentry_client_secret is set")
    if not signature:
        raise SignatureError("missing Sentry-Hook-Signature")
    if not hmac.compare_digest(signature.strip(), sign(secret.get_secret_value(), body)):
        raise SignatureError("Sentry-Hook-Signature does not match the body")
    if not timestamp:
        raise SignatureError("missing Sentry-Hook-Timestamp")
    try:
        sent = float(timestamp)
    except ValueError:
        raise SignatureError(f"Sentry-Hook-Timestamp {timestamp[:40]!r} is not a number") from None
    if abs(now - sent) > max_age:
        raise SignatureError(f"stale webhook: sent {now - sent:.0f} s ago (limit {max_age:.0f} s)")


def check_pagerduty(secrets: Sequence[SecretStr], body: bytes, header: str | None) -> None:
    if not secrets:
        raise SignatureError("PagerDuty webhooks are refused: no pagerduty_webhook_secrets set")
    if not header:
        raise SignatureError("missing X-PagerDuty-Signature")
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    expected = [sign(secret.get_secret_value(), body) for secret in secrets]
    if not any(hmac.compare_digest(o, e) for o in offered for e in expected):
        raise SignatureError("no v1 signature in X-PagerDuty-Signature matches the body")


def check_github(secret: SecretStr | None, body: bytes, header: str | None) -> None:
    if secret is None:
        raise SignatureError("GitHub webhooks are refused: no github_webhook_secret is set")
    if not header:
        raise SignatureError("missing X-Hub-Signature-256")
    expected = "sha256=" + sign(secret.get_secret_value(), body)
    if not hmac.compare_digest(header.strip(), expected):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def json_body(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntakeError(f"{what} body is not valid JSON ({exc})") from None
    except RecursionError:
        raise IntakeError(f"{what} body is nested too deeply") from None
    if not isinstance(value, dict):
        raise IntakeError(f"{what} body is not a JSON object")
    return value


def sentry_event(resource: str, payload: dict[str, Any]) -> tuple[Incident, dict[str, Any]]:
    """The incident and event of an `event_alert` or `error` webhook."""
    data = payload.get("data")
    if not isinstance(data, dict):
        raise IntakeError(f"Sentry {resource} webhook has no 'data' object")
    event = data.get("event" if resource == "event_alert" else "error")
    if not isinstance(event, dict):
        key = "data.event" if resource == "event_alert" else "data.error"
        raise IntakeError(f"Sentry {resource} webhook has no '{key}' object")
    return parse_payload({"action": payload.get("action"), "data": {"event": event}}), event


class Page(BaseModel):
    """One PagerDuty v3 webhook event about an incident."""

    event_id: str
    event_type: str
    incident_id: str
    incident_key: str
    title: str
    service_id: str
    html_url: str | None
    occurred_at: datetime
    sentry_issue: str | None = None
    """The Sentry issue a link in the incident's data points at, when there is one."""

    def as_incident(self) -> Incident:
        digest = hashlib.sha256(f"pagerduty:{self.incident_key}".encode()).hexdigest()
        return Incident(
            id="fx-" + hashlib.sha256(f"pagerduty:{self.incident_id}".encode()).hexdigest()[:12],
            source="pagerduty",
            fingerprint=digest,
            title=self.title,
            project=self.service_id,
            event_id=self.event_id,
            tags={"pagerduty_incident": self.incident_id},
        )


def pagerduty_page(
    payload: dict[str, Any], now: float, max_age: float, sentry_hosts: Sequence[str] = ()
) -> Page:
    """The incident a v3 webhook is about. `sentry_hosts`: hosts besides sentry.io whose issue
    URLs in the incident's data (links, custom details, body) link it to a Sentry issue."""
    event = payload.get("event")
    if not isinstance(event, dict):
        raise IntakeError("PagerDuty webhook has no 'event' object (v3 webhooks only)")
    event_id = _text(event, "id", "event")
    event_type = _text(event, "event_type", "event")
    data = event.get("data")
    if not isinstance(data, dict):
        raise IntakeError("PagerDuty event has no 'data' object")
    service = data.get("service")
    if not isinstance(service, dict):
        raise IntakeError("PagerDuty incident has no 'service' object")
    try:
        occurred_at = datetime.fromisoformat(_text(event, "occurred_at", "event"))
    except ValueError:
        raise IntakeError("PagerDuty event occurred_at is not an ISO 8601 time") from None
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    age = now - occurred_at.timestamp()
    if age > max_age:
        raise SignatureError(f"stale webhook: occurred {age:.0f} s ago (limit {max_age:.0f} s)")
    incident_id = _text(data, "id", "incident")
    html_url = data.get("html_url")
    linked = sentry_issue_ids(data, sentry_hosts)
    return Page(
        event_id=event_id,
        event_type=event_type,
        incident_id=incident_id,
        incident_key=str(data.get("incident_key") or incident_id),
        title=str(data.get("title") or f"PagerDuty incident {incident_id}"),
        service_id=_text(service, "id", "service"),
        html_url=html_url if isinstance(html_url, str) else None,
        occurred_at=occurred_at,
        sentry_issue=linked[0] if linked else None,
    )


class PullRequestEvent(BaseModel):
    """A GitHub event about a pull request on a `fixloop/<incident-id>` branch."""

    action: str
    number: int
    incident_id: str
    merged: bool
    review_state: str | None
    sender: str


def github_pull_request(event: str, payload: dict[str, Any]) -> PullRequestEvent | None:
    """The fixloop PR a `pull_request` or `pull_request_review` event is about, else None."""
    pr = payload.get("pull_request")
    if not isinstance(pr, dict):
        raise IntakeError(f"GitHub {event} event has no 'pull_request' object")
    head = pr.get("head")
    if not isinstance(head, dict) or not isinstance(head.get("ref"), str):
        raise IntakeError("pull_request has no head.ref")
    number = pr.get("number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise IntakeError("pull_request.number is not an integer")
    branch: str = head["ref"]
    if not branch.startswith(BOT_BRANCH_PREFIX):
        return None
    review = payload.get("review")
    sender = payload.get("sender")
    return PullRequestEvent(
        action=str(payload.get("action") or ""),
        number=number,
        incident_id=branch.removeprefix(BOT_BRANCH_PREFIX),
        merged=bool(pr.get("merged")),
        review_state=str(review.get("state")) if isinstance(review, dict) else None,
        sender=str(sender.get("login")) if isinstance(sender, dict) else "unknown",
    )


def _text(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise IntakeError(f"PagerDuty {what} has no '{key}' string")
    return value

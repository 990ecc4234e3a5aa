"""Signed webhooks from Sentry, PagerDuty and GitHub: check the signature, read the body.

Pure functions over bytes and headers; nothing here stores or calls anything. A bad signature
raises `SignatureError` (the server answers 401), a bad body `IntakeError` (400).

* Sentry:    `Sentry-Hook-Signature` = hex HMAC-SHA256 of the raw body with the client secret;
             `Sentry-Hook-Timestamp` (seconds) must be recent.
* PagerDuty: `X-PagerDuty-Signature` = `v1=<hex HMAC-SHA256>`, comma-separated, one per secret
             during a rotation; the event's `occurred_at` must be recent.
* GitHub:    `X-Hub-Signature-256` = `sha256=<hex HMAC-SHA256>`. GitHub signs no timestamp,
             and a manual redelivery has a new `X-GitHub-Delivery`: replays are caught by the
             content's identity (`PullRequestEvent.content_key`), never by a header.

Header values arrive as Latin-1 text: a signature or key with a byte outside ASCII does not
match (401). A JSON string with a lone surrogate (`"\\udcff"`, which no UTF-8 encoder can
write) has it replaced by U+FFFD, so a real event quoting a mis-encoded name is kept, not lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from agent.domain import BOT_BRANCH_PREFIX, Incident
from agent.errors import IntakeError, SignatureError
from agent.intake.links import sentry_issue_ids
from agent.intake.payloads import parse_payload

SENTRY_EVENT_RESOURCES = ("event_alert", "error")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body`: what each of the three services signs."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_secret(offered: str, expected: str) -> bool:
    """Constant-time comparison of a header value with the expected one; a value with a
    character outside ASCII (a Latin-1 byte of the header) matches nothing."""
    return offered.isascii() and hmac.compare_digest(offered, expected)


def content_key(value: Any) -> str:
    """A hash of `value`'s canonical JSON: the identity of a delivery by what it says."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate in its strings and keys made U+FFFD."""
    if isinstance(value, str):
        return value if value.isascii() else _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {without_lone_surrogates(k): without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    return value


def check_sentry(
    secrets: Sequence[SecretStr],
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_age: float,
) -> None:
    """`secrets`: every client secret accepted (the old and the new one while rotating)."""
    if not secrets:
        raise SignatureError("Sentry webhooks are refused: no sentry_client_secret is set")
    if not signature:
        raise SignatureError("missing Sentry-Hook-Signature")
    offered = signature.strip()
    if not any(same_secret(offered, sign(s.get_secret_value(), body)) for s in secrets):
        raise SignatureError("Sentry-Hook-Signature does not match the body")
    if not timestamp:
        raise SignatureError("missing Sentry-Hook-Timestamp")
    try:
        sent = float(timestamp)
    except ValueError:
        raise SignatureError(f"Sentry-Hook-Timestamp {timestamp[:40]!r} is not a number") from None
    if not math.isfinite(sent):
        raise SignatureError(f"stale webhook: Sentry-Hook-Timestamp {timestamp[:40]!r} is no time")
    if abs(now - sent) > max_age:
        raise SignatureError(f"stale webhook: sent {now - sent:.0f} s ago (limit {max_age:.0f} s)")


def check_pagerduty(secrets: Sequence[SecretStr], body: bytes, header: str | None) -> None:
    if not secrets:
        raise SignatureError("PagerDuty webhooks are refused: no pagerduty_webhook_secrets set")
    if not header:
        raise SignatureError("missing X-PagerDuty-Signature")
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    expected = [sign(secret.get_secret_value(), body) for secret in secrets]
    if not any(same_secret(o, e) for o in offered for e in expected):
        raise SignatureError("no v1 signature in X-PagerDuty-Signature matches the body")


def check_github(secrets: Sequence[SecretStr], body: bytes, header: str | None) -> None:
    """`secrets`: every webhook secret accepted (the old and the new one while rotating)."""
    if not secrets:
        raise SignatureError("GitHub webhooks are refused: no github_webhook_secret is set")
    if not header:
        raise SignatureError("missing X-Hub-Signature-256")
    offered = header.strip()
    expected = ["sha256=" + sign(secret.get_secret_value(), body) for secret in secrets]
    if not any(same_secret(offered, one) for one in expected):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def json_body(body: bytes, what: str) -> dict[str, Any]:
    try:
        value = without_lone_surrogates(json.loads(body))
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
    content_key: str
    """What the event says happened (event, action, pull request, head commit, when; the
    review for a review): the same on every redelivery whatever its delivery id."""


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
    repository = payload.get("repository")
    identity = [event, payload.get("action"), pr.get("id"), number, branch, head.get("sha")]
    identity.append(pr.get("updated_at"))
    identity.append(repository.get("id") if isinstance(repository, dict) else None)
    if isinstance(review, dict):
        identity += [review.get("id"), review.get("state"), review.get("submitted_at")]
    return PullRequestEvent(
        action=str(payload.get("action") or ""),
        number=number,
        incident_id=branch.removeprefix(BOT_BRANCH_PREFIX),
        merged=bool(pr.get("merged")),
        review_state=str(review.get("state")) if isinstance(review, dict) else None,
        sender=str(sender.get("login")) if isinstance(sender, dict) else "unknown",
        content_key=content_key(identity),
    )


def _text(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise IntakeError(f"PagerDuty {what} has no '{key}' string")
    return value

"""Requests signed the way Sentry, PagerDuty and GitHub sign them."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from agent.intake.webhooks import sign

SENTRY_SECRET = "sentry-client-secret"
PAGERDUTY_SECRET = "pagerduty-secret"
GITHUB_SECRET = "github-secret"
DSN_KEY = "public-key"


def sentry(
    payload: dict[str, Any],
    resource: str = "event_alert",
    secret: str = SENTRY_SECRET,
    sent: float | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Signature": sign(secret, body),
        "Sentry-Hook-Timestamp": str(int(time.time() if sent is None else sent)),
        "Request-ID": str(uuid.uuid4()),
    }


def post_sentry(client: TestClient, payload: dict[str, Any], **kwargs: Any) -> Any:
    """POST `payload` to `fixloop serve`'s Sentry webhook, signed; `kwargs` go to `sentry`."""
    body, headers = sentry(payload, **kwargs)
    return client.post("/webhooks/sentry", content=body, headers=headers)


def pagerduty(payload: dict[str, Any], *secrets: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signatures = ",".join(f"v1={sign(s, body)}" for s in secrets or (PAGERDUTY_SECRET,))
    return body, {"Content-Type": "application/json", "X-PagerDuty-Signature": signatures}


def github(
    event: str, payload: dict[str, Any], secret: str = GITHUB_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + sign(secret, body),
    }


def page(
    event_type: str = "incident.triggered",
    incident: str = "PT4KHLK",
    service: str = "PSVC1",
    occurred_at: datetime | None = None,
    **data: Any,
) -> dict[str, Any]:
    """A PagerDuty v3 webhook body about one incident; `data` adds fields to its `data`."""
    return {
        "event": {
            "id": uuid.uuid4().hex,
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
            "data": {
                "id": incident,
                "type": "incident",
                "title": "Checkout 500s",
                "html_url": f"https://acme.pagerduty.com/incidents/{incident}",
                "incident_key": f"key-{incident}",
                "service": {"id": service, "summary": "checkout"},
                **data,
            },
        }
    }


def pull_request(
    incident_id: str, action: str = "closed", merged: bool = True, number: int = 7
) -> dict[str, Any]:
    return {
        "action": action,
        "pull_request": {
            "number": number,
            "merged": merged,
            "head": {"ref": f"fixloop/{incident_id}"},
        },
        "sender": {"login": "octocat"},
    }


def workflow_run(
    repository: str,
    head_sha: str,
    branch: str = "main",
    conclusion: str | None = "failure",
    action: str = "completed",
    head_repository: str | None = None,
) -> dict[str, Any]:
    """A GitHub `workflow_run` webhook body, trimmed to what GitHub always sends."""
    return {
        "action": action,
        "workflow_run": {
            "id": 30433642,
            "name": "CI",
            "event": "push",
            "status": "completed" if action == "completed" else "in_progress",
            "conclusion": conclusion,
            "head_branch": branch,
            "head_sha": head_sha,
            "run_attempt": 1,
            "html_url": f"https://github.com/{repository}/actions/runs/30433642",
            "head_repository": {"full_name": head_repository or repository},
        },
        "repository": {"full_name": repository, "default_branch": "main"},
        "sender": {"login": "octocat"},
    }


def check_suite(
    repository: str, head_sha: str, branch: str = "main", conclusion: str | None = "failure"
) -> dict[str, Any]:
    """A GitHub `check_suite` webhook body, trimmed to what GitHub always sends."""
    return {
        "action": "completed",
        "check_suite": {
            "id": 118578147,
            "status": "completed",
            "conclusion": conclusion,
            "head_branch": branch,
            "head_sha": head_sha,
            "app": {"name": "GitHub Actions"},
            "url": f"https://api.github.com/repos/{repository}/check-suites/118578147",
        },
        "repository": {"full_name": repository, "default_branch": "main"},
        "sender": {"login": "octocat"},
    }


def issue(
    repo: str,
    number: int,
    body: str,
    action: str = "opened",
    labels: tuple[str, ...] = (),
    author: str = "a-reporter",
    label: str | None = None,
) -> dict[str, Any]:
    """An `issues` webhook body as GitHub sends it (the fields fixloop reads, and a few more)."""
    payload: dict[str, Any] = {
        "action": action,
        "issue": {
            "id": 5000 + number,
            "number": number,
            "title": f"Crash report {number}",
            "body": body,
            "state": "open",
            "user": {"login": author, "type": "User"},
            "labels": [{"id": i, "name": name} for i, name in enumerate(labels)],
            "html_url": f"https://github.example/{repo}/issues/{number}",
        },
        "repository": {"id": 77, "full_name": repo},
        "sender": {"login": author},
    }
    if label is not None:
        payload["label"] = {"name": label}
    return payload

"""The server's OpenAPI schema: FastAPI's for the GET routes, and the signed POST routes (plain
Starlette routes, so FastAPI does not see them) described by hand.

What a client or a schema-driven fuzzer (`evals/fuzz_server.py`) reads: every header a sender
may set, the body's media type and the statuses a request can get. Bodies are loose on purpose:
the server validates them itself and answers 400 with the reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_REFUSALS = {
    "400": "the body or a header is malformed (the reason is in `error`)",
    "401": "signature, timestamp or DSN key missing, wrong or stale",
    "408": "the body did not arrive within `body_read_timeout` (or the headers within "
    "`header_read_timeout`)",
    "413": "the body is too large",
}
_JSON_OBJECT = {"type": "object", "additionalProperties": True}


def schema(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    paths: dict[str, Any] = document.setdefault("paths", {})
    paths["/webhooks/sentry"] = _post(
        "A Sentry integration webhook (event_alert, error, issue).",
        ["Sentry-Hook-Resource", "Sentry-Hook-Signature", "Sentry-Hook-Timestamp", "Request-ID"],
        {"application/json": {"schema": _sentry_body()}},
    )
    paths["/webhooks/pagerduty"] = _post(
        "A PagerDuty v3 webhook.",
        ["X-PagerDuty-Signature"],
        {"application/json": {"schema": _JSON_OBJECT}},
    )
    paths["/webhooks/github"] = _post(
        "A GitHub webhook (pull_request, pull_request_review, workflow_run, check_suite, ping).",
        ["X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"],
        {"application/json": {"schema": _JSON_OBJECT}},
    )
    ingest = ["X-Sentry-Auth", "Content-Encoding"]
    paths["/api/{project}/envelope/"] = _post(
        "Sentry ingest: an envelope.",
        ingest,
        {"application/x-sentry-envelope": {"schema": {"type": "string"}}},
        ingest=True,
    )
    paths["/api/{project}/store/"] = _post(
        "Sentry ingest: one event.",
        ingest,
        {"application/json": {"schema": _JSON_OBJECT}},
        ingest=True,
    )
    return document


def _post(
    summary: str, headers: list[str], content: dict[str, Any], ingest: bool = False
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        for name in headers
    ]
    if ingest:
        parameters += [
            {"name": "project", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "sentry_key", "in": "query", "required": False, "schema": {"type": "string"}},
        ]
    responses = {"200": {"description": "accepted, a duplicate, or ignored with the reason"}}
    responses |= {status: {"description": why} for status, why in _REFUSALS.items()}
    if ingest:
        responses["415"] = {"description": "an unknown Content-Encoding"}
    return {
        "post": {
            "summary": summary,
            "parameters": parameters,
            "requestBody": {"required": True, "content": content},
            "responses": responses,
        }
    }


def _sentry_body() -> dict[str, Any]:
    event = {
        "type": "object",
        "properties": {
            "event_id": {"type": "string"},
            "message": {"type": "string"},
            "exception": _JSON_OBJECT,
        },
    }
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string"},
            "data": {"type": "object", "properties": {"event": event, "error": event}},
        },
    }

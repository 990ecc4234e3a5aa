"""The operator endpoints of `fixloop serve`: pause and unpause over HTTP.

    POST /controls/pause     {"repo": NAME?, "reason": TEXT?, "by": TEXT?}
    POST /controls/unpause   {"repo": NAME?, "by": TEXT?}

Each needs `Authorization: Bearer <operator_token>`; without the setting both are refused
(401). A request never runs the loop: unpause clears the switch and queues one `resume_held`
job per paused run for the worker.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agent.controls import switch
from agent.errors import ConfigError
from agent.ports import Inbox
from agent.settings import Settings

MAX_BODY_BYTES = 16 * 1024


def add_routes(app: FastAPI, settings: Settings, inbox: Inbox, wake: Callable[[], None]) -> None:
    async def pause(request: Request) -> JSONResponse:
        refused = _refused(request, settings)
        if refused is not None:
            return refused
        try:
            body = await _body(request)
            paused = switch.pause(
                settings, body.get("repo"), _by(body), str(body.get("reason", ""))
            )
        except (ValueError, ConfigError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"paused": paused.model_dump(mode="json")})

    async def unpause(request: Request) -> JSONResponse:
        refused = _refused(request, settings)
        if refused is not None:
            return refused
        try:
            body = await _body(request)
            cleared = switch.unpause(settings, body.get("repo"), _by(body))
        except (ValueError, ConfigError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        queued = queue_resumes(settings, inbox)
        if queued:
            wake()
        return JSONResponse({"cleared": cleared is not None, "queued": queued})

    app.router.add_route("/controls/pause", pause, methods=["POST"], name="pause")
    app.router.add_route("/controls/unpause", unpause, methods=["POST"], name="unpause")


def queue_resumes(settings: Settings, inbox: Inbox) -> list[str]:
    """Queue a `resume_held` job for every paused run; return their incidents."""
    now = f"{time.time():.6f}"
    paused = switch.paused_runs(settings)
    for incident in paused:
        inbox.admit_note(
            "fixloop",
            f"unpause:{incident}:{now}",
            incident,
            "unpause",
            {"awaiting": "unpause"},
            job="resume_held",
        )
    return paused


def _refused(request: Request, settings: Settings) -> JSONResponse | None:
    token = settings.operator_token
    if token is None:
        return JSONResponse({"error": "operator endpoints are off: set operator_token"}, 401)
    given = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return JSONResponse({"error": "bad or missing operator token"}, 401)
    return None


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError(f"body is over {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"body is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    for key in ("repo", "reason", "by"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise ValueError(f"{key} must be a string")
    return body


def _by(body: dict[str, Any]) -> str:
    return f"{body.get('by') or 'operator'} (http)"

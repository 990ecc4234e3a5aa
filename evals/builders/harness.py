"""Start the real sentry-sdk in a case's trigger process and keep every event it sends.

`kit.build_case` copies this file as `sitecustomize.py` onto the trigger's PYTHONPATH, so Python
runs it at start-up, before the trigger script (the app's entry point) runs as `__main__`, and
none of it shows in the event's stack. The config is the JSON file named by
`FIXLOOP_CASE_CONFIG`. The transport writes events to a file instead of the network;
`before_send` rewrites the build's paths to the deploy paths and pins the fields that change on
every run, so a rebuilt case has the same payload. An exception the trigger does not catch
reaches sentry-sdk's excepthook integration, as in production.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, cast

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

if TYPE_CHECKING:
    from sentry_sdk._types import Event

with open(os.environ["FIXLOOP_CASE_CONFIG"], encoding="utf-8") as _config:
    CONFIG: dict[str, Any] = json.load(_config)


class FileTransport(Transport):
    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type == "event" and item.payload.json is not None:
                with open(CONFIG["out"], "a", encoding="utf-8") as out:
                    out.write(json.dumps(item.payload.json) + "\n")


def _rewrite(value: Any) -> Any:
    if isinstance(value, str):
        for old, new in CONFIG["rewrite"].items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _rewrite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item) for item in value]
    return value


def before_send(original: Event, hint: dict[str, Any]) -> Event:
    event: dict[str, Any] = _rewrite(dict(original))
    event["event_id"] = CONFIG["event_id"]
    event["timestamp"] = CONFIG["timestamp"]
    event.pop("modules", None)
    trace = event.get("contexts", {}).get("trace")
    if isinstance(trace, dict):
        trace["trace_id"] = CONFIG["event_id"]
        trace["span_id"] = CONFIG["event_id"][:16]
        trace.pop("parent_span_id", None)
    for crumb in event.get("breadcrumbs", {}).get("values", []):
        crumb["timestamp"] = CONFIG["timestamp"] - 1
    for key in ("runtime", "os"):
        event.get("contexts", {}).pop(key, None)
    event.get("extra", {}).pop("sys.argv", None)
    return cast("Event", event)


sentry_sdk.init(
    dsn="https://public@sentry.invalid/1",
    transport=FileTransport,
    release=CONFIG["release"],
    environment=CONFIG["environment"],
    server_name=CONFIG["server_name"],
    before_send=before_send,
    include_local_variables=True,
)

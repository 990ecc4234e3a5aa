"""Turn an incoming payload into one `Incident` with a stable fingerprint.

Four shapes are read, detected from their keys:

* `sentry_event`   the event JSON sentry-sdk sends (the `event` item of an envelope)
* `sentry_webhook` Sentry's `event_alert` integration webhook (the event under `data.event`)
* `sentry_api`     an event from Sentry's REST API (`entries[]`, camelCase frame keys)
* `test_failure`   `{"kind": "test_failure", "tests": ["path::name", ...]}`, the tests in any
                   shape `agent.intake.test_ids` resolves; or a JUnit XML report (`.xml`, read
                   by `agent.intake.junit`): its failed and errored test cases
* `traceback`      `{"kind": "traceback", "text": "Traceback (most recent call last): ..."}`, or
                   the text itself from a `.txt`, `.log` or `.md` file (a bug report, an issue's
                   body: markdown fences are read as plain text by `agent.intake.markdown`),
                   read by `agent.intake.tracebacks`

Every bad input raises `IntakeError` with one short line; nothing here touches the outside world.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.domain import ExceptionInfo, Frame, Incident, IncidentSource
from agent.errors import IntakeError
from agent.intake import junit
from agent.intake.markdown import plain_text
from agent.intake.tracebacks import parse_traceback

SHAPES_HINT = (
    "expected a Sentry event ('exception' or 'message'), an event_alert webhook "
    "('data.event'), a Sentry API event ('entries'), {'kind': 'test_failure', 'tests': [...]}, "
    "or {'kind': 'traceback', 'text': '...'}"
)
TEXT_SUFFIXES = (".txt", ".log", ".md", ".markdown")
"""Event files read as traceback text rather than JSON."""
_EVENT_KEYS = ("exception", "message", "logentry", "event_id")
_VENDORED_MARKERS = ("site-packages/", "dist-packages/")
_TITLE_VALUE_LIMIT = 200


def parse_payload(payload: object) -> Incident:
    """Detect the payload's shape and normalise it; raise `IntakeError` when it is none of them."""
    if not isinstance(payload, dict):
        raise IntakeError(f"payload is {_json_type(payload)}, expected a JSON object")
    if "kind" in payload:
        if payload["kind"] == "traceback":
            return _from_traceback(payload)
        if payload["kind"] != "test_failure":
            kind = payload["kind"]
            raise IntakeError(
                f"unknown kind {kind!r}; the kinds read are 'test_failure' and 'traceback'"
            )
        return _from_test_failure(payload)
    data = payload.get("data")
    if isinstance(data, dict) and "event" in data:
        return _from_webhook(payload, data)
    if "entries" in payload:
        return _from_api_event(payload)
    if any(key in payload for key in _EVENT_KEYS):
        return _from_event(payload, "sentry_event")
    keys = ", ".join(sorted(str(key) for key in payload)[:12]) or "none"
    raise IntakeError(f"unrecognised payload (keys: {keys}); {SHAPES_HINT}")


def load_event_file(path: Path) -> tuple[Incident, dict[str, Any]]:
    """Read a payload from `path` (JSON, traceback text or JUnit XML); return the incident and
    the payload as read (for JUnit XML, the `test_failure` payload made of it)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise IntakeError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IntakeError(f"{path}: is a directory, expected a JSON file") from None
    except OSError as exc:
        raise IntakeError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise IntakeError(f"{path}: file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if path.suffix.lower() in TEXT_SUFFIXES:
        payload = {"kind": "traceback", "text": text}
        try:
            return parse_payload(payload), payload
        except IntakeError as exc:
            raise IntakeError(f"{path}: {exc}") from None
    if path.suffix.lower() == ".xml" or junit.looks_like_xml(text):
        try:
            report: dict[str, Any] = {"kind": "test_failure"}
            report["tests"] = junit.failing_tests(raw, text)
            return parse_payload(report), report
        except IntakeError as exc:
            raise IntakeError(f"{path}: {exc}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}:{exc.colno}"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise IntakeError(f"{path}: JSON is truncated (ends at {where})") from None
        raise IntakeError(f"{path}: not valid JSON ({exc.msg} at {where})") from None
    except RecursionError:
        raise IntakeError(f"{path}: JSON is nested too deeply") from None
    if not isinstance(payload, dict):
        raise IntakeError(f"{path}: top level is {_json_type(payload)}, expected a JSON object")
    try:
        incident = parse_payload(payload)
    except IntakeError as exc:
        raise IntakeError(f"{path}: {exc}") from None
    return incident, payload


def fingerprint(
    exceptions: Sequence[ExceptionInfo] = (),
    *,
    failing_tests: Sequence[str] = (),
    message: str | None = None,
    project: str | None = None,
) -> str:
    """A sha256 hex digest that is the same for every event of one bug in one project.

    Like Sentry's grouping, it is scoped to the reporting project: the same stack in two
    services is two incidents.

    Failing tests: the sorted test ids. Exceptions: each exception's type and, for its in-app
    frames (all frames when none is marked in-app), the module (or the filename without deploy
    prefix) and the function. Line numbers, values, paths' prefixes and event ids never count.
    A message-only event falls back to its message.
    """
    basis: object
    if failing_tests:
        basis = {"tests": sorted(set(failing_tests))}
    elif exceptions:
        basis = {"exceptions": [[exc.type, _frame_keys(exc.frames)] for exc in exceptions]}
    elif message:
        basis = {"message": message}
    else:
        raise IntakeError("nothing to fingerprint: no exception, no message and no failing test")
    if project is not None:
        basis = {"project": project, **basis}
    canonical = json.dumps(basis, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def incident_id(event_id: str | None, fingerprint: str) -> str:
    """`fx-` + 12 hex: from the event id when there is one, else from the fingerprint."""
    if event_id:
        basis = "event:" + event_id.replace("-", "").lower()
    else:
        basis = "fingerprint:" + fingerprint
    return "fx-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


def normalise_path(filename: str) -> str:
    """A frame's filename without deploy prefix: `app/reports.py` for any checkout location."""
    path = filename.replace("\\", "/")
    for marker in _VENDORED_MARKERS:
        if marker in path:
            path = path.rsplit(marker, 1)[1]
    while path.startswith("./"):
        path = path[2:]
    if path.startswith("/") or re.match(r"^[A-Za-z]:/", path):
        path = "/".join(path.rstrip("/").split("/")[-2:])
    return path


def _frame_keys(frames: Sequence[Frame]) -> list[list[str]]:
    chosen = [frame for frame in frames if frame.in_app] or list(frames)
    return [[frame.module or normalise_path(frame.filename), frame.function] for frame in chosen]


# --- shapes -------------------------------------------------------------------------------


def _from_test_failure(payload: dict[str, Any]) -> Incident:
    tests = payload.get("tests")
    if not isinstance(tests, list) or not tests:
        raise IntakeError("test_failure needs 'tests': a non-empty list of pytest node ids")
    for position, test in enumerate(tests, start=1):
        if not isinstance(test, str) or not test.strip():
            raise IntakeError(f"test_failure: test {position} is not a non-empty string")
    failing = list(dict.fromkeys(test.strip() for test in tests))
    digest = fingerprint(failing_tests=failing)
    shown = ", ".join(failing[:3]) + (f" (+{len(failing) - 3} more)" if len(failing) > 3 else "")
    return _incident(
        id=incident_id(None, digest),
        source="test_failure",
        fingerprint=digest,
        title=f"Failing tests: {shown}",
        failing_tests=failing,
        project=_opt_text(payload, "project"),
        release=_opt_text(payload, "release"),
        environment=_opt_text(payload, "environment"),
    )


def _from_traceback(payload: dict[str, Any]) -> Incident:
    """Traceback text from a log or a bug report. With no event id, the incident is named by
    the text itself: the same excerpt sent twice is one incident, another occurrence (another
    timestamp in its log prefix) is a new one."""
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise IntakeError("traceback needs 'text': the traceback as a non-empty string")
    exceptions = parse_traceback(plain_text(text))
    project = _opt_text(payload, "project") or _opt_text(payload, "service")
    service = _opt_text(payload, "service")
    digest = fingerprint(exceptions, project=project)
    text_id = hashlib.sha256(text.strip().encode()).hexdigest()
    return _incident(
        id=incident_id(text_id, digest),
        source="traceback",
        fingerprint=digest,
        title=_title(exceptions, ""),
        exceptions=exceptions,
        project=project,
        release=_opt_text(payload, "release"),
        environment=_opt_text(payload, "environment"),
        platform="python",
        timestamp=_timestamp(payload.get("timestamp")),
        tags={"service": service} if service else {},
    )


def _from_webhook(payload: dict[str, Any], data: dict[str, Any]) -> Incident:
    event = data["event"]
    if not isinstance(event, dict):
        raise IntakeError(f"webhook data.event is {_json_type(event)}, expected an object")
    action = payload.get("action")
    if action is not None and not isinstance(action, str):
        raise IntakeError("webhook 'action' is not a string")
    return _from_event(event, "sentry_webhook", where="data.event")


def _from_event(event: dict[str, Any], source: IncidentSource, where: str = "event") -> Incident:
    """sentry-sdk's event JSON; Sentry's stored events (as in webhooks) have the same keys."""
    exceptions = _exceptions(event.get("exception"), _sdk_frame, where)
    _mark_cut_vars(exceptions, event.get("_meta"))
    message = _event_message(event)
    return _build(
        source,
        exceptions,
        message,
        event_id=_opt_text(event, "event_id"),
        project=_opt_text(event, "project"),
        release=_opt_text(event, "release"),
        environment=_opt_text(event, "environment"),
        level=_opt_text(event, "level"),
        culprit=_opt_text(event, "culprit") or _opt_text(event, "transaction"),
        platform=_opt_text(event, "platform"),
        timestamp=_timestamp(event.get("timestamp", event.get("datetime"))),
        tags=_tags(event.get("tags")),
    )


def _from_api_event(event: dict[str, Any]) -> Incident:
    entries = event["entries"]
    if not isinstance(entries, list):
        raise IntakeError(f"'entries' is {_json_type(entries)}, expected a list")
    exception_data: object = None
    message = _opt_text(event, "message")
    for entry in entries:
        if not isinstance(entry, dict):
            raise IntakeError("an item of 'entries' is not an object")
        data = entry.get("data")
        if entry.get("type") == "exception":
            exception_data = data
        elif entry.get("type") == "message" and isinstance(data, dict) and not message:
            message = _opt_text(data, "formatted") or _opt_text(data, "message")
    exceptions = _exceptions(exception_data, _api_frame, "entries[exception].data")
    _mark_cut_vars(exceptions, None)
    tags = _tags(event.get("tags"))
    release = event.get("release")
    if isinstance(release, dict):
        release = release.get("version")
    return _build(
        "sentry_api",
        exceptions,
        message,
        event_id=_opt_text(event, "eventID") or _opt_text(event, "id"),
        project=_opt_text(event, "projectID") or _opt_text(event, "project"),
        release=_opt_text({"release": release}, "release"),
        environment=_opt_text(event, "environment") or tags.get("environment"),
        level=_opt_text(event, "level") or tags.get("level"),
        culprit=_opt_text(event, "culprit") or tags.get("transaction"),
        platform=_opt_text(event, "platform"),
        timestamp=_timestamp(event.get("dateCreated")),
        tags=tags,
    )


def _build(
    source: IncidentSource,
    exceptions: list[ExceptionInfo],
    message: str | None,
    *,
    event_id: str | None,
    **fields: Any,
) -> Incident:
    if not exceptions and not message:
        raise IntakeError("event has no exception and no message")
    project = fields.get("project")
    digest = fingerprint(exceptions, message=message, project=project)
    return _incident(
        id=incident_id(event_id, digest),
        source=source,
        fingerprint=digest,
        title=_title(exceptions, message or ""),
        exceptions=exceptions,
        event_id=event_id,
        **fields,
    )


def _incident(**fields: Any) -> Incident:
    try:
        return Incident(**fields)
    except ValidationError as exc:
        raise IntakeError(_validation_line("incident", exc)) from None


# --- exceptions and frames ------------------------------------------------------------------

FrameReader = Callable[[dict[str, Any]], dict[str, Any]]


def _exceptions(raw: object, read_frame: FrameReader, where: str) -> list[ExceptionInfo]:
    if raw is None:
        return []
    values = raw.get("values") if isinstance(raw, dict) else raw
    if values is None:
        return []
    if not isinstance(values, list):
        raise IntakeError(f"{where}.values is {_json_type(values)}, expected a list")
    exceptions = []
    for position, value in enumerate(values, start=1):
        label = f"exception {position} of {len(values)}"
        if not isinstance(value, dict):
            raise IntakeError(f"{label} is {_json_type(value)}, expected an object")
        exc_type = value.get("type")
        if not isinstance(exc_type, str) or not exc_type.strip():
            raise IntakeError(f"{label} has no type")
        frames = [
            _frame(read_frame(frame), f"{label}, frame {index}")
            for index, frame in enumerate(_raw_frames(value, label), start=1)
        ]
        exc_value = value.get("value")
        try:
            exceptions.append(
                ExceptionInfo(
                    type=exc_type,
                    value="" if exc_value is None else str(exc_value),
                    module=value.get("module"),
                    frames=frames,
                )
            )
        except ValidationError as exc:
            raise IntakeError(_validation_line(label, exc)) from None
    return exceptions


def _raw_frames(value: dict[str, Any], label: str) -> list[dict[str, Any]]:
    stacktrace = value.get("stacktrace")
    if stacktrace is None:
        return []
    if not isinstance(stacktrace, dict):
        raise IntakeError(f"{label}: stacktrace is {_json_type(stacktrace)}, expected an object")
    frames = stacktrace.get("frames") or []
    if not isinstance(frames, list) or not all(isinstance(frame, dict) for frame in frames):
        raise IntakeError(f"{label}: stacktrace.frames is not a list of objects")
    return frames


def _frame(fields: dict[str, Any], label: str) -> Frame:
    fields = {key: value for key, value in fields.items() if value is not None}
    fields.setdefault("filename", fields.get("abs_path") or fields.get("module") or "<unknown>")
    try:
        return Frame(**fields)
    except ValidationError as exc:
        raise IntakeError(_validation_line(label, exc)) from None


def _sdk_frame(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "filename": raw.get("filename"),
        "abs_path": raw.get("abs_path"),
        "module": raw.get("module"),
        "function": raw.get("function"),
        "lineno": raw.get("lineno"),
        "context_line": raw.get("context_line"),
        "pre_context": raw.get("pre_context"),
        "post_context": raw.get("post_context"),
        "vars": raw.get("vars"),
        "in_app": raw.get("in_app"),
    }


def _mark_cut_vars(exceptions: list[ExceptionInfo], meta: object) -> None:
    """Mark what sentry-sdk cut from each frame's variables.

    `_meta` (the event's annotations, `exception.values.<i>.stacktrace.frames.<j>.vars`) says so
    where the SDK kept a note: strings cut at `max_value_length` and, in older SDKs, databags
    trimmed to `MAX_DATABAG_BREADTH`. Since sentry-sdk 2 a frame's variables are serialized
    before the event and that note is lost, so the shape speaks too: a frame or a container with
    exactly as many entries as the breadth limit is presumed trimmed, a string ending in `...`
    cut, and `[Filtered]` scrubbed.
    """
    values = _meta_child(_meta_child(meta, "exception"), "values")
    for position, exception in enumerate(exceptions):
        stack = _meta_child(_meta_child(values, str(position)), "stacktrace")
        frames = _meta_child(stack, "frames")
        for index, frame in enumerate(exception.frames):
            noted = _meta_child(_meta_child(frames, str(index)), "vars")
            annotation = _meta_child(noted, "")
            trimmed = isinstance(annotation, dict) and "len" in annotation
            frame.vars_cut = trimmed or len(frame.vars) == SDK_DATABAG_BREADTH
            frame.cut_vars = sorted(
                name
                for name, value in frame.vars.items()
                if _meta_child(noted, name) is not None or _looks_cut(value)
            )


SDK_DATABAG_BREADTH = 10
"""sentry-sdk's `MAX_DATABAG_BREADTH` (1.x and 2.x): entries kept per mapping or sequence."""


def _meta_child(node: object, key: str) -> object:
    return node.get(key) if isinstance(node, dict) else None


def _looks_cut(value: object) -> bool:
    if isinstance(value, str):
        return value.endswith("...") or value == "[Filtered]"
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return len(value) == SDK_DATABAG_BREADTH or any(_looks_cut(item) for item in items)
    return False


def _api_frame(raw: dict[str, Any]) -> dict[str, Any]:
    lineno = raw.get("lineNo")
    if lineno is not None and (isinstance(lineno, bool) or not isinstance(lineno, int)):
        raise IntakeError(f"frame 'lineNo' is {_json_type(lineno)}, expected an integer")
    pre: list[Any] = []
    post: list[Any] = []
    context_line = None
    context = raw.get("context") or []
    if not isinstance(context, list):
        raise IntakeError("frame 'context' is not a list of [lineno, line] pairs")
    for pair in context:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)):
            raise IntakeError("frame 'context' is not a list of [lineno, line] pairs")
        number, line = pair
        if lineno is None or number < lineno:
            pre.append(line)
        elif number == lineno:
            context_line = line
        else:
            post.append(line)
    return {
        "filename": raw.get("filename"),
        "abs_path": raw.get("absPath"),
        "module": raw.get("module"),
        "function": raw.get("function"),
        "lineno": lineno,
        "context_line": context_line,
        "pre_context": pre,
        "post_context": post,
        "vars": raw.get("vars"),
        "in_app": raw.get("inApp"),
    }


# --- fields --------------------------------------------------------------------------------


def _title(exceptions: list[ExceptionInfo], message: str) -> str:
    if not exceptions:
        return _one_line(message)
    crash = exceptions[-1]
    title = f"{crash.type}: {_one_line(crash.value)}" if crash.value else crash.type
    in_app = [frame for frame in crash.frames if frame.in_app]
    frames = in_app or crash.frames
    if frames:
        title += f" in {frames[-1].function} ({normalise_path(frames[-1].filename)})"
    return title


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    if len(first) > _TITLE_VALUE_LIMIT:
        return first[: _TITLE_VALUE_LIMIT - 1] + "…"
    return first


def _event_message(event: dict[str, Any]) -> str | None:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        text = _opt_text(logentry, "formatted") or _opt_text(logentry, "message")
        if text:
            return text
    message = event.get("message")
    if isinstance(message, dict):
        return _opt_text(message, "formatted") or _opt_text(message, "message")
    return _opt_text(event, "message")


def _opt_text(source: dict[str, Any], key: str) -> str | None:
    """A string field; numbers are accepted (Sentry sends numeric project ids)."""
    value = source.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise IntakeError(f"'{key}' is {_json_type(value)}, expected a string")
    return str(value)


def _timestamp(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            try:
                return datetime.fromtimestamp(float(value), UTC)
            except ValueError:
                parsed = datetime.fromisoformat(value.strip())
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise IntakeError(f"timestamp {value!r} is neither epoch seconds nor an ISO 8601 date")


def _tags(value: object) -> dict[str, str]:
    if value is None:
        return {}
    pairs: list[tuple[object, object]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
            elif isinstance(item, dict) and "key" in item:
                pairs.append((item["key"], item.get("value")))
            else:
                raise IntakeError("tags must be [key, value] pairs or {key, value} objects")
    else:
        raise IntakeError(f"tags is {_json_type(value)}, expected an object or a list of pairs")
    return {str(key): str(val) for key, val in pairs if val is not None}


def _validation_line(label: str, exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    return f"{label}: '{location}' {error['msg'].lower()}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

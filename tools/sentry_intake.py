"""fixloop's own Sentry-protocol intake: point any app's sentry-sdk DSN at it.

    POST /api/<project>/envelope/   an envelope (header line, then items: header line + payload)
    POST /api/<project>/store/      one event as plain JSON

Bodies may be compressed (`Content-Encoding: gzip`, `deflate`, and `br` when the `brotli` module
is importable). `event` items are normalised by the injected `normalise` callable and recorded
in the store; every other item type (session, client_report, transaction, ...) is accepted and
ignored. Bad input gets a 4xx with `{"error": reason}`, never a 5xx. There is no auth: listen
on loopback, as the default host does.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import threading
import uuid
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType, TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from agent.domain import Incident
from agent.errors import IntakeError
from agent.ports import ErrorSource

MAX_BODY_BYTES = 20 * 1024 * 1024
_ROUTE = re.compile(r"^/api/(?P<project>[A-Za-z0-9_.-]+)/(?P<endpoint>envelope|store)/?$")

Normaliser = Callable[[dict[str, Any]], Incident]


class _Rejected(Exception):
    """A request answered with a 4xx; raised and caught inside this module only."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SentryIntakeServer:
    """A Sentry-protocol intake on the stdlib `ThreadingHTTPServer`; bound on construction."""

    def __init__(
        self,
        store: ErrorSource,
        normalise: Normaliser,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.store = store
        self.normalise = normalise
        self.max_body_bytes = max_body_bytes
        self._httpd = _IntakeHTTPServer((host, port), _IntakeHandler, self)
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def dsn(self, project_id: str = "1", key: str = "fixloop") -> str:
        """The DSN an app's sentry-sdk uses to send its events here."""
        return f"http://{key}@{self.host}:{self.port}/{project_id}"

    def start(self) -> Self:
        if self._closed:
            raise RuntimeError("the intake server was stopped; make a new one")
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sentry-intake:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def ingest(self, project: str, endpoint: str, body: bytes) -> str | None:
        """Record the events in a decoded request body; return the (last) event id."""
        event_id = None
        for event in _events(project, endpoint, body):
            try:
                incident = self.normalise(event)
            except IntakeError as exc:
                raise _Rejected(400, str(exc)) from None
            self.store.record(incident, event)
            event_id = incident.event_id or str(event["event_id"])
        return event_id


def read_events(
    project: str,
    endpoint: str,
    body: bytes,
    content_encoding: str | None,
    limit: int = MAX_BODY_BYTES,
) -> list[dict[str, Any]]:
    """The events of one `/api/<project>/<endpoint>/` request body, as Sentry ingest sees them:
    encoding undone, each with an event id and stamped with `project`. Raises `IntakeError`
    with the HTTP status to answer (400, 413 or 415)."""
    try:
        return _events(project, endpoint, decode_body(body, content_encoding, limit))
    except _Rejected as rejected:
        raise IntakeError(rejected.reason, status=rejected.status) from None


def _events(project: str, endpoint: str, body: bytes) -> list[dict[str, Any]]:
    if endpoint == "store":
        return [_stamped(project, _json_object(body, "event"))]
    header, items = parse_envelope(body)
    event_id = header.get("event_id")
    if event_id is not None and not isinstance(event_id, str):
        raise _Rejected(400, "envelope header event_id is not a string")
    events = []
    for number, (item_header, payload) in enumerate(items, start=1):
        if item_header.get("type") != "event":
            continue
        event = _json_object(payload, f"envelope item {number} (event)")
        if event_id and not event.get("event_id"):
            event["event_id"] = event_id
        events.append(_stamped(project, event))
    return events


def _stamped(project: str, event: dict[str, Any]) -> dict[str, Any]:
    """Like Sentry ingest: give the event an id if it has none and stamp its project. The id
    given is a hash of the event's content, so a replay of it is the same event."""
    if not event.get("event_id"):
        canonical = json.dumps([project, event], sort_keys=True, default=str).encode()
        event["event_id"] = uuid.UUID(bytes=hashlib.sha256(canonical).digest()[:16]).hex
    event["project"] = project
    return event


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """Split an envelope into its header and its (item header, payload bytes) pairs."""
    header_line, _, rest = body.partition(b"\n")
    header = _json_object(header_line, "envelope header")
    items: list[tuple[dict[str, Any], bytes]] = []
    position = 0
    while position < len(rest):
        if rest[position : position + 1] == b"\n":
            position += 1
            continue
        number = len(items) + 1
        line_end = _line_end(rest, position)
        item_header = _json_object(rest[position:line_end], f"envelope item {number} header")
        if not isinstance(item_header.get("type"), str):
            raise _Rejected(400, f"envelope item {number} header has no type")
        position = min(line_end + 1, len(rest))
        length = item_header.get("length")
        if length is None:
            payload_end = _line_end(rest, position)
            payload = rest[position:payload_end]
            position = payload_end + 1
        elif isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise _Rejected(400, f"envelope item {number} length is not a non-negative integer")
        elif position + length > len(rest):
            raise _Rejected(400, f"envelope item {number} is shorter than its length {length}")
        else:
            payload = rest[position : position + length]
            position += length
        items.append((item_header, payload))
    return header, items


def _line_end(data: bytes, start: int) -> int:
    end = data.find(b"\n", start)
    return len(data) if end == -1 else end


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Rejected(400, f"{what} is not valid JSON ({exc})") from None
    except RecursionError:
        raise _Rejected(400, f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise _Rejected(400, f"{what} is not a JSON object")
    return value


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo `Content-Encoding`; the decoded body may not exceed `limit` bytes."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16, "gzip", limit)
    if encoding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, "deflate", limit)
        except _Rejected as rejected:
            if rejected.status == 413:
                raise
            return _inflate(body, -zlib.MAX_WBITS, "deflate", limit)
    if encoding == "br":
        brotli = _brotli()
        if brotli is None:
            raise _Rejected(415, "Content-Encoding br needs the brotli module, not installed")
        try:
            decoded: bytes = brotli.decompress(body)
        except brotli.error as exc:
            raise _Rejected(400, f"body is not valid br data ({exc})") from None
        if len(decoded) > limit:
            raise _Rejected(413, f"decoded body is over {limit} bytes")
        return decoded
    raise _Rejected(415, f"unsupported Content-Encoding {encoding!r}")


def _inflate(body: bytes, wbits: int, name: str, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    try:
        decoded = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise _Rejected(400, f"body is not valid {name} data ({exc})") from None
    if len(decoded) > limit:
        raise _Rejected(413, f"decoded body is over {limit} bytes")
    if not decompressor.eof:
        raise _Rejected(400, f"{name} body is truncated")
    return decoded


def _brotli() -> ModuleType | None:
    try:
        return importlib.import_module("brotli")
    except ModuleNotFoundError:
        return None


class _IntakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        intake: SentryIntakeServer,
    ) -> None:
        self.intake = intake
        super().__init__(address, handler)


class _IntakeHandler(BaseHTTPRequestHandler):
    server: _IntakeHTTPServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        route = _ROUTE.match(urlsplit(self.path).path)
        if route is None:
            self._reply(404, {"error": f"no such endpoint {urlsplit(self.path).path}"}, close=True)
            return
        intake = self.server.intake
        try:
            raw = self._read_body(intake.max_body_bytes)
            body = decode_body(raw, self.headers.get("Content-Encoding"), intake.max_body_bytes)
            event_id = intake.ingest(route["project"], route["endpoint"], body)
        except _Rejected as rejected:
            self._reply(rejected.status, {"error": rejected.reason})
            return
        self._reply(200, {"id": event_id})

    def do_GET(self) -> None:
        self._not_allowed()

    def do_PUT(self) -> None:
        self._not_allowed()

    def do_DELETE(self) -> None:
        self._not_allowed()

    def _not_allowed(self) -> None:
        path = urlsplit(self.path).path
        if _ROUTE.match(path) is None:
            self._reply(404, {"error": f"no such endpoint {path}"}, close=True)
        else:
            self._reply(405, {"error": "only POST is allowed here"}, close=True)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        declared = self.headers.get("Content-Length")
        if declared is None:
            self.close_connection = True
            raise _Rejected(411, "Content-Length or chunked Transfer-Encoding is required")
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise _Rejected(400, f"Content-Length {declared!r} is not a byte count")
        if length > limit:
            self.close_connection = True
            raise _Rejected(413, f"body is over {limit} bytes")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise _Rejected(400, "body is shorter than its Content-Length")
        return body

    def _read_chunked(self, limit: int) -> bytes:
        self.close_connection = True
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _Rejected(400, "malformed chunked body") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _Rejected(413, f"body is over {limit} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise _Rejected(400, "chunked body is truncated")
            chunks.append(chunk)
            self.rfile.readline(1024)

    def _reply(self, status: int, body: dict[str, Any], *, close: bool = False) -> None:
        data = json.dumps(body).encode()
        if close:
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the store is the record of what arrived."""

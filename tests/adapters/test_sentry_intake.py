"""The Sentry-protocol intake over real HTTP: envelopes, the store endpoint, 4xx for bad input."""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import json
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.intake.payloads import parse_payload
from tools.error_store import LocalErrorStore
from tools.sentry_intake import SentryIntakeServer, parse_envelope

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
EVENT_ID = "5f1d0c3a9b7e4d2f8a6c4e2b0d9f7a51"


def crash_event(event_id: str = EVENT_ID) -> dict[str, Any]:
    frame = {
        "filename": "app/reports.py",
        "abs_path": "/srv/app/reports.py",
        "module": "app.reports",
        "function": "average_basket",
        "lineno": 14,
        "context_line": "    return total / len(orders)",
        "vars": {"orders": [], "total": "0"},
        "in_app": True,
    }
    return {
        "event_id": event_id,
        "platform": "python",
        "level": "error",
        "timestamp": 1714644000.25,
        "exception": {
            "values": [
                {
                    "type": "ZeroDivisionError",
                    "value": "division by zero",
                    "stacktrace": {"frames": [frame]},
                }
            ]
        },
    }


def envelope(*items: tuple[dict[str, Any], bytes], event_id: str | None = EVENT_ID) -> bytes:
    header: dict[str, Any] = {"sent_at": "2024-05-02T10:00:01Z"}
    if event_id:
        header["event_id"] = event_id
    parts = [json.dumps(header).encode()]
    for item_header, payload in items:
        parts += [json.dumps(item_header).encode(), payload]
    return b"\n".join(parts) + b"\n"


def event_item(event: dict[str, Any], *, with_length: bool = True) -> tuple[dict[str, Any], bytes]:
    payload = json.dumps(event).encode()
    header: dict[str, Any] = {"type": "event", "content_type": "application/json"}
    if with_length:
        header["length"] = len(payload)
    return header, payload


SESSION_ITEM = (
    {"type": "session"},
    json.dumps({"sid": "7c1d", "status": "exited", "errors": 1}).encode(),
)
CLIENT_REPORT = json.dumps({"timestamp": 1714644001.0, "discarded_events": []}).encode()
CLIENT_REPORT_ITEM = ({"type": "client_report", "length": len(CLIENT_REPORT)}, CLIENT_REPORT)


def post(
    url: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with DIRECT.open(request, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), json.loads(error.read())


@pytest.fixture
def store(tmp_path: Path) -> LocalErrorStore:
    return LocalErrorStore(tmp_path / "errors.db")


@pytest.fixture
def server(store: LocalErrorStore) -> Iterator[SentryIntakeServer]:
    with SentryIntakeServer(store, parse_payload, max_body_bytes=64 * 1024) as running:
        yield running


def test_gzip_envelope_records_the_event_and_ignores_other_items(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    body = envelope(SESSION_ITEM, event_item(crash_event()), CLIENT_REPORT_ITEM)

    status, answer = post(
        f"{server.url}/api/3/envelope/", gzip.compress(body), {"Content-Encoding": "gzip"}
    )

    assert (status, answer) == (200, {"id": EVENT_ID})
    stored = store.get(EVENT_ID)
    assert stored is not None
    assert stored["project"] == "3"
    assert stored["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["orders"] == []
    assert store.latest(project="3") == stored
    assert store.latest(project="4") is None


def test_envelope_items_without_length_and_deflate(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    body = envelope(event_item(crash_event(), with_length=False), SESSION_ITEM)

    status, answer = post(
        f"{server.url}/api/1/envelope/", zlib.compress(body), {"Content-Encoding": "deflate"}
    )

    assert (status, answer) == (200, {"id": EVENT_ID})
    assert store.get(EVENT_ID) is not None


def test_event_id_from_the_envelope_header(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    event = crash_event()
    del event["event_id"]

    status, answer = post(f"{server.url}/api/1/envelope/", envelope(event_item(event)))

    assert (status, answer) == (200, {"id": EVENT_ID})


def test_envelope_without_an_event_is_accepted(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    status, answer = post(
        f"{server.url}/api/1/envelope/", envelope(SESSION_ITEM, CLIENT_REPORT_ITEM, event_id=None)
    )

    assert (status, answer) == (200, {"id": None})
    assert store.latest() is None


def test_store_endpoint_takes_plain_event_json(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    status, answer = post(f"{server.url}/api/9/store/", json.dumps(crash_event()).encode())

    assert (status, answer) == (200, {"id": EVENT_ID})
    stored = store.get(EVENT_ID)
    assert stored is not None and stored["project"] == "9"


def test_store_endpoint_gives_an_event_without_id_one(
    server: SentryIntakeServer, store: LocalErrorStore
) -> None:
    event = crash_event()
    del event["event_id"]

    status, answer = post(f"{server.url}/api/9/store/", json.dumps(event).encode())

    assert status == 200
    assert len(answer["id"]) == 32
    assert store.get(answer["id"]) is not None


def test_a_resent_event_is_stored_once(server: SentryIntakeServer, store: LocalErrorStore) -> None:
    body = envelope(event_item(crash_event()))
    url = f"{server.url}/api/1/envelope/"

    assert post(url, body) == (200, {"id": EVENT_ID})
    assert post(url, body) == (200, {"id": EVENT_ID})

    fingerprint = parse_payload({**crash_event(), "project": "1"}).fingerprint
    assert store.count(fingerprint) == 1
    other = envelope(event_item(crash_event("6" * 32)), event_id="6" * 32)
    assert post(url, other)[0] == 200
    assert store.count(fingerprint) == 2


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"this is not an envelope", {}, "envelope header is not valid JSON"),
        (b"", {}, "envelope header is not valid JSON"),
        (b"[]\n", {}, "envelope header is not a JSON object"),
        (b'{}\n{"type": "event", "length": 500}\n{}', {}, "shorter than its length 500"),
        (b'{}\n{"length": 2}\n{}\n', {}, "item 1 header has no type"),
        (b'{}\n{"type": "event"}\n{"event_id": \n', {}, "item 1 (event) is not valid JSON"),
        (b'{}\n{"type": "event"}\n{"event_id": "abc"}\n', {}, "no exception and no message"),
        (b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}, "not valid gzip data"),
        (gzip.compress(b"{}\n")[:-6], {"Content-Encoding": "gzip"}, "gzip body is truncated"),
    ],
)
def test_malformed_envelopes_are_400(
    server: SentryIntakeServer, body: bytes, headers: dict[str, str], reason: str
) -> None:
    status, answer = post(f"{server.url}/api/1/envelope/", body, headers)

    assert status == 400
    assert reason in answer["error"]


def test_malformed_store_bodies_are_400(server: SentryIntakeServer) -> None:
    assert post(f"{server.url}/api/1/store/", b"{not json")[0] == 400
    status, answer = post(f"{server.url}/api/1/store/", b'{"exception": {"values": [{}]}}')
    assert (status, answer) == (400, {"error": "exception 1 of 1 has no type"})


def test_unknown_paths_are_404_and_other_methods_405(server: SentryIntakeServer) -> None:
    assert post(f"{server.url}/api/1/events/", b"{}")[0] == 404
    assert post(f"{server.url}/", b"{}")[0] == 404
    assert post(f"{server.url}/api/1/envelope/", b"", method="GET")[0] == 405
    assert post(f"{server.url}/api/1/store/", b"", method="PUT")[0] == 405


def test_unknown_content_encoding_is_415(server: SentryIntakeServer) -> None:
    status, answer = post(f"{server.url}/api/1/store/", b"{}", {"Content-Encoding": "zstd"})

    assert status == 415
    assert "zstd" in answer["error"]


def test_brotli_needs_the_brotli_module(server: SentryIntakeServer) -> None:
    body = json.dumps(crash_event()).encode()
    if importlib.util.find_spec("brotli") is None:
        status, answer = post(f"{server.url}/api/1/store/", body, {"Content-Encoding": "br"})
        assert status == 415
        assert "brotli" in answer["error"]
    else:
        brotli = importlib.import_module("brotli")
        compressed = brotli.compress(body)
        status, _ = post(f"{server.url}/api/1/store/", compressed, {"Content-Encoding": "br"})
        assert status == 200


def test_bodies_over_the_limit_are_413(server: SentryIntakeServer) -> None:
    too_big = b"x" * (server.max_body_bytes + 1)
    assert post(f"{server.url}/api/1/store/", too_big)[0] == 413

    bomb = gzip.compress(b"{" + b" " * (server.max_body_bytes * 4) + b"}")
    assert len(bomb) < server.max_body_bytes
    status, answer = post(f"{server.url}/api/1/store/", bomb, {"Content-Encoding": "gzip"})
    assert status == 413
    assert "decoded body" in answer["error"]


def test_the_default_limit_is_20_megabytes(store: LocalErrorStore) -> None:
    with SentryIntakeServer(store, parse_payload) as running:
        assert running.max_body_bytes == 20 * 1024 * 1024
        assert running.dsn() == f"http://fixloop@127.0.0.1:{running.port}/1"
        assert running.dsn("12", "k") == f"http://k@127.0.0.1:{running.port}/12"


def test_parse_envelope_reads_length_and_newline_delimited_payloads() -> None:
    body = b'{"event_id":"e1"}\n{"type":"attachment","length":5}\nab\ncd\n{"type":"session"}\n{}'

    header, items = parse_envelope(body)

    assert header == {"event_id": "e1"}
    assert items == [
        ({"type": "attachment", "length": 5}, b"ab\ncd"),
        ({"type": "session"}, b"{}"),
    ]


def test_stop_releases_the_port(store: LocalErrorStore) -> None:
    running = SentryIntakeServer(store, parse_payload).start()
    url = running.url
    running.stop()
    running.stop()

    with pytest.raises(urllib.error.URLError):
        DIRECT.open(f"{url}/api/1/store/", data=b"{}", timeout=2)


def test_chunked_bodies_are_read(server: SentryIntakeServer, store: LocalErrorStore) -> None:
    body = json.dumps(crash_event()).encode()
    chunks = iter([body[:40], body[40:]])
    request = urllib.request.Request(f"{server.url}/api/1/store/", data=chunks, method="POST")

    with DIRECT.open(request, timeout=10) as response:
        assert request.get_header("Transfer-encoding") == "chunked"
        assert json.loads(response.read()) == {"id": EVENT_ID}
    assert store.get(EVENT_ID) is not None


def test_a_body_without_length_is_411(server: SentryIntakeServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest("POST", "/api/1/store/")
    connection.endheaders()
    response = connection.getresponse()

    assert response.status == 411
    assert "Content-Length" in json.loads(response.read())["error"]
    connection.close()

"""Hypothesis strategies for signed requests to `fixloop serve` (used by `evals.fuzz_server`).

Each request has the shape its endpoint reads, with hostile values anywhere: text with lone
surrogates, control, non-BMP and markup characters; numbers of every size; fields missing or of
the wrong type; timestamps that are no time; Latin-1 bytes in a header. Bodies are signed (or
carry the DSN key) when `ready` is called, so most get past authentication.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from agent.intake.webhooks import sign


@dataclass(frozen=True)
class Secrets:
    sentry: str = "fuzz-sentry-secret"
    pagerduty: str = "fuzz-pagerduty-secret"
    github: str = "fuzz-github-secret"
    dsn_key: str = "fuzzkey0123456789abcdef"


SECRETS = Secrets()
NOW = "now"
"""A timestamp placeholder: the time the request is sent."""

_HOSTILE = [
    "\udcff",
    "caf\udce9.txt",
    "\ud800\udc00",
    "\ud83d",
    "\x00",
    "nan",
    "inf",
    "-1e999",
    "@team",
    "<!--",
    "`",
    "\u202e",
    "\U0001f4a5",
    "a" * 300,
]

texts = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(categories=["Cs", "Cc", "So", "Lo"]), max_size=12),
    st.sampled_from(_HOSTILE),
)
hex_ids = st.one_of(st.uuids().map(lambda u: u.hex), texts)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def anything_or(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`value` mostly, sometimes any JSON value in its place."""
    return st.one_of(value, value, value, json_values)


@dataclass(frozen=True)
class SignedRequest:
    """A POST to sign when sent: `signer` names the scheme, `header_junk` a header to spoil
    with Latin-1 bytes (control bytes, which the HTTP parser refuses, are left to the raw
    probes of `evals.fuzz_server`)."""

    path: str
    signer: str
    headers: dict[str, Any]
    payload: Any
    raw_body: bytes | None
    ascii_json: bool
    encoding: str | None
    header_junk: tuple[str, bytes] | None

    def ready(self, now: float) -> tuple[str, dict[str, Any], bytes]:
        body = self.raw_body if self.raw_body is not None else self._json()
        headers = {k: _when(v, now) for k, v in self.headers.items()}
        if self.encoding == "gzip":
            body = gzip.compress(body)
        elif self.encoding == "deflate":
            body = zlib.compress(body)
        if self.encoding:
            headers["Content-Encoding"] = self.encoding
        headers |= _signature(self.signer, body)
        if self.header_junk is not None:
            name, junk = self.header_junk
            headers[name] = junk
        return self.path, headers, body

    def _json(self) -> bytes:
        text = json.dumps(self.payload, ensure_ascii=self.ascii_json)
        return text.encode("utf-8", "surrogatepass")


def _when(value: Any, now: float) -> Any:
    if value == NOW:
        return str(int(now))
    if isinstance(value, float):
        return str(now + value)
    return value


def _signature(signer: str, body: bytes) -> dict[str, str]:
    if signer == "sentry":
        return {"Sentry-Hook-Signature": sign(SECRETS.sentry, body)}
    if signer == "pagerduty":
        return {"X-PagerDuty-Signature": "v1=" + sign(SECRETS.pagerduty, body)}
    if signer == "github":
        return {"X-Hub-Signature-256": "sha256=" + sign(SECRETS.github, body)}
    return {"X-Sentry-Auth": f"Sentry sentry_key={SECRETS.dsn_key}, sentry_version=7"}


def _frames() -> st.SearchStrategy[list[dict[str, Any]]]:
    frame = st.fixed_dictionaries(
        {"filename": texts, "function": texts},
        optional={
            "lineno": anything_or(st.integers()),
            "abs_path": texts,
            "module": texts,
            "in_app": anything_or(st.booleans()),
            "context_line": texts,
            "vars": st.dictionaries(texts, json_values, max_size=3),
        },
    )
    return st.lists(frame, max_size=6)


def events() -> st.SearchStrategy[dict[str, Any]]:
    """A Sentry event: an exception with frames, or a message, with hostile fields."""
    exception = st.fixed_dictionaries(
        {"type": texts, "value": texts},
        optional={
            "stacktrace": anything_or(st.fixed_dictionaries({"frames": anything_or(_frames())}))
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "event_id": hex_ids,
            "message": texts,
            "platform": st.sampled_from(["python", "javascript"]) | texts,
            "exception": anything_or(
                st.fixed_dictionaries({"values": anything_or(st.lists(exception, max_size=3))})
            ),
            "release": texts,
            "environment": texts,
            "transaction": texts,
            "timestamp": anything_or(st.floats(allow_nan=True, allow_infinity=True)),
            "tags": anything_or(st.dictionaries(texts, texts, max_size=3)),
            "extra": json_values,
            "fingerprint": anything_or(st.lists(texts, max_size=3)),
        },
    )


def _timestamps() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.just(NOW),
        st.just(NOW),
        st.floats(min_value=-1e6, max_value=1e6),
        st.sampled_from(["nan", "NaN", "inf", "-inf", "1e999", "", " ", "0x10", "1_0"]),
        texts.filter(_header_safe),
    )


def _header_safe(text: str) -> bool:
    """Text an HTTP client may send as a header value (no control characters)."""
    return text.isascii() and text.isprintable()


def _header_junk(names: list[str]) -> st.SearchStrategy[tuple[str, bytes] | None]:
    junk = st.binary(min_size=1, max_size=40).map(
        lambda b: bytes(c for c in b if c > 0x20 and c != 0x7F) or b"\xff"
    )
    spoiled = st.tuples(st.sampled_from(names), junk.map(lambda b: b + b"\xe9"))
    return st.one_of(st.none(), st.none(), st.none(), spoiled)


def _sentry() -> st.SearchStrategy[SignedRequest]:
    issue = st.fixed_dictionaries({}, optional={"id": anything_or(hex_ids), "title": texts})
    data = st.fixed_dictionaries(
        {}, optional={"event": events(), "error": events(), "issue": anything_or(issue)}
    )
    payload = anything_or(
        st.fixed_dictionaries(
            {"data": anything_or(data)},
            optional={"action": st.sampled_from(["created", "triggered", "unresolved"]) | texts},
        )
    )
    resource = st.sampled_from(["event_alert", "error", "issue", "installation"])
    headers = st.fixed_dictionaries(
        {"Sentry-Hook-Resource": resource, "Sentry-Hook-Timestamp": _timestamps()},
        optional={"Request-ID": hex_ids.filter(_header_safe)},
    )
    junk = ["Sentry-Hook-Signature", "Sentry-Hook-Timestamp", "Sentry-Hook-Resource", "Request-ID"]
    return _request("/webhooks/sentry", "sentry", headers, payload, junk)


def _pagerduty() -> st.SearchStrategy[SignedRequest]:
    occurred = st.one_of(
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
        st.just(datetime.now(UTC).isoformat()),
        texts,
    )
    data = st.fixed_dictionaries(
        {"id": anything_or(texts), "service": anything_or(st.fixed_dictionaries({"id": texts}))},
        optional={
            "title": texts,
            "incident_key": texts,
            "html_url": anything_or(texts),
            "body": json_values,
        },
    )
    event = st.fixed_dictionaries(
        {
            "id": anything_or(hex_ids),
            "event_type": st.sampled_from(["incident.triggered", "incident.resolved"]) | texts,
            "occurred_at": anything_or(occurred),
        },
        optional={"data": anything_or(data)},
    )
    payload = anything_or(st.fixed_dictionaries({"event": anything_or(event)}))
    return _request(
        "/webhooks/pagerduty", "pagerduty", st.just({}), payload, ["X-PagerDuty-Signature"]
    )


def _github() -> st.SearchStrategy[SignedRequest]:
    sha = st.binary(min_size=20, max_size=20).map(lambda b: hashlib.sha1(b).hexdigest())
    head = st.fixed_dictionaries({"ref": anything_or(texts)}, optional={"sha": sha | texts})
    pr = st.fixed_dictionaries(
        {"number": anything_or(st.integers()), "head": anything_or(head)},
        optional={"id": st.integers(), "merged": json_values, "updated_at": texts},
    )
    run = st.fixed_dictionaries(
        {"head_sha": sha | texts},
        optional={
            "head_branch": texts,
            "conclusion": st.sampled_from(["failure", "success"]) | texts,
            "name": texts,
            "id": json_values,
        },
    )
    repository = st.fixed_dictionaries({"full_name": st.sampled_from(["acme/shop"]) | texts})
    payload = anything_or(
        st.fixed_dictionaries(
            {"action": anything_or(st.sampled_from(["closed", "submitted", "completed"]) | texts)},
            optional={
                "pull_request": anything_or(pr),
                "review": json_values,
                "workflow_run": anything_or(run),
                "check_suite": anything_or(run),
                "repository": anything_or(repository),
            },
        )
    )
    event = st.sampled_from(
        ["pull_request", "pull_request_review", "workflow_run", "check_suite", "ping", "push"]
    )
    headers = st.fixed_dictionaries(
        {"X-GitHub-Event": event, "X-GitHub-Delivery": st.uuids().map(str)}
    )
    junk = ["X-Hub-Signature-256", "X-GitHub-Event", "X-GitHub-Delivery"]
    return _request("/webhooks/github", "github", headers, payload, junk)


def _ingest() -> st.SearchStrategy[SignedRequest]:
    project = st.sampled_from(["1", "42"]) | texts.filter(lambda t: t.isalnum() and t.isascii())
    store = st.builds(
        lambda project, event: (f"/api/{project}/store/", event, None),
        project,
        anything_or(events()),
    )
    envelope = st.builds(
        lambda project, header, event: (
            f"/api/{project}/envelope/",
            None,
            json.dumps(header).encode()
            + b'\n{"type":"event"}\n'
            + json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass"),
        ),
        project,
        st.fixed_dictionaries({}, optional={"event_id": hex_ids}),
        anything_or(events()),
    )
    return st.builds(
        lambda shape, ascii_json, encoding, junk: SignedRequest(
            path=shape[0],
            signer="dsn",
            headers={"Content-Type": "application/json"},
            payload=shape[1],
            raw_body=shape[2],
            ascii_json=ascii_json,
            encoding=encoding,
            header_junk=junk,
        ),
        st.one_of(store, envelope),
        st.booleans(),
        st.sampled_from([None, None, "gzip", "deflate", "br", "x-junk"]),
        _header_junk(["X-Sentry-Auth"]),
    )


def _request(
    path: str,
    signer: str,
    headers: st.SearchStrategy[dict[str, Any]],
    payload: st.SearchStrategy[Any],
    junk: list[str],
) -> st.SearchStrategy[SignedRequest]:
    return st.builds(
        lambda headers, payload, ascii_json, header_junk: SignedRequest(
            path=path,
            signer=signer,
            headers={"Content-Type": "application/json"} | headers,
            payload=payload,
            raw_body=None,
            ascii_json=ascii_json,
            encoding=None,
            header_junk=header_junk,
        ),
        headers,
        payload,
        st.booleans(),
        _header_junk(junk),
    )


def signed_requests() -> st.SearchStrategy[SignedRequest]:
    """Any of the signed requests, evenly across the endpoints."""
    return st.one_of(_sentry(), _pagerduty(), _github(), _ingest())

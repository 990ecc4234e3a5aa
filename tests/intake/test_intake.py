"""Intake: every payload shape becomes the right Incident; bad input is one IntakeError line."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk

from agent.errors import IntakeError
from agent.intake.payloads import fingerprint, load_event_file, normalise_path, parse_payload
from tests.support.paths import FIXTURES
from tools.error_store import LocalErrorStore
from tools.sentry_intake import SentryIntakeServer

WEBHOOK = FIXTURES / "sentry_webhook_event_alert.json"
API_EVENT = FIXTURES / "sentry_api_event.json"


def read_fixture(path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(path.read_text())
    return payload


def sdk_event(**overrides: Any) -> dict[str, Any]:
    """A small event in the shape sentry-sdk sends: KeyError raised from a lookup, re-raised."""
    event: dict[str, Any] = {
        "event_id": "0f0e0d0c0b0a49088776655443322110",
        "timestamp": "2024-05-02T10:00:00.250000Z",
        "platform": "python",
        "level": "error",
        "release": "abc123",
        "environment": "staging",
        "transaction": "/quotes/{currency}",
        "tags": {"server_name": "web-1"},
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "value": "'CHF'",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "pricing/rates.py",
                                "abs_path": "/srv/releases/41/pricing/rates.py",
                                "module": "pricing.rates",
                                "function": "rate_for",
                                "lineno": 12,
                                "context_line": "    return RATES[currency]",
                                "pre_context": ["def rate_for(currency):"],
                                "post_context": [""],
                                "vars": {"currency": "'CHF'"},
                                "in_app": True,
                            }
                        ]
                    },
                },
                {
                    "type": "LookupError",
                    "value": "no rate for CHF",
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": "pricing/quotes.py",
                                "abs_path": "/srv/releases/41/pricing/quotes.py",
                                "module": "pricing.quotes",
                                "function": "quote",
                                "lineno": 30,
                                "vars": {"amount": "100", "currency": "'CHF'"},
                                "in_app": True,
                            }
                        ]
                    },
                },
            ]
        },
    }
    event.update(overrides)
    return event


# --- the four shapes -----------------------------------------------------------------------


def test_sentry_event_keeps_the_chain_frames_and_fields() -> None:
    incident = parse_payload(sdk_event())

    assert incident.source == "sentry_event"
    assert [exc.type for exc in incident.exceptions] == ["KeyError", "LookupError"]
    cause_frame = incident.exceptions[0].frames[0]
    assert cause_frame.function == "rate_for"
    assert cause_frame.lineno == 12
    assert cause_frame.context_line == "    return RATES[currency]"
    assert cause_frame.vars == {"currency": "'CHF'"}
    assert incident.title == "LookupError: no rate for CHF in quote (pricing/quotes.py)"
    assert incident.event_id == "0f0e0d0c0b0a49088776655443322110"
    assert incident.release == "abc123"
    assert incident.environment == "staging"
    assert incident.level == "error"
    assert incident.culprit == "/quotes/{currency}"
    assert incident.platform == "python"
    assert incident.tags == {"server_name": "web-1"}
    assert incident.timestamp == datetime(2024, 5, 2, 10, 0, 0, 250000, tzinfo=UTC)
    assert re.fullmatch(r"fx-[0-9a-f]{12}", incident.id)
    assert re.fullmatch(r"[0-9a-f]{64}", incident.fingerprint)


def test_webhook_fixture_parses() -> None:
    incident, payload = load_event_file(WEBHOOK)

    assert payload["action"] == "triggered"
    assert incident.source == "sentry_webhook"
    assert incident.event_id == "c7a8f0e2b64d4e1f9a3b5c7d9e1f2a3b"
    assert incident.project == "4504"
    assert incident.release == "88766927495dc3e6def400cc64dc8a9ea8f4e3c0"
    assert incident.environment == "production"
    assert incident.timestamp == datetime(2024, 3, 15, 8, 41, 7, 512000, tzinfo=UTC)
    assert incident.tags["server_name"] == "web-2"
    assert incident.title == (
        "ZeroDivisionError: division by zero in average_basket (app/reports.py)"
    )
    frames = incident.exceptions[0].frames
    assert [frame.in_app for frame in frames] == [False, False, True, True, True]
    assert frames[-1].function == "average_basket"
    assert frames[-1].vars == {"orders": [], "total": "0"}


def test_api_fixture_parses_camel_case_frames_and_splits_context() -> None:
    incident, _ = load_event_file(API_EVENT)

    assert incident.source == "sentry_api"
    assert incident.event_id == "e41b7c9d05a84f6b8c2d3e4f5a6b7c8d"
    assert incident.project == "4504"
    assert incident.release == "88766927495dc3e6def400cc64dc8a9ea8f4e3c0"
    assert incident.environment == "production"
    assert incident.level == "error"
    assert incident.timestamp == datetime(2024, 3, 16, 19, 2, 11, 401000, tzinfo=UTC)
    crash = incident.exceptions[-1].frames[-1]
    assert crash.abs_path == "/app/app/reports.py"
    assert crash.lineno == 14
    assert crash.in_app is True
    assert crash.context_line == "    return total / len(orders)"
    assert crash.pre_context[-1] == '    total = sum(order["total_cents"] for order in orders)'
    assert crash.post_context[2] == "def format_cents(cents: float, currency: str) -> str:"
    assert crash.vars == {"orders": [], "total": "0"}


def test_test_failure_lists_tests_and_has_no_exceptions() -> None:
    incident = parse_payload(
        {"kind": "test_failure", "tests": ["tests/test_x.py::test_y", "tests/test_x.py::test_z"]}
    )

    assert incident.source == "test_failure"
    assert incident.failing_tests == ["tests/test_x.py::test_y", "tests/test_x.py::test_z"]
    assert incident.exceptions == []
    assert incident.event_id is None
    assert incident.title == "Failing tests: tests/test_x.py::test_y, tests/test_x.py::test_z"
    reordered = parse_payload(
        {"kind": "test_failure", "tests": ["tests/test_x.py::test_z", "tests/test_x.py::test_y"]}
    )
    assert reordered.fingerprint == incident.fingerprint
    assert reordered.id == incident.id


# --- real sentry-sdk -------------------------------------------------------------------------


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[SentryIntakeServer, LocalErrorStore]]:
    store = LocalErrorStore(tmp_path / "errors.db")
    with SentryIntakeServer(store, parse_payload) as server:
        yield server, store


@pytest.fixture
def reporting(intake: tuple[SentryIntakeServer, LocalErrorStore]) -> Iterator[LocalErrorStore]:
    """Real sentry-sdk in this process, sending to the intake; reset afterwards."""
    server, store = intake
    sentry_sdk.init(
        dsn=server.dsn(project_id="7"),
        default_integrations=False,
        include_local_variables=True,
        release="shop@1.4.0",
        environment="test",
    )
    yield store
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def lookup_rate(currency: str) -> float:
    rates = {"EUR": 1.0}
    return rates[currency]


def quote(amount: int, currency: str) -> float:
    try:
        return amount * lookup_rate(currency)
    except KeyError as missing:
        raise LookupError(f"no rate for {currency}") from missing


def split_bill(total: int, people: int) -> int:
    share = total // people
    return share


def capture(action: Any) -> str:
    try:
        action()
    except Exception:
        event_id = sentry_sdk.capture_exception()
    assert event_id is not None
    sentry_sdk.flush(timeout=10)
    return event_id


def stored_incident(store: LocalErrorStore, event_id: str) -> Any:
    payload = store.get(event_id)
    assert payload is not None, "the intake did not store the event"
    return parse_payload(payload)


def test_real_sentry_sdk_chained_exception_keeps_order_frames_and_vars(
    reporting: LocalErrorStore,
) -> None:
    event_id = capture(lambda: quote(100, "CHF"))
    incident = stored_incident(reporting, event_id)

    assert incident.source == "sentry_event"
    assert incident.event_id == event_id
    assert incident.project == "7"
    assert incident.release == "shop@1.4.0"
    assert incident.environment == "test"
    assert incident.timestamp is not None
    cause, crash = incident.exceptions
    assert (cause.type, cause.value) == ("KeyError", "'CHF'")
    assert (crash.type, crash.value) == ("LookupError", "no rate for CHF")
    assert [frame.function for frame in cause.frames][-2:] == ["quote", "lookup_rate"]
    lookup = cause.frames[-1]
    assert lookup.filename == "tests/intake/test_intake.py"
    assert lookup.context_line == "    return rates[currency]"
    assert lookup.vars == {"currency": "'CHF'", "rates": {"EUR": "1.0"}}
    assert lookup.in_app is True
    assert crash.frames[-1].function == "quote"
    assert crash.frames[-1].vars["amount"] == "100"
    assert incident.title == "LookupError: no rate for CHF in quote (tests/intake/test_intake.py)"


def test_real_events_of_one_bug_share_a_fingerprint_and_another_bug_differs(
    reporting: LocalErrorStore,
) -> None:
    first = stored_incident(reporting, capture(lambda: quote(100, "CHF")))
    second = stored_incident(reporting, capture(lambda: quote(7, "GBP")))
    other = stored_incident(reporting, capture(lambda: split_bill(90, 0)))

    assert first.event_id != second.event_id
    assert first.id != second.id
    assert first.fingerprint == second.fingerprint
    assert other.fingerprint != first.fingerprint
    assert other.crash is not None and other.crash.type == "ZeroDivisionError"
    assert reporting.count(first.fingerprint) == 2


# --- fingerprint and id ----------------------------------------------------------------------


def test_webhook_and_api_events_of_the_same_bug_share_a_fingerprint() -> None:
    webhook, _ = load_event_file(WEBHOOK)
    api_event, _ = load_event_file(API_EVENT)

    assert webhook.fingerprint == api_event.fingerprint
    assert webhook.id != api_event.id


def test_fingerprint_ignores_lines_values_paths_and_event_id() -> None:
    original = read_fixture(WEBHOOK)
    moved = copy.deepcopy(original)
    event = moved["data"]["event"]
    event["event_id"] = "ffffffffffffffffffffffffffffffff"
    event["release"] = "0000000000000000000000000000000000000000"
    exception = event["exception"]["values"][0]
    exception["value"] = "float division by zero"
    for frame in exception["stacktrace"]["frames"]:
        frame["lineno"] += 7
        frame["abs_path"] = frame["abs_path"].replace(
            "/srv/shop-service/releases/20240315-0830", "/opt/deploy/b812"
        )
        frame["vars"] = {"orders": "[]"}

    assert parse_payload(moved).fingerprint == parse_payload(original).fingerprint


def test_fingerprint_changes_with_exception_type_or_function() -> None:
    base = parse_payload(sdk_event())
    renamed = sdk_event()
    renamed["exception"]["values"][0]["stacktrace"]["frames"][0]["function"] = "rate_of"
    retyped = sdk_event()
    retyped["exception"]["values"][1]["type"] = "ValueError"

    assert parse_payload(renamed).fingerprint != base.fingerprint
    assert parse_payload(retyped).fingerprint != base.fingerprint


def test_fingerprint_uses_every_frame_when_none_is_in_app() -> None:
    library_only = sdk_event()
    for value in library_only["exception"]["values"]:
        for frame in value["stacktrace"]["frames"]:
            frame["in_app"] = False
    other_function = copy.deepcopy(library_only)
    other_function["exception"]["values"][1]["stacktrace"]["frames"][0]["function"] = "quote2"

    assert parse_payload(library_only).fingerprint != parse_payload(other_function).fingerprint


def test_fingerprint_of_module_less_frames_uses_the_path_without_deploy_prefix() -> None:
    def event_at(path: str, lineno: int) -> dict[str, Any]:
        frame = {"filename": path, "function": "average_basket", "lineno": lineno, "in_app": True}
        value = {"type": "ZeroDivisionError", "stacktrace": {"frames": [frame]}}
        return {"exception": {"values": [value]}}

    one = parse_payload(event_at("/srv/releases/2024-03-01/app/reports.py", 14))
    two = parse_payload(event_at("/home/deploy/current/app/reports.py", 19))

    assert one.fingerprint == two.fingerprint
    assert normalise_path("C:\\builds\\7\\app\\reports.py") == "app/reports.py"
    assert normalise_path("/usr/lib/python3/site-packages/requests/api.py") == "requests/api.py"
    assert normalise_path("./app/reports.py") == "app/reports.py"


def test_incident_id_follows_the_event_id() -> None:
    first = parse_payload(sdk_event())
    again = parse_payload(sdk_event(timestamp=1714644000.0))
    other = parse_payload(sdk_event(event_id="11111111111111111111111111111111"))
    anonymous = parse_payload(sdk_event(event_id=None))

    assert first.id == again.id
    assert other.id != first.id
    assert anonymous.id != first.id
    assert anonymous.id == parse_payload(sdk_event(event_id=None)).id
    assert fingerprint(first.exceptions) == first.fingerprint


def test_timestamps_and_tags_in_their_other_forms() -> None:
    incident = parse_payload(sdk_event(timestamp=1714644000.5, tags=[["region", "eu"]]))

    assert incident.timestamp == datetime(2024, 5, 2, 10, 0, 0, 500000, tzinfo=UTC)
    assert incident.tags == {"region": "eu"}


def test_message_event_without_exception_is_accepted() -> None:
    incident = parse_payload({"event_id": "ab" * 16, "logentry": {"formatted": "disk full"}})

    assert incident.exceptions == []
    assert incident.title == "disk full"


# --- bad input ---------------------------------------------------------------------------------


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "event.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def no_type() -> str:
    return json.dumps({"exception": {"values": [{"value": "boom"}]}})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "file is empty"),
        ("  \n", "file is empty"),
        ('{"exception": {"values": [', "JSON is truncated (ends at line 1:"),
        ('{"event_id": "x",}', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("[1, 2]", "top level is a list, expected a JSON object"),
        ('"hello"', "top level is a string"),
        ('{"name": "x", "count": 3}', "unrecognised payload (keys: count, name)"),
        ('{"event_id": "abc"}', "event has no exception and no message"),
        (no_type(), "exception 1 of 1 has no type"),
        ('{"kind": "test_failure", "tests": []}', "non-empty list"),
        ('{"kind": "test_failure", "tests": ["ok", 3]}', "test 2 is not a non-empty string"),
        ('{"kind": "pagerduty"}', "unknown kind 'pagerduty'"),
        ('{"data": {"event": []}, "action": "triggered"}', "data.event is a list"),
        ('{"entries": {}}', "'entries' is an object, expected a list"),
        ('{"message": "x", "timestamp": "yesterday"}', "timestamp 'yesterday'"),
    ],
)
def test_bad_files_raise_one_line(tmp_path: Path, content: str | bytes, expected: str) -> None:
    path = write(tmp_path, content)

    with pytest.raises(IntakeError) as raised:
        load_event_file(path)

    message = str(raised.value)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(IntakeError, match=r"no such file$"):
        load_event_file(tmp_path / "absent.json")
    with pytest.raises(IntakeError, match=r"is a directory"):
        load_event_file(tmp_path)


def test_bad_frame_field_is_one_line() -> None:
    event = sdk_event()
    event["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"] = "twelve"

    with pytest.raises(IntakeError) as raised:
        parse_payload(event)

    assert str(raised.value).startswith("exception 1 of 2, frame 1: 'lineno'")


@pytest.mark.parametrize("payload", [None, [], "event", 3])
def test_non_object_payload(payload: object) -> None:
    with pytest.raises(IntakeError, match="expected a JSON object"):
        parse_payload(payload)


def test_the_same_bug_in_two_projects_is_two_fingerprints() -> None:
    webhook, _ = load_event_file(FIXTURES / "sentry_webhook_event_alert.json")
    payload = json.loads((FIXTURES / "sentry_webhook_event_alert.json").read_text())
    payload["data"]["event"]["project"] = 9999
    assert parse_payload(payload).fingerprint != webhook.fingerprint

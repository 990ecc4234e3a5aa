"""Scrubbing at intake: every kind of secret in the corpus goes, the shape of each value stays."""

from __future__ import annotations

import pytest

from agent.domain import ExceptionInfo, Frame, Incident
from agent.guardrails.scrub import (
    Scrubber,
    is_stand_in,
    scrub_event,
    scrub_incident,
    scrub_intake,
    scrub_output,
    stand_in,
)
from tests.support.secrets_corpus import ALL, FREE, KEYED, values_in


def test_the_corpus_has_at_least_30_kinds() -> None:
    assert len(ALL) >= 30


@pytest.mark.parametrize("kind", sorted(FREE))
def test_a_secret_is_scrubbed_wherever_it_stands_in_text(kind: str) -> None:
    value = FREE[kind]
    text = f"while charging order 17: {value} (retrying)"
    scrubbed = Scrubber().text(text)
    for secret in values_in(value):
        assert secret not in scrubbed
    assert len(scrubbed) == len(text)
    assert scrubbed.startswith("while charging order 17: ") and scrubbed.endswith(" (retrying)")


@pytest.mark.parametrize("kind", sorted(KEYED))
def test_a_value_under_a_sensitive_key_becomes_a_stand_in(kind: str) -> None:
    value = KEYED[kind]
    event = {"extra": {"context": {kind: f"'{value}'", "count": 3}}}
    scrubbed = scrub_event(event)["extra"]["context"]
    assert scrubbed[kind] == f"'{stand_in(value)}'"
    assert scrubbed["count"] == 3


def test_key_names_match_word_by_word() -> None:
    scrubber = Scrubber()
    for name in ("db_password", "authToken", "X-Api-Key", "HTTP_AUTHORIZATION", "session_id"):
        assert scrubber.is_sensitive_key(name), name
    for name in ("author", "tokens", "passage", "sku", "email_count"):
        assert not scrubber.is_sensitive_key(name), name
    assert Scrubber(["card"]).is_sensitive_key("card_number")


def test_stand_ins_keep_type_and_shape() -> None:
    scrubbed = scrub_event({"vars": {"password": "'Ab3-x'", "pin_secret": 1234, "api_key": None}})
    assert scrubbed["vars"] == {"password": "'Xx1-x'", "pin_secret": 1000, "api_key": None}
    card = Scrubber().text("card 4111 1111 1111 1111 ok")
    assert card == "card 1111 1111 1111 1111 ok"
    assert is_stand_in("1111 1111 1111 1111")
    assert Scrubber().text(card) == card


def test_scrubbing_is_idempotent() -> None:
    text = " | ".join(ALL.values())
    once = Scrubber().text(text)
    assert Scrubber().text(once) == once


def test_code_names_ids_and_versions_are_kept() -> None:
    kept = [
        "tests/test_auth.py::test_login[token-1]",
        "release shop@2.4.1 on 2026-12-07 12:00:01",
        "commit 9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6",
        "event 3b0b8a6e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "KeyError: 'SKU-9' in order_total (shop/pricing.py)",
        "AuthError: Invalid credentials",
    ]
    for text in kept:
        assert Scrubber().text(text) == text


def test_frame_source_and_structure_are_kept_and_locals_scrubbed() -> None:
    frame = Frame(
        filename="shop/auth.py",
        function="login",
        lineno=3,
        context_line='    password = request.form["password"]',
        vars={"password": "'hunter2-Correct'", "user": "'jane.doe@customer-example.com'"},
    )
    incident = Incident(
        id="fx-1",
        source="sentry_event",
        fingerprint="f",
        title="ValueError: bad login for jane.doe@customer-example.com",
        environment="prod",
        tags={"session": "abc-123", "region": "eu"},
        exceptions=[ExceptionInfo(type="ValueError", value="bad login", frames=[frame])],
        failing_tests=["tests/test_auth.py::test_password"],
    )
    scrubbed = scrub_incident(incident)
    dumped = scrubbed.model_dump_json()
    assert "hunter2" not in dumped and "jane.doe" not in dumped
    kept = scrubbed.exceptions[0].frames[0]
    assert kept.context_line == frame.context_line and kept.function == "login"
    assert kept.vars["password"] == "'xxxxxx1-Xxxxxxx'"
    assert scrubbed.tags == {"session": "xxx-111", "region": "eu"}
    assert scrubbed.failing_tests == incident.failing_tests
    assert (scrubbed.id, scrubbed.fingerprint) == (incident.id, incident.fingerprint)


def test_request_breadcrumbs_and_tags_of_an_event_are_scrubbed() -> None:
    event = {
        "message": "card 5555555555554444 declined",
        "request": {
            "url": "https://shop.example/pay?token=t0k3n-value&sku=9",
            "headers": [["Authorization", "Bearer 9f2kLmQ7rT1vXw3zYb5nCd8e"], ["Accept", "*/*"]],
            "cookies": {"sessionid": "s3ss10n-0a1b2c3d"},
            "env": {"REMOTE_ADDR": "203.0.113.77"},
        },
        "breadcrumbs": {"values": [{"message": "called +1 415-555-0132", "category": "ui"}]},
        "tags": [["api_key", "k3y-1234"], ["env", "prod"]],
    }
    scrubbed = str(scrub_event(event))
    for secret in ("5555555555554444", "t0k3n-value", "9f2kLmQ7", "s3ss10n", "203.0.113.77"):
        assert secret not in scrubbed
    assert "415-555-0132" not in scrubbed and "k3y-1234" not in scrubbed
    assert "*/*" in scrubbed and "'prod'" in scrubbed and "sku=9" in scrubbed


def test_raw_payload_is_kept_only_when_asked() -> None:
    incident = Incident(id="fx-1", source="sentry_event", fingerprint="f", title="t")
    payload = {"message": "mail jane.doe@customer-example.com"}
    assert scrub_intake(incident, payload)[1] != payload
    assert scrub_intake(incident, payload, keep_raw=True)[1] == payload


def test_the_last_line_leaves_code_alone() -> None:
    diff = '-    token = get_token()\n+    token = get_token() or ""\n'
    assert scrub_output(diff) == diff
    assert "AKIAIOSFODNN7EXAMPLE" not in scrub_output("key AKIAIOSFODNN7EXAMPLE")


def test_a_stand_in_keeps_the_escapes_of_a_repr() -> None:
    text = r"'-----BEGIN RSA PRIVATE KEY-----\nMIIEab\x0a\u00e9-----END RSA PRIVATE KEY-----'"
    assert (
        stand_in(text)
        == r"'-----XXXXX XXX XXXXXXX XXX-----\nXXXXxx\x0a\u00e9-----XXX XXX XXXXXXX XXX-----'"
    )


def test_cards_are_found_inside_longer_runs_of_numbers() -> None:
    text = "ref 3 4111 1111 1111 1111 5555555555554444 12 34"
    assert Scrubber().text(text) == "ref 3 1111 1111 1111 1111 1111111111111111 12 34"


def test_sentry_sdks_own_filtered_mark_is_kept() -> None:
    assert scrub_event({"vars": {"password": "[Filtered]"}}) == {"vars": {"password": "[Filtered]"}}


def test_stand_ins_keep_zero_and_nonzero_and_urls_are_not_emails() -> None:
    assert scrub_event({"session_seconds": "300.0"}) == {"session_seconds": "100.0"}
    assert scrub_event({"PWD": "'/srv/app'"}) == {"PWD": "'/srv/app'"}
    url = "postgresql://billing@db-primary.internal:5432/billing"
    assert Scrubber().text(url) == "postgresql://xxxxxxx@db-primary.internal:5432/billing"

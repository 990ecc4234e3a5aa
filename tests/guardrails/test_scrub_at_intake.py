"""What the server stores of an incoming event is scrubbed, unless the operator keeps it raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent.service.server import create_app
from agent.settings import Settings
from tests.support import signed
from tests.support.local_client import local_client
from tests.support.payloads import alert
from tests.support.secrets_corpus import FREE, KEYED, values_in


def hostile_alert() -> dict[str, object]:
    payload = alert()
    event = payload["data"]["event"]  # type: ignore[index]
    event["exception"]["values"][-1]["value"] = "charge failed: " + " ".join(FREE.values())
    event["exception"]["values"][-1]["stacktrace"]["frames"][-1]["vars"] = {"profile": dict(KEYED)}
    event["request"] = {"headers": {"Authorization": FREE["bearer_header"]}}
    return payload


def stored(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in home.rglob("*") if path.is_file())


@pytest.mark.parametrize("keep_raw", [False, True])
def test_the_stored_event_is_scrubbed_unless_kept_raw(tmp_path: Path, keep_raw: bool) -> None:
    settings = Settings(
        home=tmp_path / "state",
        sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
        worker=False,
        keep_raw_payloads=keep_raw,
    )
    payload = hostile_alert()
    with local_client(create_app(settings)) as client:
        answer = signed.post_sentry(client, payload)
        assert answer.status_code == 200, answer.text
        listed = client.get("/incidents").json()["incidents"]
    secrets = [piece for value in {**FREE, **KEYED}.values() for piece in values_in(value)]
    data = stored(settings.home)
    leaked = [piece for piece in secrets if piece.encode() in data]
    if keep_raw:
        assert len(leaked) >= len(secrets) - 1
    else:
        assert leaked == []
    assert not any(piece in json.dumps(listed) for piece in secrets)

"""The web console on `fixloop serve`: pages from stored runs, filters, escaping, auth."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.domain import AuditEntry
from agent.service.server import create_app
from agent.settings import Settings
from tests.support.paths import ROOT
from tests.support.stored_runs import INCIDENT, store_run, stored_values

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)
TOKEN = "console-token-0123456789"


def _run(settings: Settings, number: int, status: str, **extra: Any) -> str:
    incident = INCIDENT.model_copy(
        update={
            "id": f"fx-{number:012d}",
            "fingerprint": f"{number:040d}",
            "title": f"bug {number}",
        }
    )
    audit = AuditEntry(node="detect", saw="event", decided="run", why="new")
    values = stored_values(
        incident=incident.model_dump(mode="json"),
        status=status,
        audit=[audit.model_dump(mode="json")],
        **extra,
    )
    store_run(settings, values)
    return incident.id


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "state", worker=False)


def _client(settings: Settings, where: tuple[str, int] = LOCAL) -> TestClient:
    return TestClient(create_app(settings), client=where, follow_redirects=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with _client(settings) as test_client:
        yield test_client


def _ids(page: str) -> list[str]:
    return re.findall(r'href="/console/incidents/(fx-\d+)"', page)


def test_incidents_are_listed_newest_first_with_filters_and_pages(
    settings: Settings, client: TestClient
) -> None:
    from agent import wiring

    for number in range(1, 31):
        _run(settings, number, "escalated" if number % 3 == 0 else "no_fix_found")
    store = wiring.error_store(settings)
    for number in range(1, 31):  # events arrive in order: incident 30 is the newest
        incident = INCIDENT.model_copy(
            update={
                "id": f"fx-{number:012d}",
                "fingerprint": f"{number:040d}",
                "received_at": datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=number),
            }
        )
        store.record(incident, {"event_id": f"e{number}"})

    first = client.get("/console")
    assert first.status_code == 200
    assert _ids(first.text)[:3] == ["fx-000000000030", "fx-000000000029", "fx-000000000028"]
    assert len(_ids(first.text)) == 25 and "page 1 of 2" in first.text
    second = client.get("/console?page=2")
    assert _ids(second.text) == [f"fx-{n:012d}" for n in range(5, 0, -1)]

    escalated = client.get("/console?status=escalated")
    assert _ids(escalated.text) == [f"fx-{n:012d}" for n in range(30, 0, -3)]
    assert client.get("/console?repository=elsewhere").text.count("/console/incidents/") == 0
    assert _ids(client.get("/console?repository=checkout").text)[0] == "fx-000000000030"
    assert client.get("/console?page=x").status_code == 400


def test_one_incident_shows_its_diagnosis_diff_proof_and_timeline(
    settings: Settings, client: TestClient
) -> None:
    diagnosis = {
        "suspects": [
            {
                "file": "app/reports.py",
                "symbol": "average_basket",
                "lines": [12],
                "score": 0.9,
                "evidence": [{"kind": "frame", "detail": "innermost frame of the repository"}],
            }
        ],
        "explanation": "divides by the number of orders, which can be zero",
        "confidence": 0.8,
    }
    pr = {
        "id": 4,
        "branch": "fixloop/fx-1",
        "base": "main",
        "title": "fix",
        "body": "b",
        "diff": "--- a/app/reports.py\n+++ b/app/reports.py\n"
        "-    return t / n\n+    return t / n if n else 0\n",
        "status": "open",
    }
    proof = {
        "candidate_id": "c1",
        "proven": True,
        "reason": "the reproduction passes",
        "must_fix": {"test_repro.py::test_incident": {"before": "failed", "after": "passed"}},
        "baseline_passed": 11,
        "passed_after": 12,
    }
    incident_id = _run(settings, 1, "awaiting_review", diagnosis=diagnosis, pr=pr, reports=[proof])

    page = client.get(f"/console/incidents/{incident_id}").text

    assert "average_basket" in page and "innermost frame of the repository" in page
    assert "return t / n if n else 0" in page
    assert "test_repro.py::test_incident" in page and "11 passed" in page
    assert 'id="timeline"' in page and "detect" in page
    assert "2100 tokens in, 120 out, $0.0081" in page
    assert 'value="merge"' in page, "a PR awaiting review can be reviewed here"
    assert client.get("/console/incidents/fx-nope").status_code == 404


def test_values_are_escaped_and_scrubbed(settings: Settings, client: TestClient) -> None:
    hostile = "<script>alert(1)</script> mail jane.doe@example.com"
    audit = AuditEntry(node="detect", saw=hostile, decided="<b>run</b>", why="new")
    incident = INCIDENT.model_copy(update={"title": hostile})
    store_run(
        settings,
        stored_values(
            incident=incident.model_dump(mode="json"), audit=[audit.model_dump(mode="json")]
        ),
    )

    for page in (client.get("/console").text, client.get(f"/console/incidents/{INCIDENT.id}").text):
        assert "<script>" not in page and "&lt;script&gt;" in page
        assert "jane.doe@example.com" not in page
    response = client.get("/console")
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_health_shows_the_queue_runs_and_settings_with_secrets_masked(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "state",
        worker=False,
        github_token="ghp_secretvalue123456",
        database_url=None,
        sentry_url="https://user:pw@sentry.example.com",
    )
    _run(settings, 1, "escalated")
    with _client(settings) as client:
        page = client.get("/console/health").text
    assert 'id="queue">0<' in page
    assert "escalated" in page
    assert "github_token" in page and "ghp_secretvalue123456" not in page and "**********" in page
    assert "user:pw" not in page and "sentry.example.com" in page


def test_eval_runs_each_report_and_a_comparison(settings: Settings, client: TestClient) -> None:
    folder = settings.home / "evals" / "reports"
    folder.mkdir(parents=True)
    baselines = ROOT / "evals" / "baselines"
    shutil.copy(baselines / "templates-issue2.json", folder / "1-before.json")
    shutil.copy(baselines / "templates.json", folder / "2-after.json")
    (folder / "junk.json").write_text("not json")

    listing = client.get("/console/evals").text
    assert "1-before.json" in listing and "2-after.json" in listing and "junk.json" not in listing
    report = client.get("/console/evals/2-after.json")
    assert report.status_code == 200 and "<svg" in report.text
    compared = client.get("/console/evals/compare?a=1-before.json&b=2-after.json")
    assert compared.status_code == 200
    assert re.search(r"fix proven.*\+\d+", compared.text, flags=re.S | re.I)
    assert client.get("/console/evals/..%2Fsecrets.json").status_code == 404
    assert client.get("/console/evals/compare?a=1-before.json&b=nope.json").status_code == 404


def test_remote_requests_are_refused_without_auth(settings: Settings) -> None:
    with _client(settings, REMOTE) as client:
        response = client.get("/console")
    assert response.status_code == 403 and "FIXLOOP_CONSOLE_TOKEN" in response.text


def test_a_token_signs_in_by_header_or_login_form(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "state", worker=False, console_token=TOKEN)
    _run(settings, 1, "escalated")
    with _client(settings, REMOTE) as client:
        refused = client.get("/console")
        assert refused.status_code == 401 and 'name="token"' in refused.text
        assert client.get("/console", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert (
            client.get("/console", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        )

        csrf = client.cookies["fixloop_csrf"]
        wrong = client.post("/console/login", data={"token": "nope", "csrf": csrf})
        assert wrong.status_code == 401
        login = client.post(
            "/console/login", data={"token": TOKEN, "csrf": csrf, "wanted": "/console"}
        )
        assert login.status_code == 303 and TOKEN not in login.headers["set-cookie"]
        assert client.get("/console").status_code == 200
    with _client(settings, LOCAL) as local:
        assert local.get("/console").status_code == 401, "with a token set, loopback signs in too"


def test_a_proxy_header_names_the_user(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "state", worker=False, console_proxy_header="X-Forwarded-User"
    )
    with _client(settings, REMOTE) as client:
        assert client.get("/console").status_code == 403
        page = client.get("/console", headers={"X-Forwarded-User": "ana"})
    assert page.status_code == 200 and "signed in: ana" in page.text


def test_a_review_needs_the_forms_csrf_token(settings: Settings, client: TestClient) -> None:
    incident_id = _run(settings, 1, "escalated")
    client.get(f"/console/incidents/{incident_id}")
    forged = client.post(f"/console/incidents/{incident_id}/review", data={"action": "merge"})
    assert forged.status_code == 403
    csrf = client.cookies["fixloop_csrf"]
    other_site = client.post(
        f"/console/incidents/{incident_id}/review",
        data={"action": "merge", "csrf": csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    not_waiting = client.post(
        f"/console/incidents/{incident_id}/review", data={"action": "merge", "csrf": csrf}
    )
    assert not_waiting.status_code == 409 and "not awaiting review" in not_waiting.text
    with _client(settings, REMOTE) as remote:
        refused = remote.post(f"/console/incidents/{incident_id}/review", data={"action": "merge"})
    assert refused.status_code == 403


def test_the_console_is_not_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/console")]

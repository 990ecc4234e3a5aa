"""The worker drains the server's queue: runs, pages, merges; and a real sentry-sdk reports in."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.fakes.jira import FakeJira
from tests.support.fakes.pagerduty import FakePagerDuty
from tests.support.fakes.sentry import FakeSentry
from tests.support.live_server import live_server
from tests.support.local_client import local_client
from tests.support.payloads import alert, fixture_payload
from tests.support.repo_builder import git


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "home": tmp_path / "state",
        "sentry_client_secret": SecretStr(signed.SENTRY_SECRET),
        "pagerduty_webhook_secrets": [SecretStr(signed.PAGERDUTY_SECRET)],
        "github_webhook_secret": SecretStr(signed.GITHUB_SECRET),
        "ingest_keys": [SecretStr(signed.DSN_KEY)],
        "worker": False,
        "test_timeout": 120,
    }
    return Settings(**(fields | overrides))


def _drain(settings: Settings) -> int:
    return Worker(settings, wiring.inbox(settings)).drain()


def _page(client: TestClient, service: str = "PSVC1") -> dict[str, Any]:
    body, headers = signed.pagerduty(signed.page(service=service))
    return dict(client.post("/webhooks/pagerduty", content=body, headers=headers).json())


def test_an_incident_of_an_unmapped_project_is_recorded_not_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with local_client(create_app(settings)) as client:
        incident_id = signed.post_sentry(client, alert()).json()["incident_id"]
        assert _drain(settings) == 1
        record = client.get(f"/incidents/{incident_id}").json()

    assert record["incident"]["jobs"][0]["state"] == "done"
    assert "no repository mapped for project '4504'" in record["incident"]["outcome"]
    assert record["run"] is None


def test_a_page_without_a_stack_trace_is_ticketed_and_escalated(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with local_client(create_app(settings)) as client:
        incident_id = _page(client)["incident_id"]
        _drain(settings)
        record = client.get(f"/incidents/{incident_id}").json()["incident"]

    assert record["outcome"] == "escalated: ticket FIX-1"
    tracker = wiring.tracker(settings)
    ticket = tracker.get("FIX-1")
    assert "PagerDuty incident PT4KHLK: Checkout 500s" in ticket.body
    assert "https://acme.pagerduty.com/incidents/PT4KHLK" in ticket.body
    assert "No stack trace" in tracker.comments("FIX-1")[0]


def test_a_page_for_a_mapped_service_is_linked_to_its_sentry_incident(tmp_path: Path) -> None:
    settings = _settings(tmp_path, pagerduty_services={"PSVC1": "4504"})
    with local_client(create_app(settings)) as client:
        incident_id = signed.post_sentry(client, alert()).json()["incident_id"]
        page = _page(client)
        _drain(settings)
        record = client.get(f"/incidents/{incident_id}").json()["incident"]
        paged = client.get(f"/incidents/{page['incident_id']}").json()["incident"]

    assert paged["outcome"] == f"linked to {incident_id}"
    assert [(n["kind"], n["detail"]["pagerduty_incident"]) for n in record["notes"]] == [
        ("paged", "PT4KHLK")
    ]
    assert wiring.tracker(settings).all() == []


def test_a_page_for_a_service_of_a_repository_table_is_ticketed_in_that_repositorys_project(
    tmp_path: Path, demo_repo: Path
) -> None:
    with FakeJira("SHOP") as jira:
        settings = _settings(
            tmp_path,
            tracker="jira",
            jira_url=jira.url,
            jira_token=SecretStr("jira-pat"),
            jira_project="OPS",
            repos={"shop": {"checkout": demo_repo, "projects": ["PSVC1"], "jira_project": "SHOP"}},
        )
        with local_client(create_app(settings)) as client:
            incident_id = _page(client)["incident_id"]
            _drain(settings)
            record = client.get(f"/incidents/{incident_id}").json()["incident"]

    assert record["outcome"] == "escalated: ticket SHOP-1"
    assert "PagerDuty incident PT4KHLK" in jira.issues["SHOP-1"]["description"]


def _verify_jobs_done(client: TestClient, incident_id: str) -> int:
    jobs = client.get(f"/incidents/{incident_id}").json()["incident"]["jobs"]
    return sum(1 for job in jobs if job["kind"] == "verify" and job["state"] == "done")


def _with_apis(tmp_path: Path, sentry: FakeSentry, pagerduty: FakePagerDuty) -> Settings:
    return _settings(
        tmp_path,
        sentry_url=sentry.url,
        sentry_org="acme",
        sentry_token=SecretStr("sntrys_token"),
        pagerduty_url=pagerduty.url,
        pagerduty_token=SecretStr("pd-token"),
        pagerduty_from="oncall@acme.example",
        pagerduty_services={"PSVC1": "4504"},
    )


def _paged_incident(
    client: TestClient, settings: Settings, incident: str = "PT4KHLK", **data: Any
) -> dict[str, Any]:
    body, headers = signed.pagerduty(signed.page(incident=incident, service="PSVC9", **data))
    page_id = client.post("/webhooks/pagerduty", content=body, headers=headers).json()
    _drain(settings)
    return dict(client.get(f"/incidents/{page_id['incident_id']}").json()["incident"])


def test_a_page_that_links_a_sentry_issue_runs_from_its_latest_event(tmp_path: Path) -> None:
    with FakeSentry("acme") as sentry, FakePagerDuty() as pagerduty:
        sentry.add_issue("1170820242", fixture_payload("sentry_api_event.json"))
        settings = _with_apis(tmp_path, sentry, pagerduty)
        link = {"href": "https://acme.sentry.io/issues/1170820242/", "text": "Sentry Issue"}
        with local_client(create_app(settings)) as client:
            paged = _paged_incident(client, settings, custom_details={"links": [link]})
            again = _paged_incident(client, settings, "PQ2", custom_details={"link": link["href"]})
            linked_id = paged["outcome"].split()[2]
            linked = client.get(f"/incidents/{linked_id}").json()["incident"]

    assert paged["outcome"] == (f"linked to {linked_id} through Sentry issue 1170820242 (new)")
    assert again["outcome"] == (
        f"linked to {linked_id} through Sentry issue 1170820242 (duplicate_delivery)"
    )
    assert linked["source"] == "sentry_api" and linked["project"] == "4504"
    assert [(n["kind"], n["detail"]["how"]) for n in linked["notes"]] == [
        ("paged", "Sentry issue 1170820242")
    ] * 2
    assert [j["kind"] for j in linked["jobs"]] == ["run"]
    assert ("GET", "/incidents/PT4KHLK/alerts") not in pagerduty.calls


def test_a_page_without_links_is_linked_through_its_alerts(tmp_path: Path) -> None:
    with FakeSentry("acme") as sentry, FakePagerDuty() as pagerduty:
        sentry.add_issue("1170820242", fixture_payload("sentry_api_event.json"))
        alert_body = {
            "contexts": [
                {"type": "link", "href": "https://sentry.io/organizations/acme/issues/1170820242/"}
            ],
            "details": {"culprit": "app.reports in average_basket"},
        }
        pagerduty.add_incident("PT4KHLK", alerts=[{"id": "Q1", "body": alert_body}])
        settings = _with_apis(tmp_path, sentry, pagerduty)
        with local_client(create_app(settings)) as client:
            paged = _paged_incident(client, settings)

    assert paged["outcome"].endswith("through Sentry issue 1170820242 (new)")
    assert ("GET", "/incidents/PT4KHLK/alerts") in pagerduty.calls


def test_a_linked_issue_that_cannot_be_fetched_falls_back_and_escalates(tmp_path: Path) -> None:
    with FakeSentry("acme") as sentry, FakePagerDuty() as pagerduty:
        settings = _with_apis(tmp_path, sentry, pagerduty)
        with local_client(create_app(settings)) as client:
            paged = _paged_incident(
                client, settings, custom_details={"url": "https://acme.sentry.io/issues/99/"}
            )

    assert paged["outcome"] == "escalated: ticket FIX-1"
    tracker = wiring.tracker(settings)
    assert "Sentry issue 99" in tracker.get("FIX-1").body
    assert "links Sentry issue 99" in tracker.comments("FIX-1")[0]


def test_a_job_left_running_by_a_dead_process_is_run_by_the_next_worker(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with local_client(create_app(settings)) as client:
        signed.post_sentry(client, alert())
    inbox = wiring.inbox(settings)
    assert inbox.claim() is not None
    assert inbox.claim() is None

    worker = Worker(settings, wiring.inbox(settings), poll_seconds=0.05)
    worker.start()
    deadline = time.monotonic() + 10
    while inbox.stats()["jobs_done"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop(5)

    counts = inbox.stats()
    assert (counts["jobs_queued"], counts["jobs_running"], counts["jobs_done"]) == (0, 0, 1)


def test_a_real_sentry_sdk_reports_to_the_server_with_its_dsn(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with live_server(create_app(settings)) as url:
        host = url.removeprefix("http://")
        sentry_sdk.init(dsn=f"http://{signed.DSN_KEY}@{host}/42", default_integrations=False)
        try:
            try:
                {}["missing"]
            except KeyError:
                event_id = sentry_sdk.capture_exception()
            sentry_sdk.flush(timeout=10)
        finally:
            sentry_sdk.get_client().close()
            sentry_sdk.get_global_scope().set_client(None)
        incidents = httpx.get(f"{url}/incidents").json()["incidents"]

    assert event_id is not None
    assert [(i["project"], i["count"]) for i in incidents] == [("42", 1)]
    assert "KeyError" in incidents[0]["title"]


@pytest.mark.slow
def test_a_merged_fix_waits_for_its_release_then_is_verified_on_the_rates(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = _settings(tmp_path, repos={"4504": demo_repo}, verify_window=3600.0)
    worker = Worker(settings, wiring.inbox(settings))
    with local_client(create_app(settings)) as client:
        incident_id = signed.post_sentry(client, alert(event_id=uuid.uuid4().hex)).json()[
            "incident_id"
        ]
        assert worker.drain() == 1
        waiting = client.get(f"/incidents/{incident_id}").json()
        assert waiting["run"]["status"] == "awaiting_review", waiting["run"]["audit"]

        merged = signed.pull_request(incident_id, "closed", merged=True)
        body, headers = signed.github("pull_request", merged)
        assert client.post("/webhooks/github", content=body, headers=headers).status_code == 200
        assert worker.drain() == 1
        assert worker.check_releases() == [(incident_id, "waiting_for_release")]
        record = client.get(f"/incidents/{incident_id}").json()
        assert record["run"]["status"] == "waiting_for_release"
        assert record["run"]["verification"] is None
        assert record["incident"]["open"] is True

        ticking = Worker(settings, wiring.inbox(settings), poll_seconds=0.05)
        ticking.start()
        deadline = time.monotonic() + 60
        while _verify_jobs_done(client, incident_id) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        ticking.stop(30)
        assert _verify_jobs_done(client, incident_id) == 2, "the server's worker checks on start"

        merge_sha = git(demo_repo, "rev-parse", "main")
        deployed = alert(function="another_handler")
        deployed["data"]["event"]["release"] = f"shop@1.1+{merge_sha[:12]}"
        assert signed.post_sentry(client, deployed).json()["outcome"] == "new"
        assert worker.check_releases() == [(incident_id, "closed")]
        closed = client.get(f"/incidents/{incident_id}").json()

    verification = closed["run"]["verification"]
    assert closed["run"]["status"] == "closed", closed["run"]["audit"]
    assert verification["verified"] is True
    assert verification["release"] == f"shop@1.1+{merge_sha[:12]}"
    assert (verification["new_events"], verification["events_before"]) == (0, 1)
    assert verification["rate_after"] == 0.0 and verification["before_hours"] == 1.0
    assert (
        "0 in the" in verification["summary"]
        and "1 in the 1.00 h before" in verification["summary"]
    )
    assert verification["summary"] in closed["run"]["ticket"]["resolution"]
    assert closed["incident"]["open"] is False
    jobs = [(j["kind"], j["outcome"]) for j in closed["incident"]["jobs"]]
    assert jobs == [
        ("run", "awaiting_review"),
        ("merged", "waiting_for_release"),
        ("verify", "waiting_for_release"),
        ("verify", "waiting_for_release"),
        ("verify", "closed"),
    ]
    decisions = [n["decided"] for n in closed["run"]["audit"] if n["node"] == "find_release"]
    assert decisions == ["wait for the release", "verify"], "one entry per change, not per check"


@pytest.mark.slow
def test_an_event_naming_a_new_release_wakes_the_servers_worker(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = _settings(
        tmp_path, repos={"4504": demo_repo}, verify_window=3600.0, verify_poll_seconds=3600.0
    )
    with local_client(create_app(settings)) as client:
        incident_id = signed.post_sentry(client, alert(event_id=uuid.uuid4().hex)).json()[
            "incident_id"
        ]
        _drain(settings)
        body, headers = signed.github("pull_request", signed.pull_request(incident_id))
        client.post("/webhooks/github", content=body, headers=headers)
        _drain(settings)

    merge_sha = git(demo_repo, "rev-parse", "main")
    deployed = alert(function="vendored_helper")
    for frame in deployed["data"]["event"]["exception"]["values"][-1]["stacktrace"]["frames"]:
        frame["filename"] = frame["abs_path"] = "/usr/lib/python3.12/site-packages/vendor/x.py"
    deployed["data"]["event"]["release"] = merge_sha
    with local_client(create_app(settings, worker=True)) as client:
        deadline = time.monotonic() + 60
        while _verify_jobs_done(client, incident_id) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        signed.post_sentry(client, deployed)
        while _verify_jobs_done(client, incident_id) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        record = client.get(f"/incidents/{incident_id}").json()

    assert record["run"]["status"] == "closed", record["run"]["audit"]
    assert record["run"]["verification"]["release"] == merge_sha
    assert [j["outcome"] for j in record["incident"]["jobs"] if j["kind"] == "verify"] == [
        "waiting_for_release",
        "closed",
    ], "one check on start, one for the new release; the hourly tick never came"


@pytest.mark.slow
def test_with_no_release_by_the_deadline_events_since_the_merge_decide(
    tmp_path: Path, demo_repo: Path
) -> None:
    settings = _settings(tmp_path, repos={"4504": demo_repo}, verify_window=0.5)
    worker = Worker(settings, wiring.inbox(settings))
    with local_client(create_app(settings)) as client:
        incident_id = signed.post_sentry(client, alert(event_id=uuid.uuid4().hex)).json()[
            "incident_id"
        ]
        worker.drain()
        body, headers = signed.github("pull_request", signed.pull_request(incident_id))
        client.post("/webhooks/github", content=body, headers=headers)
        assert worker.drain() == 1
        again = signed.post_sentry(client, alert(event_id=uuid.uuid4().hex)).json()
        assert (again["outcome"], again["incident_id"]) == ("repeat", incident_id)
        time.sleep(0.6)
        assert worker.check_releases() == [(incident_id, "regressed")]
        run = client.get(f"/incidents/{incident_id}").json()["run"]

    verification = run["verification"]
    assert verification["verified"] is False and verification["release"] is None
    assert verification["new_events"] == 1 and verification["rate_after"] > 0
    assert "since the merge (no release containing it seen)" in verification["summary"]
    assert run["status"] == "regressed"
    assert run["ticket"]["status"] == "reopened"
    comments = wiring.tracker(settings).comments(run["ticket"]["key"])
    assert any(verification["summary"] in c for c in comments)
    why = next(n["why"] for n in reversed(run["audit"]) if n["node"] == "find_release")
    assert why.startswith("no release containing") and why.endswith("in the 0.5 s after the merge")


def test_a_merge_for_an_unknown_run_fails_its_job_with_the_reason(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with local_client(create_app(settings)) as client:
        body, headers = signed.github("pull_request", signed.pull_request("fx-000000000000"))
        client.post("/webhooks/github", content=body, headers=headers)
        _drain(settings)
        record = client.get("/incidents/fx-000000000000").json()

    [job] = record["incident"]["jobs"]
    assert (job["kind"], job["state"]) == ("merged", "failed")
    assert job["outcome"] == "no run for incident fx-000000000000"

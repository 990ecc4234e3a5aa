"""End to end with the real clients: signed Sentry webhook (and its page) -> Jira ticket -> draft
PR on GitHub -> merged webhook -> waiting for the release -> the release that contains the
merge shows up in Sentry -> verify on the event rates -> Jira closed, Sentry issue and PagerDuty
page resolved. Git, SQLite and pytest are real; Sentry, PagerDuty, Jira and GitHub are local fakes
that httpx, jira and PyGithub talk to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import wiring
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.fakes.jira import FakeJira
from tests.support.fakes.pagerduty import FakePagerDuty
from tests.support.fakes.sentry import FakeSentry
from tests.support.github_setup import FULL_NAME, TOKEN, github_for
from tests.support.local_client import local_client
from tests.support.payloads import alert
from tests.support.repo_builder import git

pytestmark = pytest.mark.slow


def test_sentry_webhook_to_jira_and_github_and_back_to_closed(
    tmp_path: Path, demo_repo: Path
) -> None:
    with (
        github_for(demo_repo, tmp_path / "origin.git") as github,
        FakeJira("OPS") as jira,
        FakeSentry("acme") as sentry,
        FakePagerDuty() as pagerduty,
    ):
        sentry.add_issue("1170820242", {})
        pagerduty.add_incident("PT4KHLK")
        settings = Settings(
            home=tmp_path / "state",
            test_timeout=120,
            worker=False,
            repos={"4504": demo_repo},
            sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
            github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
            forge="github",
            github_repo=FULL_NAME,
            github_token=SecretStr(TOKEN),
            github_api_url=github.fake.url,
            github_remote_url=str(github.bare),
            tracker="jira",
            jira_url=jira.url,
            jira_token=SecretStr("jira-pat"),
            jira_project="OPS",
            sentry_url=sentry.url,
            sentry_org="acme",
            sentry_token=SecretStr("sntrys_token"),
            pagerduty_webhook_secrets=[SecretStr(signed.PAGERDUTY_SECRET)],
            pagerduty_services={"PSVC1": "4504"},
            pagerduty_url=pagerduty.url,
            pagerduty_token=SecretStr("pd-token"),
            pagerduty_from="oncall@acme.example",
            verify_window=3600.0,
        )
        worker = Worker(settings, wiring.inbox(settings))
        with local_client(create_app(settings)) as client:
            webhook = alert(uuid.uuid4().hex)
            webhook["data"]["event"]["issue_id"] = "1170820242"
            incident_id = signed.post_sentry(client, webhook).json()["incident_id"]
            body, headers = signed.pagerduty(signed.page(incident="PT4KHLK", service="PSVC1"))
            assert client.post("/webhooks/pagerduty", content=body, headers=headers).is_success
            assert worker.drain() == 2

            waiting = client.get(f"/incidents/{incident_id}").json()["run"]
            assert waiting["status"] == "awaiting_review", waiting["audit"]
            assert waiting["ticket"]["key"] == "OPS-1"
            assert jira.issues["OPS-1"]["status"] == "In Review"
            assert jira.issues["OPS-1"]["priority"] == "High"
            pr = github.fake.pulls[1]
            assert (pr["draft"], pr["labels"], pr["head"]) == (
                True,
                ["fixloop"],
                f"fixloop/{incident_id}",
            )
            assert "OPS-1" in pr["body"] and incident_id in pr["body"]
            head = git(github.bare, "rev-parse", f"refs/heads/fixloop/{incident_id}")
            assert head == waiting["pr"]["head_sha"]

            merge_sha = github.fake.merge(1, "Merge pull request #1")
            body, headers = signed.github("pull_request", signed.pull_request(incident_id))
            assert (
                client.post("/webhooks/github", content=body, headers=headers).json()["outcome"]
                == "recorded"
            )
            assert worker.drain() == 1
            assert worker.check_releases() == [(incident_id, "waiting_for_release")]

            now = datetime.now(UTC)
            sentry.add_events("1170820242", *(now - timedelta(minutes=m) for m in (20, 40, 50)))
            sentry.add_release("shop@2.0", "4504", merge_sha, first_event=now)
            assert worker.check_releases() == [(incident_id, "closed; resolved PagerDuty PT4KHLK")]
            closed = client.get(f"/incidents/{incident_id}").json()

    run = closed["run"]
    assert run["status"] == "closed", run["audit"]
    assert run["verification"]["verified"] is True
    assert run["verification"]["checked_commit"] == merge_sha
    assert run["verification"]["release"] == "shop@2.0"
    assert (run["verification"]["events_before"], run["verification"]["new_events"]) == (3, 0)
    assert run["verification"]["rate_before"] == 3.0
    assert jira.issues["OPS-1"]["status"] == "Done"
    resolution = next(
        c["body"]
        for c in jira.issues["OPS-1"]["comments"]
        if "Resolved by pull request" in c["body"]
    )
    assert "since release shop@2.0 was first seen" in resolution
    assert "3 in the 1.00 h before the merge (3.00/h)" in resolution
    assert wiring.error_store(settings).resolved_at(run["fingerprint"]) is not None
    issue = sentry.issues["1170820242"]
    assert (issue["status"], issue["statusDetails"]) == ("resolved", {"inNextRelease": True})
    assert closed["incident"]["open"] is False
    assert closed["incident"]["jobs"][-1]["outcome"] == "closed; resolved PagerDuty PT4KHLK"
    assert pagerduty.incidents["PT4KHLK"]["status"] == "resolved"
    assert "fixloop verified the merged fix" in pagerduty.incidents["PT4KHLK"]["notes"][0]

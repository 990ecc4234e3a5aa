"""Finding the Sentry issue a PagerDuty incident is about: pure functions over its JSON."""

from __future__ import annotations

import time

from agent.intake.links import MAX_DEPTH, sentry_host, sentry_issue_id, sentry_issue_ids
from agent.intake.webhooks import pagerduty_page
from tests.support import signed


def test_sentry_issue_urls_in_their_forms() -> None:
    assert sentry_issue_id("https://sentry.io/organizations/acme/issues/1170820242/") == (
        "1170820242"
    )
    assert sentry_issue_id("https://acme.sentry.io/issues/42/?referrer=pagerduty") == "42"
    assert sentry_issue_id("https://ACME.sentry.io/issues/42") == "42"
    assert sentry_issue_id("https://acme.sentry.io/issues/42/events/abc/") == "42"
    assert sentry_issue_id("https://sentry.acme.dev/organizations/acme/issues/7/") is None
    assert (
        sentry_issue_id("https://sentry.acme.dev/organizations/acme/issues/7/", {"sentry.acme.dev"})
        == "7"
    )


def test_other_urls_are_not_sentry_issues() -> None:
    for url in (
        "https://github.com/acme/shop/issues/12",
        "https://acme.pagerduty.com/incidents/PT4KHLK",
        "https://evil.example/sentry.io/issues/1/",
        "https://sentry.io.evil.example/issues/1/",
        "https://acme.sentry.io/projects/shop/",
        "https://acme.sentry.io/issues/abc/",
        "https://[::1/issues/1/",
    ):
        assert sentry_issue_id(url) is None, url


def test_issue_ids_anywhere_in_an_incident_or_its_alerts() -> None:
    alerts = {
        "alerts": [
            {
                "id": "Q1",
                "body": {
                    "contexts": [
                        {
                            "type": "link",
                            "href": "https://acme.sentry.io/issues/42/",
                            "text": "Sentry",
                        }
                    ],
                    "details": {
                        "event": {
                            "web_url": "https://sentry.io/organizations/acme/issues/42/events/e1/"
                        },
                        "note": "see https://acme.sentry.io/issues/43/, and the runbook",
                    },
                },
            }
        ]
    }
    assert sentry_issue_ids(alerts) == ["42", "43"]
    assert (
        sentry_issue_ids(
            {"title": "Checkout 500s", "html_url": "https://acme.pagerduty.com/incidents/P1"}
        )
        == []
    )
    assert sentry_issue_ids(
        "text https://self.host/issues/9/", {sentry_host("https://self.host/")}
    ) == ["9"]  # type: ignore[arg-type]


def test_the_walk_is_bounded() -> None:
    deep: object = "https://acme.sentry.io/issues/1/"
    for _ in range(MAX_DEPTH + 5):
        deep = {"next": deep}
    assert sentry_issue_ids(deep) == []
    wide = ["filler"] * 5000 + ["https://acme.sentry.io/issues/2/"]
    assert sentry_issue_ids(wide) == []


def test_a_pagerduty_webhook_names_the_sentry_issue_its_data_links() -> None:
    now = time.time()
    linked = signed.page(custom_details={"sentry": "https://acme.sentry.io/issues/1170820242/"})
    self_hosted = signed.page(body={"details": "https://sentry.acme.dev/issues/77/"})

    assert pagerduty_page(linked, now, 300).sentry_issue == "1170820242"
    assert pagerduty_page(signed.page(), now, 300).sentry_issue is None
    assert pagerduty_page(self_hosted, now, 300).sentry_issue is None
    assert pagerduty_page(self_hosted, now, 300, ["sentry.acme.dev"]).sentry_issue == "77"

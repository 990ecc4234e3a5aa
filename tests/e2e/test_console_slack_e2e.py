"""The demo seen by people: its incident in the web console, in a real browser (Debian's
chromium driven by Playwright), and its Slack thread (the real slack_sdk against a fake Slack)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agent.demo.run import run_demo
from agent.service import runner
from agent.service.server import create_app
from agent.settings import Settings
from tests.support.fakes.slack import FakeSlack
from tests.support.live_server import live_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
TOKEN = "xoxb-demo-0123456789"
SCREENSHOT = "FIXLOOP_CONSOLE_SCREENSHOT"
"""Where to write the incident page's screenshot besides the test's own folder (the README's
`docs/console-incident.png` is made with it)."""


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack
) -> tuple[Settings, dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(
        home=root / "state",
        sandbox="auto",
        test_timeout=120,
        worker=False,
        slack_token=TOKEN,
        slack_channel="#incidents",
        slack_api_url=slack.base_url,
    )
    summary = run_demo(settings, root / "work", lambda line: None)
    assert summary["status"] == "awaiting_review", summary
    return settings, summary


def test_the_console_shows_the_demo_incident_in_a_browser(
    demo: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/setup installs Debian's chromium")
    settings, summary = demo
    incident_id = summary["incident"]
    with live_server(create_app(settings)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/console")
            link = page.locator(f'a[href="/console/incidents/{incident_id}"]')
            assert link.count() == 1
            assert "ZeroDivisionError" in link.inner_text()
            row = page.locator("tr", has=link)
            assert "awaiting_review" in row.inner_text() and "FIX-1" in row.inner_text()

            link.click()
            page.wait_for_url(f"**/console/incidents/{incident_id}")
            diagnosis = page.locator("#diagnosis").inner_text()
            assert "average_basket" in diagnosis and "frame" in diagnosis
            diff = page.locator("#diff").inner_text()
            assert "app/reports.py" in diff and "\n+" in diff
            timeline = page.locator("#timeline li").all_inner_texts()
            nodes = [text.split()[3] for text in timeline]
            assert nodes[:2] == ["detect", "ticket"] and "open_pr" in nodes
            assert (
                page.locator("#proof").is_visible() and page.locator("#reproduction").is_visible()
            )

            shot = tmp_path / "console-incident.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if os.environ.get(SCREENSHOT):
                shutil.copy(shot, os.environ[SCREENSHOT])
        finally:
            browser.close()


def test_merged_from_the_console_the_demo_incident_has_one_slack_thread_in_order(
    demo: tuple[Settings, dict[str, Any]], slack: FakeSlack
) -> None:
    settings, summary = demo
    pr, incident_id = summary["pr"], summary["incident"]
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as console:
        console.get(f"/console/incidents/{incident_id}")  # the form and its CSRF cookie
        merged = console.post(
            f"/console/incidents/{incident_id}/review",
            data={"action": "merge", "comment": "ok", "csrf": console.cookies["fixloop_csrf"]},
            follow_redirects=False,
        )
    assert merged.status_code == 303, merged.text
    closed = runner.incident_status(settings, incident_id)
    assert closed["status"] == "closed"
    assert closed["pr"]["status"] == "merged"

    roots = slack.roots()
    assert len(roots) == 1
    thread = [message["text"] for message in slack.thread(roots[0]["ts"])]
    assert len(thread) == 3, thread
    ticketed, awaiting, verified = thread
    assert "ZeroDivisionError" in ticketed and "FIX-1" in ticketed
    assert f"#{pr['id']}" in awaiting and "awaits review" in awaiting
    assert verified.startswith(":white_check_mark: Verified.")
    posted = [e for e in closed["audit"] if e["node"] == "notify"]
    assert [e["decided"] for e in posted] == ["posted to Slack"] * 3

"""Slack threads per incident: the real slack_sdk client against a local fake Slack API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agent import wiring
from agent.errors import NotifyError
from agent.notify import announced
from agent.settings import Settings
from tests.support.fakes.slack import FakeSlack

TOKEN = "xoxb-test-1234567890"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(TOKEN) as fake:
        yield fake


def _settings(tmp_path: Path, slack: FakeSlack, database_url: str | None = None) -> Settings:
    return Settings(
        home=tmp_path / "state",
        database_url=database_url,
        slack_token=TOKEN,
        slack_channel="#incidents",
        slack_api_url=slack.base_url,
    )


def test_no_token_no_notifier(tmp_path: Path) -> None:
    assert wiring.notifier(Settings(home=tmp_path, slack_channel="#incidents")) is None


def test_one_thread_per_incident_each_key_once(
    tmp_path: Path, slack: FakeSlack, database_url: str | None
) -> None:
    notifier = wiring.notifier(_settings(tmp_path, slack, database_url))
    assert notifier is not None

    root = notifier.post("fx-1", "ticketed", "ticketed")
    reply = notifier.post("fx-1", "pr:1", "PR")
    assert notifier.post("fx-1", "pr:1", "PR again") == reply
    other = notifier.post("fx-2", "ticketed", "another incident")

    assert [m["text"] for m in slack.thread(root)] == ["ticketed", "PR"]
    assert [m["ts"] for m in slack.roots()] == [root, other]
    assert [m["key"] for m in notifier.thread("fx-1")] == ["ticketed", "pr:1"]
    assert {m["thread_ts"] for m in notifier.thread("fx-1")} == {root}


def test_messages_are_scrubbed(tmp_path: Path, slack: FakeSlack) -> None:
    notifier = wiring.notifier(_settings(tmp_path, slack))
    assert notifier is not None
    notifier.post("fx-1", "ticketed", f"token {TOKEN} of jane.doe@example.com")

    text = slack.messages[0]["text"]
    assert TOKEN not in text and "jane.doe@example.com" not in text


def test_a_refusal_is_a_notify_error(tmp_path: Path, slack: FakeSlack) -> None:
    slack.refuse = "channel_not_found"
    notifier = wiring.notifier(_settings(tmp_path, slack))
    assert notifier is not None
    with pytest.raises(NotifyError, match="channel_not_found"):
        notifier.post("fx-1", "ticketed", "x")
    assert notifier.thread("fx-1") == []


def _ticket_node(state: Any, runtime: Any) -> dict[str, Any]:
    return {
        "ticket": {"key": "FIX-1", "url": None},
        "audit": [{"node": "ticket", "decided": "ticket FIX-1"}],
    }


def _state() -> dict[str, Any]:
    incident = {"id": "fx-1", "title": "ZeroDivisionError: <b>division</b> & more"}
    return {"incident": incident, "repo": "/srv/shop-service", "run": {"repo_table": None}}


def test_announced_node_posts_and_audits(tmp_path: Path, slack: FakeSlack) -> None:
    runtime = SimpleNamespace(
        context=SimpleNamespace(notifier=wiring.notifier(_settings(tmp_path, slack)))
    )
    update = announced("ticket", _ticket_node)(_state(), runtime)

    assert update["ticket"]["key"] == "FIX-1"
    assert [entry["node"] for entry in update["audit"]] == ["ticket", "notify"]
    assert update["audit"][1]["decided"] == "posted to Slack"
    text = slack.messages[0]["text"]
    assert "&lt;b&gt;division&lt;/b&gt; &amp; more" in text and "<b>" not in text
    assert "shop-service" in text and "FIX-1" in text


def test_a_failed_post_is_audited_and_the_node_goes_on(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "state",
        slack_token=TOKEN,
        slack_channel="#incidents",
        slack_api_url="http://127.0.0.1:9/api/",  # nothing listens on the discard port
    )
    runtime = SimpleNamespace(context=SimpleNamespace(notifier=wiring.notifier(settings)))
    update = announced("ticket", _ticket_node)(_state(), runtime)

    assert update["ticket"]["key"] == "FIX-1"
    entry = update["audit"][-1]
    assert (entry["node"], entry["decided"]) == ("notify", "not posted")
    assert "Slack is unreachable" in entry["why"]


def test_without_a_notifier_the_node_is_unchanged(tmp_path: Path) -> None:
    runtime = SimpleNamespace(context=SimpleNamespace(notifier=None))
    assert announced("ticket", _ticket_node)(_state(), runtime) == _ticket_node(None, None)


def test_the_messages_after_open_pr_and_verify() -> None:
    from agent.notify import message_after

    pr = {"id": 7, "branch": "fixloop/fx-1", "title": "fix: guard <n>", "url": "https://x/pr/7"}
    awaiting = message_after("open_pr", _state(), {"pr": pr, "status": "awaiting_review"})
    assert awaiting is not None and awaiting[0] == "pr:7"
    assert "<https://x/pr/7|#7>" in awaiting[1] and "guard &lt;n&gt;" in awaiting[1]
    assert "fixloop review 7 --merge" in awaiting[1]

    verified = message_after(
        "verify", _state(), {"verification": {"verified": True, "summary": "ok"}}
    )
    regressed = message_after(
        "verify", _state(), {"verification": {"verified": False, "summary": "3 events"}}
    )
    assert verified == ("verified", ":white_check_mark: Verified. ok")
    assert regressed is not None and regressed[0] == "regressed" and "3 events" in regressed[1]
    assert message_after("fix", _state(), {"candidates": []}) is None

"""fixloop's own secrets never reach a ticket or a PR, whatever the incident text quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from agent import wiring
from agent.domain import Incident, ModelReply
from agent.guardrails.redaction import REDACTED, ScrubbingModel, secrets_of
from agent.settings import Settings
from tests.support.repo_builder import RepoBuilder, git


def test_secrets_in_ticket_and_pr_text_are_redacted(tmp_path: Path) -> None:
    token = "ghp_live_token_9f8e7d6c"
    settings = Settings(
        home=tmp_path / "state",
        github_webhook_secret=SecretStr("hook-secret-1"),
        ingest_keys=[SecretStr("dsn-key-2")],
        jira_token=SecretStr(token),
    )
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"a.py": "x = 1\n"}, "initial")
    deps = wiring.build_deps(settings, builder.path, "fx-1")
    incident = Incident(id="fx-1", source="sentry_event", fingerprint="f", title="t")

    ticket = deps.tracker.ensure_ticket(incident, f"leak {token}", f"Authorization: {token}")
    deps.tracker.comment(ticket.key, "c", "dsn-key-2 and hook-secret-1")
    git(builder.path, "checkout", "--quiet", "-b", "scratch")
    head = builder.commit({"a.py": "x = 2\n"}, "change")
    pr = deps.forge.open_pr("fixloop/fx-1", head, "fix", f"body with {token}")

    stored = wiring.tracker(settings).get(ticket.key)
    assert stored.title == f"leak {REDACTED}"
    assert token not in stored.body
    assert wiring.tracker(settings).comments(ticket.key) == [f"{REDACTED} and {REDACTED}"]
    assert pr.body == f"body with {REDACTED}"
    assert sorted(secrets_of(settings)) == sorted([token, "hook-secret-1", "dsn-key-2"])
    assert token not in str(settings.resolved())


def test_prompts_pass_the_scrubber_but_tool_results_do_not() -> None:
    sent: dict[str, Any] = {}

    class Recording:
        def create(self, **call: Any) -> ModelReply:
            sent.update(call)
            return ModelReply(model="m", content=[], stop_reason="end_turn")

    source = 'OWNER = "ops@corp-example.com"\n'
    ScrubbingModel(Recording(), ["own-secret-1"]).create(
        model="m",
        system=[{"type": "text", "text": "key own-secret-1"}],
        messages=[
            {"role": "user", "content": "crash for jane.doe@customer-example.com"},
            {"role": "assistant", "content": [{"type": "text", "text": "reading"}]},
            {"role": "user", "content": [{"type": "tool_result", "content": source}]},
        ],
        tools=[],
        max_tokens=10,
    )
    assert sent["system"][0]["text"] == f"key {REDACTED}"
    assert "jane.doe" not in sent["messages"][0]["content"]
    assert sent["messages"][2]["content"][0]["content"] == source

"""A model-written title and rationale reach the PR title, body and commit message scrubbed,
and as text: no mention, link, image or HTML, no terminal escape in the commit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from langgraph.runtime import Runtime
from markdown_it import MarkdownIt

from agent import wiring
from agent.domain import Diagnosis, FileChange
from agent.domain import TestReport as Report
from agent.intake.payloads import parse_payload
from agent.nodes.open_pr import open_pr
from agent.prompting import md_text, md_title
from agent.repair.diffs import make_patch
from agent.settings import Settings
from tests.support.markdown import HOSTILE, problems
from tests.support.payloads import fixture_payload

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_WORDS = f"uses key {AWS_KEY} and mails ops@example.com"
TITLE = "Guard @team ![p](https://evil.example/p.png) <img src=x> \x1b[2J\u202e #12 " + AWS_KEY
RATIONALE = "\n".join([*HOSTILE, SECRET_WORDS])


def test_model_text_reaches_the_pr_and_the_commit_as_scrubbed_text(
    settings: Settings, demo_repo: Path
) -> None:
    incident = parse_payload(fixture_payload("sentry_api_event.json"))
    deps = wiring.build_deps(settings, demo_repo, incident.id)
    ticket = deps.tracker.ensure_ticket(incident, "t", "b")
    handlers = (demo_repo / "app" / "handlers.py").read_text()
    change = FileChange(path="app/handlers.py", before=handlers, after=handlers + "\n# fixed\n")
    patch = make_patch("claude", TITLE, RATIONALE, [change], rank=1)
    state = {
        "incident": incident.model_dump(mode="json"),
        "ticket": ticket.model_dump(mode="json"),
        "proven": patch.model_dump(mode="json"),
        "diagnosis": Diagnosis(explanation="x").model_dump(mode="json"),
        "reports": [Report(candidate_id=patch.id, proven=True, reason="ok").model_dump()],
        "base_commit": deps.repo.head("main"),
        "must_fix": [],
    }
    pr = open_pr(state, Runtime(context=deps))["pr"]  # type: ignore[arg-type]

    assert AWS_KEY not in pr["title"] + pr["body"] and "ops@example.com" not in pr["body"]
    assert "\x1b" not in pr["title"] and "\u202e" not in pr["title"]
    assert problems(pr["title"]) == [], pr["title"]
    assert problems(pr["body"]) == [], pr["body"]
    message = subprocess.run(
        ["git", "log", "-1", "--format=%B", pr["head_sha"]],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert message.startswith("fix: Guard @team")
    assert AWS_KEY not in message and "ops@example.com" not in message
    assert "\x1b" not in message and "\u202e" not in message


@pytest.mark.parametrize("text", [*HOSTILE, TITLE])
def test_md_text_and_md_title_render_as_the_text(text: str) -> None:
    assert problems(md_text(text)) == []
    assert problems(md_title(text)) == []
    rendered = MarkdownIt("commonmark").render(md_title("a <b>x</b> c"))
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in rendered
    prose = MarkdownIt("commonmark").render(md_text("*not bold* [not](a link)"))
    assert prose == "<p>*not bold* [not](a link)</p>\n"

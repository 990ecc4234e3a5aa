"""The Claude engine in the whole loop and in `fixloop eval`, against the scripted model server:
usage in the run record matches the server's figures; refusals and budgets reach the audit."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.domain import ModelUsage
from agent.intake.payloads import load_event_file
from agent.repair.claude import Price
from agent.service import runner
from agent.service.cli import render_summary
from agent.settings import Settings
from agent.state import run_usage
from evals.model_server import ScriptedModelServer
from evals.runner import EvalOptions, run_eval
from tests.support.cli import fixloop
from tests.support.eval_cases import write_rates_case

pytestmark = pytest.mark.slow

FIX = {
    "path": "billing/rates.py",
    "search": "    return total / count\n",
    "replace": "    if not count:\n        return 0\n    return total / count\n",
}
FIXING = [
    {"tool_use": [{"name": "read_code", "input": {"path": "billing/rates.py"}}]},
    {
        "tool_use": [
            {"name": "propose_edit", "input": {"title": "t", "rationale": "r", "edits": [FIX]}}
        ]
    },
    {"tool_use": [{"name": "run_tests", "input": {}}]},
    {"text": "Fixed.", "tool_use": [{"name": "finish", "input": {"summary": "guard restored"}}]},
]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rates_case(tmp_path_factory.mktemp("corpus"))[0]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    servers: list[ScriptedModelServer] = []

    def start(replies: list[dict[str, Any]]) -> ScriptedModelServer:
        server = ScriptedModelServer({"conversations": [{"replies": replies}]}).__enter__()
        servers.append(server)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        return server

    yield start
    for server in servers:
        server.__exit__()


def _run(case: Path, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(case / "repo.bundle"), str(repo)], check=True)
    incident, payload = load_event_file(case / "incident.json")
    configured = settings.model_copy(update={"engines": ["claude"], "test_paths": ["tests"]})
    summary = runner.run_incident(configured, repo, incident, payload)
    return runner.incident_state(configured, summary["incident"])


def _server_usage(server: ScriptedModelServer) -> ModelUsage:
    return ModelUsage.model_validate(server.totals)


def test_a_claude_fix_goes_to_a_pr_with_its_usage_and_transcript_in_the_run(
    case: Path, settings: Settings, tmp_path: Path, serve: Any
) -> None:
    server = serve(FIXING)
    state = _run(case, settings, tmp_path)

    assert state["status"] == "awaiting_review"
    assert state["proven"]["engine"] == "claude"
    assert "+    if not count:" in state["pr"]["diff"]
    expected = _server_usage(server)
    assert "usage" not in state
    assert run_usage(state["model_runs"]) == {
        "tokens_in": expected.tokens_in,
        "tokens_out": expected.output_tokens,
        "cost_usd": round(Price(3.0, 15.0).cost(expected), 6),
    }
    (model_run,) = state["model_runs"]
    assert (model_run["stop"], model_run["steps"]) == ("finished", 4)
    assert model_run["cache_read_tokens"] == expected.cache_read_input_tokens > 0
    transcript = json.loads(Path(model_run["transcript"]).read_text())
    assert transcript[0]["messages"][-2]["content"][0] == {"type": "text", "text": "Fixed."}
    fix_entry = next(e for e in state["audit"] if e["node"] == "fix")
    assert fix_entry["data"]["model_runs"][0]["stop"] == "finished"
    shown = render_summary(runner.incident_status(settings, state["incident"]["id"]))
    assert f"model usage: {expected.tokens_in} tokens in, {expected.output_tokens} out" in shown


def test_a_refused_edit_is_in_the_audit_and_a_spent_budget_is_the_status(
    case: Path, settings: Settings, tmp_path: Path, serve: Any
) -> None:
    ci = {"path": ".github/workflows/ci.yml", "search": "", "replace": "on: push\n"}
    reads = [
        {"tool_use": [{"name": "read_code", "input": {"path": "billing/rates.py", "end_line": n}}]}
        for n in range(1, 5)
    ]
    refused = {"name": "propose_edit", "input": {"title": "t", "rationale": "r", "edits": [ci]}}
    serve([{"tool_use": [refused]}, *reads])
    state = _run(case, settings.model_copy(update={"claude_max_steps": 3}), tmp_path)

    assert state["status"] == "budget_exceeded"
    assert state["escalation"]["why"] == "the claude engine stopped on its budget: steps"
    fix_entry = next(e for e in state["audit"] if e["node"] == "fix")
    (reasons,) = fix_entry["data"]["refused"].values()
    assert reasons == ["The path .github/workflows/ci.yml is forbidden by the pattern .github/**."]
    assert run_usage(state["model_runs"])["tokens_in"] > 0


def test_fixloop_eval_with_claude_reports_the_servers_usage(
    case: Path, tmp_path: Path, serve: Any
) -> None:
    twin = write_rates_case(tmp_path / "more", "handwritten-rates-twin")[0]
    server = serve(FIXING)
    report = run_eval([case, twin], EvalOptions(engines=["claude"], jobs=2, workdir=tmp_path))

    results = report["cases"]
    assert [(r["status"], r["proven"], r["correct"]) for r in results] == [
        ("awaiting_review", True, True)
    ] * 2
    expected = _server_usage(server)
    summary = report["summary"]
    assert (summary["tokens_in"], summary["tokens_out"]) == (
        expected.tokens_in,
        expected.output_tokens,
    )
    assert sum(r["tokens_in"] for r in results) == expected.tokens_in
    dollars = Price(3.0, 15.0).cost(expected)
    assert sum(r["cost_usd"] for r in results) == pytest.approx(dollars, abs=2e-6)
    assert len(server.requests) == 2 * len(FIXING)


def test_with_templates_first_claude_is_not_asked_when_they_have_a_candidate(
    case: Path, tmp_path: Path, serve: Any
) -> None:
    server = serve(FIXING)
    report = run_eval([case], EvalOptions(engines=["templates", "claude"], workdir=tmp_path))
    (result,) = report["cases"]
    assert (result["proven"], result["correct"], result["tokens_in"]) == (True, True, 0)
    assert server.requests == []


def test_fixloop_eval_with_claude_and_no_api_key_fails_in_one_line(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    result = fixloop(tmp_path / "home", "eval", str(case), "--engine", "templates,claude")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "fixloop: the claude engine needs ANTHROPIC_API_KEY in the environment"
    ]


def test_fixloop_run_with_claude_and_no_api_key_fails_in_one_line_and_writes_nothing(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(case / "repo.bundle"), str(repo)], check=True)
    home = tmp_path / "home"
    event = str(case / "incident.json")
    result = fixloop(home, "run", "--repo", str(repo), "--event", event, "--engine", "claude")
    assert (result.returncode, result.stderr) == (
        2,
        "fixloop: the claude engine needs ANTHROPIC_API_KEY in the environment\n",
    )
    assert not (home / "checkpoints.db").exists()

"""The daily spend cap: once the day's model spend reaches `max_model_cost_usd_per_day`, the
next incident runs the template engine only, and its audit and ticket say why. The model is the
scripted model server, which the real anthropic SDK talks to."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import wiring
from agent.controls import overview
from agent.intake.payloads import load_event_file
from agent.service import runner
from agent.settings import Settings
from evals.model_server import ScriptedModelServer
from tests.support.eval_cases import write_rates_case
from tests.support.sandbox import FAST

pytestmark = pytest.mark.slow

USAGE = {"input_tokens": 20_000, "output_tokens": 500}
FIX = {
    "path": "billing/rates.py",
    "search": "    return total / count\n",
    "replace": "    if not count:\n        return 0\n    return total / count\n",
}
FIXING = [
    {"tool_use": [{"name": "read_code", "input": {"path": "billing/rates.py"}}], "usage": USAGE},
    {
        "tool_use": [
            {"name": "propose_edit", "input": {"title": "t", "rationale": "r", "edits": [FIX]}}
        ],
        "usage": USAGE,
    },
    {"tool_use": [{"name": "run_tests", "input": {}}], "usage": USAGE},
    {
        "text": "Fixed.",
        "tool_use": [{"name": "finish", "input": {"summary": "ok"}}],
        "usage": USAGE,
    },
]


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer({"conversations": [{"replies": FIXING}]}) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        yield server


def test_the_second_incident_of_the_day_runs_templates_only_past_the_cap(
    tmp_path: Path, model: ScriptedModelServer
) -> None:
    case = write_rates_case(tmp_path / "corpus")[0]
    settings = Settings(
        home=tmp_path / "state",
        test_timeout=120,
        pytest_args=FAST,
        test_paths=["tests"],
        engines=["claude", "templates"],
        max_model_cost_usd_per_day=0.10,
    )
    incident, payload = load_event_file(case / "incident.json")
    second = incident.model_copy(
        update={"id": "fx-secondcrash1", "fingerprint": "second-" + incident.fingerprint}
    )

    first_run = runner.run_incident(settings, _clone(case, tmp_path / "one"), incident, payload)
    first = runner.incident_state(settings, first_run["incident"])
    assert first["proven"]["engine"] == "claude"
    spent = sum(run["cost_usd"] for run in first["model_runs"])
    assert spent > 0.10
    requests = len(model.requests)

    second_run = runner.run_incident(settings, _clone(case, tmp_path / "two"), second, payload)
    state = runner.incident_state(settings, second_run["incident"])
    assert len(model.requests) == requests, "no model call past the cap"
    assert not state.get("model_runs")
    fix = next(entry for entry in state["audit"] if entry["node"] == "fix")
    why = f"today's model spend ${spent:.4f} reached max_model_cost_usd_per_day $0.1"
    assert fix["data"]["skipped"] == {"claude": why}
    assert "skipped engine claude" in fix["why"]
    assert (state.get("proven") or {}).get("engine", "templates") == "templates"
    comments = wiring.tracker(settings).comments(state["ticket"]["key"])
    assert any("model engines were skipped" in c and why in c for c in comments)

    shown = overview.render(overview.controls_view(settings))
    assert f"model spend today on all repositories: ${spent:.4f} of $0.1" in shown


def _clone(case: Path, where: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(case / "repo.bundle"), str(where)], check=True)
    return where

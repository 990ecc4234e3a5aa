"""The Claude engine's loop against the scripted model server, through the real SDK, on a real
repo with the real index and sandbox: tools, budgets, loop detection, tiers, guardrails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import wiring
from agent.domain import (
    Diagnosis,
    Evidence,
    ExceptionInfo,
    Frame,
    Incident,
    Patch,
    Reproduction,
    Suspect,
)
from agent.errors import ConfigError
from agent.repair import RepairContext, RepairJournal
from agent.repair.claude import Price
from agent.settings import Settings
from evals.model_server import ScriptedModelServer
from tests.support.eval_cases import BUG_MESSAGE, RATES_BUGGY, RATES_GUARDED
from tests.support.repo_builder import RepoBuilder
from tools.code_index import TreeSitterIndex

REPRO = "from billing.rates import per_unit\n\n\ndef test_reproduce():\n    per_unit(10, 0)\n"
FIX = {
    "path": "billing/rates.py",
    "search": "    return total / count\n",
    "replace": "    if not count:\n        return 0\n    return total / count\n",
}
PROPOSE = {"name": "propose_edit", "input": {"title": "Guard", "rationale": "r", "edits": [FIX]}}
FINISH = {"name": "finish", "input": {"summary": "done"}}
READ = {"name": "read_code", "input": {"path": "billing/rates.py", "symbol": "per_unit"}}


@pytest.fixture
def rates_repo(tmp_path: Path) -> Path:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit(
        {
            "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["."]\n',
            "billing/__init__.py": "",
            "billing/rates.py": RATES_GUARDED,
            "tests/test_rates.py": (
                "from billing.rates import per_unit\n\n\n"
                "def test_per_unit():\n    assert per_unit(10, 4) == 2.5\n"
            ),
        },
        "billing: per-unit rates",
    )
    builder.commit({"billing/rates.py": RATES_BUGGY}, BUG_MESSAGE)
    return builder.path


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")


def _context(repo_path: Path, settings: Settings, journal: RepairJournal) -> RepairContext:
    repo = wiring.open_repo(repo_path)
    settings.home.mkdir(parents=True, exist_ok=True)
    frame = Frame(
        filename="billing/rates.py",
        function="per_unit",
        lineno=3,
        in_app=True,
        vars={"total": "10", "count": "0"},
    )
    incident = Incident(
        id="fx-rates",
        source="sentry_event",
        fingerprint="f",
        title="ZeroDivisionError: division by zero",
        exceptions=[
            ExceptionInfo(type="ZeroDivisionError", value="division by zero", frames=[frame])
        ],
    )
    diagnosis = Diagnosis(
        suspects=[
            Suspect(
                file="billing/rates.py",
                symbol="per_unit",
                start_line=1,
                end_line=3,
                lines=[3],
                score=1.0,
                evidence=[Evidence(kind="frame", detail="crash at billing/rates.py:3")],
            )
        ],
        explanation="per_unit divides by count, which was 0",
        reproduction=Reproduction(
            filename="test_fixloop_repro.py",
            source=REPRO,
            nodeid="test_fixloop_repro.py::test_reproduce",
            target_file="billing/rates.py",
            target_function="per_unit",
            reproduced=True,
        ),
    )
    return RepairContext(
        incident=incident,
        diagnosis=diagnosis,
        repo=repo,
        code_index=TreeSitterIndex(repo, cache_path=settings.home / "index.db"),
        rev=repo.head(),
        journal=journal,
    )


Run = tuple[list[Patch], RepairJournal, ScriptedModelServer]


@pytest.fixture
def run_script(
    rates_repo: Path, settings: Settings, api_key: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    servers: list[ScriptedModelServer] = []

    def run(
        replies: list[dict[str, Any]] | dict[str, Any],
        journal: RepairJournal | None = None,
        **overrides: Any,
    ) -> Run:
        script = replies if isinstance(replies, dict) else {"conversations": [{"replies": replies}]}
        server = ScriptedModelServer(script).__enter__()
        servers.append(server)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        configured = settings.model_copy(update={"engines": ["claude"], **overrides})
        engine = wiring.claude_engine(configured)
        journal = journal or RepairJournal()
        patches = engine.candidates(_context(rates_repo, configured, journal))
        return patches, journal, server

    yield run
    for server in servers:
        server.__exit__()


def _results(server: ScriptedModelServer, request: int) -> list[dict[str, Any]]:
    """The tool results sent with request number `request` (0-based)."""
    content: list[dict[str, Any]] = server.requests[request]["messages"][-1]["content"]
    return content


def test_the_loop_reads_blames_proposes_tests_and_finishes(run_script: Any) -> None:
    history = {"name": "git_history", "input": {"path": "billing/rates.py", "start_line": 2}}
    run_tests = {"name": "run_tests", "input": {}}
    replies = [{"tool_use": [tool]} for tool in (READ, history, PROPOSE, run_tests, FINISH)]
    patches, journal, server = run_script(replies)

    assert [p.engine for p in patches] == ["claude"]
    assert "+    if not count:\n+        return 0\n" in patches[0].diff
    assert journal.stop == "finished"
    assert "    3|     return total / count" in _results(server, 1)[0]["content"]
    assert BUG_MESSAGE in _results(server, 2)[0]["content"]
    assert patches[0].id in _results(server, 3)[0]["content"]
    tested = _results(server, 4)[0]["content"]
    assert f"with your proposal {patches[0].id}" in tested
    assert "test_fixloop_repro.py::test_reproduce: passed" in tested
    first = server.requests[0]
    assert (
        "```untrusted-data\nZeroDivisionError: division by zero\n```"
        in first["messages"][0]["content"]
    )
    assert first["system"][1]["cache_control"] == {"type": "ephemeral"}
    assert "per_unit divides by count" in first["system"][1]["text"]
    assert {t["name"] for t in first["tools"]} == {
        "read_code",
        "search_code",
        "git_history",
        "run_tests",
        "propose_edit",
        "finish",
    }
    totals = server.totals
    assert journal.usage.model_dump() == totals
    assert totals["cache_read_input_tokens"] > 0, "the repository context was not cached"
    assert journal.cost_usd == pytest.approx(Price(3.0, 15.0).cost(journal.usage))
    assert [len(c["steps"]) for c in journal.transcript] == [5]


def test_run_tests_without_a_proposal_shows_the_reproduction_failing(run_script: Any) -> None:
    _, _, server = run_script([{"tool_use": [{"name": "run_tests", "input": {}}]}])
    tested = _results(server, 1)[0]["content"]
    assert "on the unpatched commit" in tested
    assert "test_reproduce raised ZeroDivisionError: division by zero" in tested


def test_a_malformed_tool_call_gets_an_error_result_and_the_loop_goes_on(run_script: Any) -> None:
    malformed = [
        {"name": "propose_edit", "input": {"title": "x", "edits": "all of it"}},
        {"name": "delete_repo", "input": {}},
        {"name": "search_code", "input": {"query": "per_unit", "limit": 3}},
    ]
    patches, journal, server = run_script(
        [{"tool_use": malformed}, {"tool_use": [PROPOSE]}, {"tool_use": [FINISH]}]
    )

    results = _results(server, 1)
    assert all(r["is_error"] for r in results)
    assert "malformed call of propose_edit" in results[0]["content"]
    assert "rationale: Field required" in results[0]["content"]
    assert "edits: Input should be a valid list" in results[0]["content"]
    assert "unknown tool 'delete_repo'" in results[1]["content"]
    assert "limit: Extra inputs are not permitted" in results[2]["content"]
    assert len(patches) == 1
    assert journal.stop == "finished"


def test_an_edit_whose_search_text_is_not_in_the_file_is_an_error(run_script: Any) -> None:
    wrong = {**FIX, "search": "return total // count\n"}
    proposal = {"name": "propose_edit", "input": {"title": "t", "rationale": "r", "edits": [wrong]}}
    patches, _, server = run_script([{"tool_use": [proposal]}, {"tool_use": [FINISH]}])
    assert patches == []
    assert "the search text does not occur in billing/rates.py" in _results(server, 1)[0]["content"]


def test_edits_outside_the_allowed_paths_are_refused_with_their_reasons(run_script: Any) -> None:
    weaken = {
        "path": "tests/test_rates.py",
        "search": "    assert per_unit(10, 4) == 2.5\n",
        "replace": "    pass\n",
    }
    ci = {"path": ".github/workflows/ci.yml", "search": "", "replace": "on: push\n"}
    proposals = [
        {"name": "propose_edit", "input": {"title": "t", "rationale": "r", "edits": [edit]}}
        for edit in (weaken, ci)
    ]
    patches, journal, server = run_script(
        [{"tool_use": [proposals[0]]}, {"tool_use": [proposals[1]]}, {"tool_use": [FINISH]}],
        allowed_paths=["billing/**"],
    )

    assert patches == []
    reasons = [" ".join(r) for r in journal.refused.values()]
    assert len(reasons) == 2
    assert "tests/test_rates.py matches none of the allowed paths" in reasons[0]
    assert "removes or alters the assertion" in reasons[0]
    assert "forbidden by the pattern .github/**" in reasons[1]
    for request in (1, 2):
        result = _results(server, request)[0]
        assert result["is_error"] is True
        assert result["content"].startswith("[error] refused by the guardrails")


@pytest.mark.parametrize(
    ("overrides", "journal", "stop", "calls"),
    [
        ({"claude_max_steps": 2}, None, "budget: steps", 2),
        ({"claude_max_tokens": 6000}, None, "budget: tokens", 2),
        ({"claude_max_cost_usd": 0.02}, None, "budget: dollars", 2),
        ({"claude_max_cost_usd": 0.5}, RepairJournal(earlier_cost_usd=0.5), "budget: dollars", 0),
        ({"claude_max_seconds": 0.0}, None, "budget: wall time", 0),
    ],
)
def test_budgets_end_the_run_by_name(
    run_script: Any, overrides: dict, journal: RepairJournal | None, stop: str, calls: int
) -> None:
    reads = [
        {
            "tool_use": [
                {"name": "read_code", "input": {"path": "billing/rates.py", "start_line": n}}
            ],
            "usage": {"input_tokens": 3000, "output_tokens": 200},
        }
        for n in range(1, 6)
    ]
    patches, journal, server = run_script(reads, journal, **overrides)
    assert (journal.stop, journal.budget_exhausted) == (stop, True)
    assert len(server.requests) == calls
    assert journal.usage.input_tokens == 3000 * calls
    assert patches == []


def test_the_same_call_a_third_time_ends_the_run(run_script: Any) -> None:
    _, journal, server = run_script([{"tool_use": [READ]}] * 3 + [{"tool_use": [FINISH]}])
    assert journal.stop == "loop: read_code called 3 times alike"
    assert len(server.requests) == 3
    assert journal.budget_exhausted is False
    assert len(journal.transcript[0]["messages"]) == 6, "the third call was run"


def test_an_api_that_stays_overloaded_ends_the_run_without_crashing(run_script: Any) -> None:
    patches, journal, server = run_script([{"error": 529, "times": 9}], claude_max_retries=1)
    assert patches == []
    assert journal.stop.startswith("model error: model API answered 529")
    assert len(server.requests) == 2


def test_the_next_tier_starts_when_the_first_ends_without_a_proposal(run_script: Any) -> None:
    script = {
        "conversations": [
            {"model": "claude-haiku-4-5", "replies": [{"text": "I see no bug."}]},
            {
                "model": "claude-sonnet-4-6",
                "replies": [{"tool_use": [PROPOSE]}, {"tool_use": [FINISH]}],
            },
        ]
    }
    patches, journal, server = run_script(
        script, claude_models=["claude-haiku-4-5", "claude-sonnet-4-6"]
    )
    assert [r["model"] for r in server.requests] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-sonnet-4-6",
    ]
    assert [c["model"] for c in journal.transcript] == ["claude-haiku-4-5", "claude-sonnet-4-6"]
    assert len(patches) == 1
    haiku = Price(1.0, 5.0).cost(_usage(journal.transcript[0]))
    sonnet = Price(3.0, 15.0).cost(_usage(journal.transcript[1]))
    assert journal.cost_usd == pytest.approx(haiku + sonnet)


def _usage(conversation: dict[str, Any]) -> Any:
    from agent.domain import ModelUsage

    total = ModelUsage()
    for step in conversation["steps"]:
        total += ModelUsage.model_validate(step["usage"])
    return total


def test_without_an_api_key_the_engine_is_a_config_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"^the claude engine needs ANTHROPIC_API_KEY"):
        wiring.engines(settings.model_copy(update={"engines": ["templates", "claude"]}))


def test_a_model_without_a_price_is_a_config_error(settings: Settings, api_key: None) -> None:
    unpriced = settings.model_copy(update={"claude_models": ["claude-next"]})
    with pytest.raises(ConfigError, match="claude-next"):
        wiring.claude_engine(unpriced)


def test_git_refusing_a_tool_is_an_error_result_for_the_model(run_script: Any) -> None:
    bad = {"name": "git_history", "input": {"path": "billing/rates.py", "commit": "no-such-sha"}}
    search = {"name": "search_code", "input": {"query": "PER_UNIT"}}
    _, journal, server = run_script([{"tool_use": [bad, search]}])
    refused, found = _results(server, 1)
    assert refused["is_error"] is True
    assert refused["content"] == "[error] unknown revision: no-such-sha^"
    assert "billing/rates.py:1-3 function per_unit" in found["content"]
    assert "tests/test_rates.py:1: from billing.rates import per_unit" in found["content"]
    assert journal.stop == "end_turn"

"""Each node on its own: real adapters from the composition root, state passed by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from agent import wiring
from agent.deps import Deps
from agent.domain import FileChange, Patch
from agent.intake.payloads import parse_payload
from agent.nodes.close import close
from agent.nodes.detect import detect
from agent.nodes.escalate import escalate
from agent.nodes.fix import fix
from agent.nodes.open_pr import open_pr
from agent.nodes.reject import reject
from agent.nodes.root_cause import root_cause
from agent.nodes.test import prove_candidates
from agent.nodes.ticket import ticket
from agent.nodes.verify import verify
from agent.repair import RepairContext
from agent.repair.diffs import make_patch
from agent.settings import Settings
from tests.support.payloads import fixture_payload

pytestmark = pytest.mark.slow


def _deps(settings: Settings, repo: Path, incident_id: str) -> Runtime[Deps]:
    return Runtime(context=wiring.build_deps(settings, repo, incident_id))


def _apply(state: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = {**state, **update}
    for key in ("audit", "reports"):
        merged[key] = state.get(key, []) + update.get(key, [])
    return merged


@pytest.fixture
def start(settings: Settings, demo_repo: Path) -> tuple[dict[str, Any], Runtime[Deps]]:
    incident = parse_payload(fixture_payload("sentry_api_event.json"))
    state = {"incident": incident.model_dump(mode="json"), "repo": str(demo_repo), "round": 0}
    return state, _deps(settings, demo_repo, incident.id)


def test_detect_finds_the_frames_in_the_repo(start: tuple[dict[str, Any], Runtime[Deps]]) -> None:
    state, runtime = start
    update = detect(state, runtime)  # type: ignore[arg-type]
    assert update["status"] == "running"
    assert update["base_commit"] == runtime.context.repo.head("main")
    assert update["audit"][0]["data"]["files"] == [
        "app/handlers.py",
        "app/reports.py",
        "app/web.py",
    ]


def test_ticket_is_idempotent(start: tuple[dict[str, Any], Runtime[Deps]]) -> None:
    state, runtime = start
    first = ticket(state, runtime)  # type: ignore[arg-type]
    second = ticket(state, runtime)  # type: ignore[arg-type]
    assert first["ticket"] == second["ticket"]
    assert "untrusted-data" in first["ticket"]["body"]


def test_a_rebuilt_test_failing_for_another_reason_is_dropped(
    settings: Settings, demo_repo: Path
) -> None:
    payload = fixture_payload("sentry_api_event.json")
    for entry in payload["entries"]:
        for value in entry["data"].get("values", []) if entry["type"] == "exception" else []:
            crash = value["stacktrace"]["frames"][-1]
            crash["vars"] = {"orders": [{"cents": 1250}], "total": "1250"}
            # Without the caller's values no test can be derived through merchant_summary.
            value["stacktrace"]["frames"][-2]["vars"] = {}
    incident = parse_payload(payload)
    state: dict[str, Any] = {"incident": incident.model_dump(mode="json"), "repo": str(demo_repo)}
    runtime = _deps(settings, demo_repo, incident.id)
    for node in (detect, ticket, root_cause):
        state = _apply(state, node(state, runtime))  # type: ignore[operator]
    assert state["diagnosis"]["reproduction"] is None
    assert state["must_fix"] == []
    why = state["audit"][-1]["why"]
    assert why.startswith(
        "the rebuilt test was dropped (fails with KeyError, not ZeroDivisionError); "
        "other ways that did not fail like the incident: tests/test_fixloop_derived_"
    )
    assert why.endswith(
        "no test fails like the incident, so no fix can be proven (a suggestion at most)"
    )
    # Nothing failed before the change: a candidate that breaks nothing is only a suggestion.
    for node in (fix, prove_candidates):
        state = _apply(state, node(state, runtime))  # type: ignore[operator]
    assert state["proven"] is None
    assert any(r["held"] and not r["proven"] for r in state["reports"])
    assert state["suggestion"]["id"] in {r["candidate_id"] for r in state["reports"]}
    state = _apply(state, escalate(state, runtime))  # type: ignore[arg-type]
    assert state["status"] == "escalated"
    assert "a pull request needs a test that failed before the change" in state["audit"][-1]["why"]
    assert state["audit"][-1]["data"]["suggestion"] == state["suggestion"]["id"]
    escalation = runtime.context.tracker.comments(state["ticket"]["key"])[-1]
    assert "### Suggested change: unproven" in escalation
    assert state["suggestion"]["diff"] in escalation


def test_the_loop_node_by_node(start: tuple[dict[str, Any], Runtime[Deps]]) -> None:
    state, runtime = start
    for node in (detect, ticket, root_cause):
        state = _apply(state, node(state, runtime))  # type: ignore[operator]
    assert state["must_fix"] == [state["diagnosis"]["reproduction"]["nodeid"]]
    assert state["baseline"]["must_fail"]["outcomes"] == {state["must_fix"][0]: "failed"}
    assert runtime.context.tracker.comments(state["ticket"]["key"])[0].startswith("## Diagnosis")
    # The reproduction failed like the incident, so the suite ran under coverage and Ochiai
    # (the reproduction as the failing test) joined the stack in the ranking.
    assert state["audit"][-1]["data"]["ochiai"]["failing"] == 1
    top = state["diagnosis"]["suspects"][0]
    assert "coverage" in [e["kind"] for e in top["evidence"]]
    assert "coverage" not in state["baseline"]["suite"]

    state = _apply(state, fix(state, runtime))  # type: ignore[arg-type]
    assert state["round"] == 1
    assert state["candidates"][0]["title"] == "Guard division by zero in average_basket"
    assert set(state["tried"]) == {c["id"] for c in state["candidates"]}

    state = _apply(state, prove_candidates(state, runtime))  # type: ignore[arg-type]
    assert state["proven"]["id"] == state["candidates"][0]["id"]
    jobs = runtime.context.settings.validation_jobs
    assert state["reports"][0]["candidate_id"] == state["proven"]["id"]
    assert len(state["reports"]) <= jobs < len(state["candidates"]), "testing stops early"

    opened = open_pr(state, runtime)  # type: ignore[arg-type]
    again = open_pr(state, runtime)  # type: ignore[arg-type]
    assert opened["pr"]["id"] == again["pr"]["id"]
    assert opened["pr"]["head_sha"] == again["pr"]["head_sha"]
    assert f"| `{state['must_fix'][0]}` | failed | passed |" in opened["pr"]["body"]
    state = _apply(state, opened)

    not_merged = verify(state, runtime)  # type: ignore[arg-type]
    assert not_merged["verification"]["verified"] is False
    assert "not merged" in not_merged["verification"]["summary"]

    runtime.context.forge.merge(state["pr"]["id"], "ok")
    state = _apply(state, verify(state, runtime))  # type: ignore[arg-type]
    assert state["verification"]["verified"] is True
    state = _apply(state, close(state, runtime))  # type: ignore[arg-type]
    assert state["status"] == "closed"
    assert runtime.context.tracker.get(state["ticket"]["key"]).status == "closed"


def test_guardrails_refuse_candidates_before_testing(
    settings: Settings, demo_repo: Path, start: tuple[dict[str, Any], Runtime[Deps]]
) -> None:
    state, _ = start
    strict = settings.model_copy(update={"forbidden_paths": ["app/**"]})
    runtime = _deps(strict, demo_repo, state["incident"]["id"])
    for node in (detect, ticket, root_cause, fix):
        state = _apply(state, node(state, runtime))  # type: ignore[operator]
    assert state["candidates"] == []
    refused = state["audit"][-1]["data"]["refused"]
    assert refused and all(
        r[0].endswith("forbidden by the pattern app/**.") for r in refused.values()
    )
    assert any("app/reports.py" in r[0] for r in refused.values())
    state = _apply(state, escalate(state, runtime))  # type: ignore[arg-type]
    assert state["status"] == "no_fix_found"


class _ProposesDeniedChanges:
    """An engine whose candidates each break one guardrail."""

    name = "denied"

    def candidates(self, ctx: RepairContext) -> list[Patch]:
        source = ctx.repo.read(ctx.rev, "app/reports.py") or ""
        files = [FileChange(path=f"app/new_{n}.py", before="", after="x = 1\n") for n in range(4)]
        return [
            make_patch(
                "denied",
                "new dependency",
                "",
                [FileChange(path="app/reports.py", before=source, after="import numpy\n" + source)],
            ),
            make_patch("denied", "four files", "", files),
            make_patch(
                "denied",
                "ci",
                "",
                [FileChange(path=".github/workflows/ci.yml", before="", after="on: push\n")],
            ),
        ]


def test_each_denied_change_is_refused_with_its_reason_in_the_audit(
    start: tuple[dict[str, Any], Runtime[Deps]],
) -> None:
    state, runtime = start
    for node in (detect, ticket, root_cause):
        state = _apply(state, node(state, runtime))  # type: ignore[operator]
    denied = Runtime(context=replace(runtime.context, engines=(_ProposesDeniedChanges(),)))
    state = _apply(state, fix(state, denied))  # type: ignore[arg-type]
    assert state["candidates"] == []
    entry = state["audit"][-1]
    assert entry["decided"] == "0 candidates to test, 3 refused by guardrails"
    reasons = sorted(r for rs in entry["data"]["refused"].values() for r in rs)
    assert reasons == [
        "The change to app/reports.py adds the dependency numpy.",
        "The change touches 4 files, more than the limit of 3.",
        "The path .github/workflows/ci.yml is forbidden by the pattern .github/**.",
    ]


def test_reject_records_the_reason_on_the_ticket(
    start: tuple[dict[str, Any], Runtime[Deps]],
) -> None:
    state, runtime = start
    state = _apply(state, ticket(state, runtime))  # type: ignore[arg-type]
    state |= {"pr": {"id": 3, "branch": "fixloop/x", "base": "main", "title": "t", "body": "b"}}
    state |= {"review": {"action": "reject", "comment": "wrong layer"}}
    update = reject(state, runtime)  # type: ignore[arg-type]
    assert update["status"] == "rejected"
    comments = runtime.context.tracker.comments(state["ticket"]["key"])
    assert comments == ["PR #3 was rejected by the reviewer: wrong layer"]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({"verification": {"verified": False, "summary": "2 new events"}}, "regressed"),
        ({"diagnosis": {"suspects": []}}, "escalated"),
        ({"diagnosis": {"suspects": [{"file": "a.py"}]}, "reports": []}, "no_fix_found"),
    ],
)
def test_escalation_names_its_status(
    start: tuple[dict[str, Any], Runtime[Deps]], state: dict[str, Any], status: str
) -> None:
    base, runtime = start
    base = _apply(base, ticket(base, runtime))  # type: ignore[arg-type]
    update = escalate(base | state, runtime)  # type: ignore[arg-type]
    assert update["status"] == status
    ticket_now = runtime.context.tracker.get(base["ticket"]["key"])
    assert ticket_now.status == ("reopened" if status == "regressed" else "open")

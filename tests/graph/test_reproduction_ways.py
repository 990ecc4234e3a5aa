"""Root cause tries the other ways of building a reproduction when the first does not fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.nodes.detect import detect
from agent.nodes.root_cause import root_cause
from agent.nodes.ticket import ticket
from agent.settings import Settings
from tests.support.objects_library import DB, SETUP, SUITE, TABLES
from tests.support.payloads import fixture_payload
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tests.support.sentry_events import sentry_event

pytestmark = pytest.mark.slow


def test_a_later_way_that_fails_like_the_incident_becomes_the_must_fix_test(
    tmp_path: Path,
) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    files = {
        "lib/__init__.py": "",
        "lib/tables.py": TABLES,
        "lib/db.py": DB,
        "tests/test_lib.py": SUITE,
    }
    builder.commit(files, "tables")
    incident = parse_payload(sentry_event(builder.path, SETUP, "Table('orders').column_type('id')"))
    settings = Settings(home=tmp_path / "state", pytest_args=FAST, test_timeout=120)
    runtime = Runtime(context=wiring.build_deps(settings, builder.path, incident.id))
    state: dict[str, Any] = {
        "incident": incident.model_dump(mode="json"),
        "repo": str(builder.path),
    }
    for node in (detect, ticket, root_cause):
        update = node(state, runtime)  # type: ignore[operator]
        state = {**state, **update, "audit": state.get("audit", []) + update.get("audit", [])}

    reproduction = state["diagnosis"]["reproduction"]
    assert reproduction is not None and reproduction["reproduced"]
    assert "Table('empty').column_type(column='id')" in reproduction["source"]
    assert "(a guess at the incident's objects)" in reproduction["built_from"]
    assert state["must_fix"] == [reproduction["nodeid"]]
    assert state["baseline"]["must_fail"]["outcomes"][reproduction["nodeid"]] == "failed"


def test_a_test_derived_through_the_caller_becomes_the_must_fix_test(
    settings: Settings, demo_repo: Path
) -> None:
    # The crashing frame's values rebuild into a call that fails with KeyError, not the
    # incident's ZeroDivisionError; its caller's merchant_id is whole, and a test calls it.
    payload = fixture_payload("sentry_api_event.json")
    for entry in payload["entries"]:
        for value in entry["data"].get("values", []) if entry["type"] == "exception" else []:
            value["stacktrace"]["frames"][-1]["vars"] = {"orders": [{"cents": 1250}]}
    incident = parse_payload(payload)
    runtime = Runtime(context=wiring.build_deps(settings, demo_repo, incident.id))
    state: dict[str, Any] = {"incident": incident.model_dump(mode="json"), "repo": str(demo_repo)}
    for node in (detect, ticket, root_cause):
        update = node(state, runtime)  # type: ignore[operator]
        state = {**state, **update, "audit": state.get("audit", []) + update.get("audit", [])}

    reproduction = state["diagnosis"]["reproduction"]
    assert reproduction["reproduced"] and reproduction["way"] == "derived_test"
    assert reproduction["target_function"] == "merchant_summary"
    assert reproduction["filename"].startswith("tests/test_fixloop_derived_")
    assert "merchant_summary(merchant_id='m-404')" in reproduction["source"]
    assert state["must_fix"] == [reproduction["nodeid"]]
    data = state["audit"][-1]["data"]
    assert data["reproduced_by"] == "derived_test"
    assert data["reproduction_attempts"][0]["way"] == "frame"
    assert not data["reproduction_attempts"][0]["reproduced"]

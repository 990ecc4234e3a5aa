"""Runs as their checkpoints hold them: `fixloop status` shows them without asking the tracker or
the forge, and what an older version stored still reads."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from agent.diagnosis.report import diagnosis_view
from agent.domain import (
    CommitRef,
    Diagnosis,
    Evidence,
    PullRequest,
    Suspect,
    Ticket,
)
from agent.service import runner
from agent.settings import Settings
from agent.state import State, run_usage
from tests.support.cli import fixloop
from tests.support.stored_runs import INCIDENT, MODEL_RUNS, store_run, stored_values


class OlderState(State, total=False):
    """The state of a version that stored the run's usage beside its model runs."""

    usage: dict[str, Any]


def test_a_checkpoint_that_still_holds_usage_reads_without_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "state")
    stale = {"tokens_in": 1, "tokens_out": 1, "cost_usd": 9.99}
    store_run(settings, stored_values(usage=stale), OlderState)

    state = runner.incident_state(settings, INCIDENT.id)
    summary = runner.incident_status(settings, INCIDENT.id)

    assert "usage" not in state
    assert state["model_runs"] == MODEL_RUNS
    assert summary["status"] == "no_fix_found"
    assert summary["usage"] == run_usage(MODEL_RUNS)
    assert summary["usage"] == {"tokens_in": 2100, "tokens_out": 120, "cost_usd": 0.00811}


def test_usage_is_the_sum_of_the_model_runs() -> None:
    assert run_usage([]) == {"tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
    assert isinstance(run_usage([])["cost_usd"], float), "a cost is a float in every record"
    tiny = {"tokens_in": 1, "tokens_out": 1, "cost_usd": 0.0000004}
    assert run_usage([tiny] * 3)["cost_usd"] == 0.000001, "rounded to six places once"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _awaiting_review() -> dict[str, Any]:
    """A run that opened PR #3 and moved ticket OPS-7 to review."""
    ticket = Ticket(
        key="OPS-7",
        fingerprint=INCIDENT.fingerprint,
        incident_id=INCIDENT.id,
        title=INCIDENT.title,
        status="in_review",
        url="https://jira.example/browse/OPS-7",
    )
    pr = PullRequest(
        id=3,
        branch=f"fixloop/{INCIDENT.id}",
        base="main",
        title="fix: guard the empty basket",
        body="",
        diff="+    if not orders:\n",
        head_sha="c0ffee" * 6 + "beef",
    )
    diagnosis = Diagnosis(
        suspects=[
            Suspect(
                file="app/reports.py",
                symbol="average_basket",
                start_line=4,
                end_line=6,
                lines=[6],
                score=0.91,
                evidence=[Evidence(kind="frame", detail="crash frame app/reports.py:6")],
            )
        ],
        suspect_commit=CommitRef(
            sha="ab" * 20,
            summary="reports: simplify average_basket",
            author="Ana",
            date="2026-11-20T10:00:00Z",
        ),
        explanation="average_basket divides by the number of orders, which may be zero.",
        confidence=0.8,
    )
    return stored_values(
        status="awaiting_review",
        ticket=ticket.model_dump(mode="json"),
        pr=pr.model_dump(mode="json"),
        diagnosis=diagnosis.model_dump(mode="json"),
    )


def test_status_answers_from_the_stored_run_and_asks_no_tracker_or_forge(
    tmp_path: Path, database_url: str | None
) -> None:
    home = tmp_path / "state"
    stored = _awaiting_review()
    store_run(Settings(home=home, database_url=database_url), stored)
    nobody = f"http://127.0.0.1:{_closed_port()}"
    (tmp_path / "fixloop.toml").write_text(
        f'tracker = "jira"\njira_url = "{nobody}"\njira_project = "OPS"\njira_token = "t"\n'
        f'forge = "github"\ngithub_repo = "acme/shop"\ngithub_token = "t"\n'
        f'github_api_url = "{nobody}"\n'
    )

    shown = fixloop(home, "status", INCIDENT.id, "--json", cwd=tmp_path, database_url=database_url)
    text = fixloop(home, "status", INCIDENT.id, cwd=tmp_path, database_url=database_url)
    listed = fixloop(home, "status", cwd=tmp_path, database_url=database_url)

    assert (shown.returncode, text.returncode, listed.returncode) == (0, 0, 0), shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["status"] == "awaiting_review"
    assert summary["ticket"] == {
        "key": "OPS-7",
        "status": "in_review",
        "resolution": None,
        "url": "https://jira.example/browse/OPS-7",
    }
    assert (summary["pr"]["id"], summary["pr"]["status"]) == (3, "open")
    diagnosis = Diagnosis.model_validate(stored["diagnosis"])
    assert summary["diagnosis"] == diagnosis_view(diagnosis, top=5), "the view diagnose prints"
    assert summary["review_command"] == "fixloop review 3 --merge"
    assert "ticket: OPS-7 (in_review)" in text.stdout
    assert f"pull request: #3 on fixloop/{INCIDENT.id} (open)" in text.stdout
    assert "model usage: 2100 tokens in, 120 out, $0.0081" in text.stdout
    assert f"{INCIDENT.id}  awaiting_review  PR #3" in listed.stdout


def test_runs_are_listed_oldest_first(store_settings: Settings) -> None:
    assert runner.list_incidents(store_settings) == []
    for number in (3, 1, 2):
        incident = INCIDENT.model_copy(update={"id": f"fx-{number}", "title": f"bug {number}"})
        store_run(store_settings, stored_values(incident=incident.model_dump(mode="json")))

    listed = runner.list_incidents(store_settings)

    assert [run["incident"] for run in listed] == ["fx-3", "fx-1", "fx-2"]
    assert {run["status"] for run in listed} == {"no_fix_found"}
    assert runner.waiting_for_release(store_settings) == []

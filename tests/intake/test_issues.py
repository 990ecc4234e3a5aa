"""GitHub `issues` events read into incidents: which start a run, which are fixloop's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import IntakeError
from agent.intake.issues import TICKET_MARKER, IssueEvent, github_issue
from agent.intake.payloads import load_event_file
from tests.support import signed

REPO = "acme/shop"


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A traceback as Python printed it, from a crash run here."""
    where = tmp_path_factory.mktemp("calc")
    (where / "calc.py").write_text("def ratio(a, b):\n    return a / b\n")
    run = [sys.executable, "-c", "import calc; calc.ratio(1, 0)"]
    done = subprocess.run(run, cwd=where, capture_output=True, text=True, check=False)
    assert "ZeroDivisionError" in done.stderr
    return done.stderr


def report(traceback: str) -> str:
    """An issue body as reporters write one: prose, a fenced traceback, an environment list."""
    return (
        "Calling `ratio` with zero crashes:\n\n"
        f"<details><summary>Traceback</summary>\n\n```python-traceback\n{traceback}```\n\n"
        "</details>\n\n**Environment**\n- calc 1.2\n- Python 3.12\n"
    )


def event(body: str, **kwargs: object) -> IssueEvent:
    return github_issue(signed.issue(REPO, 7, body, **kwargs))  # type: ignore[arg-type]


def test_a_fenced_traceback_in_an_issue_is_the_incident(crash: str) -> None:
    incident = event(report(crash)).as_incident()

    [exception] = incident.exceptions
    assert (exception.type, exception.value) == ("ZeroDivisionError", "division by zero")
    assert [frame.function for frame in exception.frames] == ["<module>", "ratio"]
    assert exception.frames[-1].context_line == "return a / b"
    assert incident.github_issue == (REPO, 7)
    assert incident.project == REPO


def test_one_issue_is_one_incident_and_one_body_one_delivery(crash: str) -> None:
    opened = event(report(crash))
    labelled = event(report(crash), action="labeled", label="fixloop:fix")
    edited = event(report(crash) + "\nAlso on 1.3.\n", action="labeled", label="fixloop:fix")

    assert opened.content_key == labelled.content_key != edited.content_key
    assert opened.as_incident().id == edited.as_incident().id
    other = github_issue(signed.issue(REPO, 8, report(crash)))
    assert other.as_incident().id != opened.as_incident().id


@pytest.mark.parametrize(
    ("kwargs", "trigger", "reason"),
    [
        ({}, "label", "without the trigger label"),
        ({"action": "labeled", "label": "bug"}, "label", "is not the trigger label"),
        ({"action": "labeled", "label": "fixloop:fix"}, "off", "issue_trigger = 'off'"),
        ({"action": "closed"}, "opened", "only 'opened' and 'labeled'"),
        ({"author": "FixLoop-Bot"}, "opened", "opened by fixloop"),
    ],
)
def test_events_that_start_nothing_say_why(
    crash: str, kwargs: dict[str, object], trigger: str, reason: str
) -> None:
    why = event(report(crash), **kwargs).ignored(trigger, "fixloop:fix", "fixloop-bot")  # type: ignore[arg-type]
    assert why is not None and reason in why


@pytest.mark.parametrize(
    ("kwargs", "trigger"),
    [
        ({}, "opened"),
        ({"labels": ("fixloop:fix",)}, "label"),
        ({"action": "labeled", "label": "fixloop:fix"}, "label"),
    ],
)
def test_issues_that_start_a_run(crash: str, kwargs: dict[str, object], trigger: str) -> None:
    assert event(report(crash), **kwargs).ignored(trigger, "fixloop:fix", None) is None  # type: ignore[arg-type]


def test_fixloops_own_ticket_is_known_by_its_marker_whoever_opened_it(crash: str) -> None:
    ticket = f"{report(crash)}\n\n{TICKET_MARKER} {'0' * 64} -->"
    why = event(ticket, action="labeled", label="fixloop:fix").ignored(
        "opened", "fixloop:fix", None
    )
    assert why is not None and "opened by fixloop" in why


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p.pop("issue"), "no 'issue' object"),
        (lambda p: p.pop("repository"), "repository.full_name"),
        (lambda p: p["issue"].update(number="7"), "issue.number"),
        (lambda p: p["issue"].update(body=["x"]), "issue.body"),
        (lambda p: p["issue"].update(labels="bug"), "issue.labels"),
        (lambda p: p.update(action=None), "'action'"),
    ],
)
def test_malformed_events_are_refused_with_the_reason(mutate: object, reason: str) -> None:
    payload = signed.issue(REPO, 7, "text")
    mutate(payload)  # type: ignore[operator]
    with pytest.raises(IntakeError, match=reason):
        github_issue(payload)


def test_an_issue_without_a_traceback_is_no_incident() -> None:
    with pytest.raises(IntakeError, match="no Python traceback"):
        event("The button is the wrong colour.").as_incident()


def test_the_same_text_saved_as_markdown_is_read_offline(crash: str, tmp_path: Path) -> None:
    path = tmp_path / "issue.md"
    path.write_text(report(crash))

    incident, payload = load_event_file(path)

    assert payload["kind"] == "traceback"
    assert incident.crash is not None and incident.crash.value == "division by zero"
    assert incident.exceptions == event(report(crash)).as_incident().exceptions


def test_an_issue_naming_failing_tests_is_a_failing_test_incident() -> None:
    summary = "FAILED tests/test_calc.py::test_ratio - ZeroDivisionError: division by zero\n"
    reported = event(f"CI is red:\n\n```\n{summary}1 failed, 3 passed in 0.12s\n```\n")

    incident = reported.as_incident()

    assert reported.as_payload()["kind"] == "test_failure"
    assert incident.failing_tests == ["tests/test_calc.py::test_ratio"]
    assert incident.github_issue == (REPO, 7)

"""Hostile incident fields render as text in every Markdown body fixloop writes.

The bodies are parsed by a CommonMark renderer (markdown-it-py): no link, image or raw HTML may
come from an incident field, no `@mention` may stand outside code, and the diff and the evidence
always show, whatever the fields try to close or hide.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from agent.domain import (
    Diagnosis,
    ExceptionInfo,
    FileChange,
    Frame,
    Incident,
    Patch,
    Reproduction,
    Ticket,
)
from agent.domain import TestOutcome as Outcome
from agent.domain import TestReport as Report
from agent.prompting import md_code, md_fence, render
from agent.repair.diffs import make_patch
from tests.support.markdown import HOSTILE, problems, walk


def hostile_incident(field: str) -> Incident:
    frame = Frame(
        filename=f"app/{field}.py", function=field, lineno=3, in_app=True, vars={"x": field}
    )
    return Incident(
        id="fx-1",
        source="sentry_event",
        fingerprint="fp",
        title=field,
        event_id=field,
        project=field,
        release=field,
        environment=field,
        exceptions=[ExceptionInfo(type="ValueError", value=field, frames=[frame])],
        failing_tests=[f"tests/test_a.py::test_{field}"],
    )


def parts(field: str) -> tuple[Patch, Diagnosis, Report]:
    change = FileChange(path="app/price.py", before="a = 1\n", after="a = 2\n")
    patch = make_patch("templates", "Change a", "Because a must be 2.", [change], rank=1)
    repro = Reproduction(
        filename="test_repro.py",
        source=f"def test_it():\n    value = {field!r}\n    assert False\n",
        nodeid=f"test_repro.py::test_{field}",
        target_file="app/price.py",
        target_function="price",
        reproduced=True,
    )
    diagnosis = Diagnosis(explanation="The divisor can be zero.", reproduction=repro)
    report = Report(
        candidate_id=patch.id,
        proven=True,
        reason="ok",
        reproduction_before="failed",
        reproduction_after="passed",
        baseline_passed=10,
        passed_after=11,
        sandbox="bwrap",
        flaky=[f"tests/test_b.py::test_{field}"],
        must_fix={
            f"tests/test_a.py::test_{field}": Outcome(before="failed", after="passed"),
            repro.nodeid: Outcome(before="failed", after="passed"),
        },
    )
    return patch, diagnosis, report


def bodies(field: str) -> dict[str, str]:
    incident = hostile_incident(field)
    patch, diagnosis, report = parts(field)
    ticket = Ticket(key="FIX-3", fingerprint="fp", incident_id="fx-1", title="t")
    must_fix = [f"tests/test_a.py::test_{field}"]
    return {
        "pr": render(
            "pr_body.j2",
            incident=incident,
            ticket=ticket,
            diagnosis=diagnosis,
            patch=patch,
            report=report,
            must_fix=must_fix,
            failing_before=list(report.must_fix),
            candidates=2,
            not_proven=1,
        ),
        "ticket": render("ticket.md.j2", incident=incident, repo="/repo"),
        "diagnosis": render(
            "ticket_diagnosis.md.j2",
            diagnosis=diagnosis,
            must_fix={test: outcome.before for test, outcome in report.must_fix.items()},
        ),
    }


@pytest.mark.parametrize("field", HOSTILE)
def test_hostile_fields_render_as_text(field: str) -> None:
    for name, text in bodies(field).items():
        assert problems(text) == [], name


@pytest.mark.parametrize("field", HOSTILE)
def test_the_diff_and_the_evidence_always_show(field: str) -> None:
    text = bodies(field)["pr"]
    patch, _, _ = parts(field)
    tokens = list(walk(MarkdownIt("commonmark").enable("table").parse(text)))
    fences = {token.info: token.content for token, _ in tokens if token.type == "fence"}
    assert fences["diff"] == patch.diff.rstrip("\n") + "\n"
    assert f"value = {field!r}" in fences["python"]
    headings = [
        tokens[i + 1][0].content for i, (t, _) in enumerate(tokens) if t.type == "heading_open"
    ]
    assert {"What broke", "Why", "Evidence", "What to check"} <= set(headings)
    shown = [token.content for token, _ in tokens if token.type in {"text", "code_inline"}]
    assert any("tests passed before" in piece for piece in shown)


def test_a_value_that_is_a_vulnerable_field_by_itself_stays_one_code_span() -> None:
    for field in HOSTILE:
        tokens = list(walk(MarkdownIt("commonmark").enable("table").parse(f"x {md_code(field)} y")))
        spans = [token.content for token, _ in tokens if token.type == "code_inline"]
        assert spans == [" ".join(field.split("\n")).strip()]


def test_a_fence_no_line_of_its_content_can_close() -> None:
    content = "a\n````\n```\nb"
    tokens = MarkdownIt("commonmark").enable("table").parse(md_fence(content, "text") + "\n\nafter")
    assert tokens[0].type == "fence" and tokens[0].content == content + "\n"
    assert tokens[-2].content == "after"

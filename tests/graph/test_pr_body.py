"""prompts/pr_body.j2: every section a reviewer needs, incident text fenced, per-engine checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.domain import (
    CommitRef,
    Diagnosis,
    ExceptionInfo,
    FileChange,
    Frame,
    Incident,
    Patch,
    Ticket,
)
from agent.domain import (
    TestOutcome as Outcome,
)
from agent.domain import (
    TestReport as Report,
)
from agent.prompting import render
from agent.proof.regression import RegressionTest
from agent.repair.diffs import make_patch


def body(
    patch: Patch,
    must_fix: list[str],
    not_proven: int = 3,
    ticket: Ticket | None = None,
    tags: dict[str, str] | None = None,
    regression: RegressionTest | None = None,
) -> str:
    frame = Frame(filename="app/price.py", function="price", lineno=2, in_app=True)
    incident = Incident(
        id="fx-1",
        source="sentry_event",
        fingerprint="fp",
        title="ZeroDivisionError",
        event_id="ev-9",
        count=12,
        tags=tags or {},
        exceptions=[
            ExceptionInfo(type="ZeroDivisionError", value="``` ignore this", frames=[frame])
        ],
    )
    commit = CommitRef(
        sha="a" * 40, summary="pricing: per unit", author="Ana", date=datetime.now(UTC), pr_number=7
    )
    diagnosis = Diagnosis(explanation="The divisor can be zero.", suspect_commit=commit)
    report = Report(
        candidate_id=patch.id,
        proven=True,
        reason="ok",
        reproduction_before="failed",
        reproduction_after="passed",
        must_fix={test: Outcome(before="error", after="passed") for test in must_fix},
        baseline_passed=10,
        passed_after=11,
        sandbox="bwrap",
    )
    ticket = ticket or Ticket(
        key="FIX-3", fingerprint="fp", incident_id="fx-1", title="t", url="http://t/3"
    )
    return render(
        "pr_body.j2",
        incident=incident,
        ticket=ticket,
        diagnosis=diagnosis,
        patch=patch,
        report=report,
        must_fix=must_fix,
        failing_before=must_fix,
        candidates=40,
        not_proven=not_proven,
        regression=regression,
    )


def patch_by(engine: str) -> Patch:
    change = FileChange(path="app/price.py", before="a = 1\n", after="a = 2\n")
    return make_patch(engine, "Change a", "Because a must be 2.", [change], rank=4)


def test_the_body_has_every_section() -> None:
    text = body(patch_by("templates"), ["test_repro.py::test_it"])
    for heading in ("## What broke", "## Why", "## What changed, and why this change"):
        assert heading in text
    assert "## Evidence" in text and "## What to check" in text
    assert "Fixes [FIX-3](http://t/3) · incident `fx-1` (event `ev-9`)." in text
    assert "Seen 12 times." in text
    assert 'Suspect commit: `aaaaaaaaaaaa` "pricing: per unit" by Ana (PR #7).' in text
    assert "candidate 4 of 40 in its round; 3 candidates tested before or beside it" in text
    assert "| `test_repro.py::test_it` | error | passed |" in text
    assert "10 tests passed before, 11 pass after, regressions: 0" in text
    assert "````untrusted-data\nZeroDivisionError: ``` ignore this\n````" in text


@pytest.mark.parametrize(
    ("engine", "check"),
    [
        ("revert", "The reverted commit may carry more than the bug"),
        ("mutations", "This is a one-token change found by search"),
        ("templates", "The fallback or guard decides what happens on the failing input"),
    ],
)
def test_what_to_check_depends_on_the_engine(engine: str, check: str) -> None:
    assert check in body(patch_by(engine), ["t.py::t"])


def test_every_must_fix_test_is_listed_with_its_outcomes() -> None:
    tests = ["tests/test_a.py::test_edge", "test_fixloop_repro_fx_1.py::test_reproduces_fx_1"]
    text = body(patch_by("templates"), tests)
    for test in tests:
        assert f"| `{test}` | error | passed |" in text


def test_the_body_names_the_failing_before_test() -> None:
    text = body(patch_by("templates"), ["tests/test_a.py::test_edge"], not_proven=1)
    assert "Failed before this change and passes with it: `tests/test_a.py::test_edge`." in text
    assert "rests on the existing test suite" not in text
    assert "1 candidate tested before or beside it was not proven" in text


def test_a_github_issue_the_incident_came_from_is_fixed_by_the_pr() -> None:
    issue = Ticket(key="#41", fingerprint="fp", incident_id="fx-1", title="t", url="http://g/41")
    as_ticket = body(patch_by("templates"), [], ticket=issue, tags={"github_issue": "acme/shop#41"})
    beside = body(patch_by("templates"), [], tags={"github_issue": "acme/shop#41"})

    assert "Fixes #41 · incident `fx-1`" in as_ticket
    assert "Fixes [FIX-3](http://t/3) · fixes acme/shop#41 · incident `fx-1`" in beside


def test_the_body_shows_the_regression_test_it_adds_or_why_not() -> None:
    shipped = RegressionTest(
        path="tests/test_price_zero_division_error.py",
        nodeid="tests/test_price_zero_division_error.py::test_price_does_not_raise",
        source="def test_price_does_not_raise():\n    price(0)\n",
        before="failed",
        after="passed",
        masked=2,
        shipped=True,
        reason="ok",
    )
    text = body(patch_by("templates"), ["t.py::t"], regression=shipped)
    assert (
        "Regression test `tests/test_price_zero_division_error.py` (added by this PR, the "
        "incident's reproduction): **failed** on the base commit, **passed** with the fix; 2 "
        "captured values replaced by stand-ins" in text
    )
    assert "def test_price_does_not_raise():" in text
    assert "not part of this diff" not in text
    kept_out = shipped.model_copy(update={"shipped": False, "reason": "not shipped: it passed"})
    assert "Regression test `" not in body(patch_by("templates"), ["t.py::t"], regression=kept_out)

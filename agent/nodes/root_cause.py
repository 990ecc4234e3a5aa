"""root_cause: read the evidence, rebuild a reproduction, run the baseline, then rank once.

The repository is read once (frames, blame, history, data flow); the reproduction and the
baseline run next, so the one ranking already knows their coverage.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.diagnosis.ranking import gather, rank
from agent.diagnosis.reproduce import (
    NotRebuildable,
    check_reproduction,
    first_that_reproduces,
    reproduction_candidates,
)
from agent.diagnosis.reproduce.derived import derived_candidates
from agent.diagnosis.reproduce.fixtures import fixture_candidates
from agent.diagnosis.spectrum import Spectrum
from agent.domain import Incident, Reproduction, TestRun, Ticket
from agent.nodes import audit
from agent.prompting import render
from agent.proof.prove import (
    FAILING,
    Baseline,
    run_baseline,
    run_reproduction,
    run_reproductions,
)
from agent.state import State


def root_cause(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    base = state["base_commit"]
    gathered = gather(incident, deps.repo, deps.code_index, base)
    candidates, refusal = _candidates(incident, deps, base) if gathered.placed else ([], None)
    reproduction = candidates[0] if candidates else None
    # The suite runs once under coverage when a failing test can drive fault localization.
    coverage = bool(incident.failing_tests) or reproduction is not None
    baseline = run_baseline(deps.workbench(), base, reproduction, coverage=coverage)
    kept = False
    attempts: list[Reproduction] = []
    if reproduction is not None and baseline.must_fail is not None:
        reproduction = check_reproduction(reproduction, baseline.must_fail, incident)
        attempts.append(reproduction)
        baseline, reproduction = _other_ways(
            candidates[1:], incident, deps, baseline, reproduction, attempts
        )
    reported_fail = any(baseline.outcome(t) in FAILING for t in incident.failing_tests)
    if gathered.placed and not reported_fail and not (reproduction and reproduction.reproduced):
        baseline, reproduction, refusal = _last_ways(
            incident, deps, baseline, reproduction, attempts, refusal
        )
    if reproduction is not None and baseline.outcome(reproduction.nodeid) is not None:
        # A test failing for another reason than the incident's can never pass with a right
        # fix: it is reported and dropped. One that passes on the base commit (the captured
        # arguments do not crash the code here) stays, a test every candidate must still pass.
        passes = baseline.outcome(reproduction.nodeid) == "passed"
        kept = reproduction.reproduced or passes

    # Every reported test that fails here stays to be fixed; a reproduction adds to them.
    must_fix = [t for t in incident.failing_tests if baseline.outcome(t) in FAILING]
    if reproduction is not None and reproduction.reproduced:
        must_fix.append(reproduction.nodeid)
    must_fix = list(dict.fromkeys(must_fix))
    spectrum = _spectrum(baseline, incident, reproduction)
    diagnosis = rank(gathered, deps.repo, deps.code_index, spectrum if spectrum.usable else None)
    diagnosis.reproduction = reproduction if kept else None

    ticket = Ticket.model_validate(state["ticket"])
    deps.tracker.comment(
        ticket.key,
        "diagnosis",
        render(
            "ticket_diagnosis.md.j2",
            diagnosis=diagnosis,
            must_fix={test: baseline.outcome(test) for test in must_fix},
        ),
    )
    top = diagnosis.suspects[0] if diagnosis.suspects else None
    return {
        "diagnosis": diagnosis.model_dump(mode="json"),
        "baseline": baseline.model_dump(mode="json"),
        "must_fix": must_fix,
        "audit": audit(
            "root_cause",
            f"{len(diagnosis.suspects)} suspects; suite on {base[:10]}: "
            f"{len(baseline.suite.passed())} passed, {len(baseline.suite.failed())} failed",
            f"top suspect {top.symbol} in {top.file}" if top else "no suspect",
            _why(reproduction, kept, must_fix, refusal, attempts),
            suspects=[s.symbol for s in diagnosis.suspects[:5]],
            suspect_commit=diagnosis.suspect_commit.sha if diagnosis.suspect_commit else None,
            must_fix=must_fix,
            reproduced_by=reproduction.way if reproduction and reproduction.reproduced else None,
            reproduction_attempts=[
                {"way": r.way, "test": r.nodeid, "reproduced": r.reproduced, "reason": r.reason}
                for r in attempts
            ],
            ochiai=(
                {"failing": len(spectrum.failed), "passing": len(spectrum.passed)}
                if spectrum.usable
                else None
            ),
        ),
    }


def _spectrum(
    baseline: Baseline, incident: Incident, reproduction: Reproduction | None
) -> Spectrum:
    """The baseline's coverage split into the incident's failing tests and the passing suite."""
    failed = {t for t in incident.failing_tests if baseline.outcome(t) in FAILING}
    coverage = dict(baseline.suite.coverage)
    # Without the passing suite's coverage, Ochiai would only list what the failing test ran.
    if (
        coverage
        and reproduction is not None
        and reproduction.reproduced
        and baseline.must_fail is not None
    ):
        failed.add(reproduction.nodeid)
        coverage.update(baseline.must_fail.coverage)
    return Spectrum(failed=failed, passed=baseline.suite.passed(), coverage=coverage)


def _candidates(incident: Incident, deps: Deps, base: str) -> tuple[list[Reproduction], str | None]:
    """The reproductions to try in order, or why none can be built."""
    try:
        return reproduction_candidates(incident, deps.repo, base), None
    except NotRebuildable as refusal:
        return [], refusal.reason


def _other_ways(
    others: list[Reproduction],
    incident: Incident,
    deps: Deps,
    baseline: Baseline,
    first: Reproduction | None,
    attempts: list[Reproduction],
) -> tuple[Baseline, Reproduction | None]:
    """When the test rebuilt from captured values alone does not fail like the incident, the
    same call with its objects built the way the repository builds them, one way after another;
    the first that fails like the incident replaces it, with its run as the must-fail run.
    Each one tried, checked, is added to `attempts`."""
    if not others:
        return baseline, first
    runs: list[TestRun] = []

    def run(reproduction: Reproduction) -> TestRun:
        runs.append(run_reproduction(deps.workbench(), baseline.rev, reproduction, coverage=True))
        return runs[-1]

    found, tried = first_that_reproduces(others, incident, run)
    attempts.extend(tried)
    if found is None:
        return baseline, first
    return baseline.model_copy(update={"must_fail": runs[-1]}), found


def _last_ways(
    incident: Incident,
    deps: Deps,
    baseline: Baseline,
    reproduction: Reproduction | None,
    attempts: list[Reproduction],
    refusal: str | None,
) -> tuple[Baseline, Reproduction | None, str | None]:
    """The last ways, when no reproduction fails like the incident: objects the repository's
    fixtures build, then its own tests that call a function of the crash, all run at once. Also
    returns why none could be built, with the reason of the last way."""
    built, _ = fixture_candidates(incident, deps.repo, baseline.rev)
    derived, passed_over = derived_candidates(
        incident, deps.repo, baseline.rev, baseline.suite.coverage or None
    )
    if not built and not derived:
        refusal = "; ".join(filter(None, [refusal, "no derived test: " + passed_over[0]]))
        return baseline, reproduction, refusal
    # One sandbox run for them all; the first in order that fails like the incident counts.
    run = run_reproductions(deps.workbench(), baseline.rev, built + derived, coverage=True)
    found, tried = first_that_reproduces(built + derived, incident, lambda _: run)
    attempts.extend(tried)
    if found is None:
        return baseline, reproduction, refusal
    return baseline.model_copy(update={"must_fail": _only(run, found.nodeid)}), found, refusal


def _only(run: TestRun, nodeid: str) -> TestRun:
    """`run` reduced to one test: what the state keeps of the must-fail run."""
    return run.model_copy(
        update={
            "outcomes": {k: v for k, v in run.outcomes.items() if k == nodeid},
            "failures": {k: v for k, v in run.failures.items() if k == nodeid},
            "coverage": {k: v for k, v in run.coverage.items() if k == nodeid},
        }
    )


def _why(
    reproduction: Any,
    kept: bool,
    must_fix: list[str],
    refusal: str | None = None,
    attempts: list[Reproduction] | None = None,
) -> str:
    nothing = "no test fails like the incident, so no fix can be proven (a suggestion at most)"
    others = [r for r in attempts or [] if r is not reproduction]
    tried = "; ".join(f"{r.nodeid} ({r.way}: {r.reason})" for r in others[:4])
    tried = f"other ways that did not fail like the incident: {tried}; " if others else ""
    if reproduction is not None and kept and not must_fix:
        return (
            f"reproduction: {reproduction.reason}; kept as a test every candidate must still "
            f"pass; {tried}{nothing}"
        )
    if reproduction is not None and kept:
        return f"reproduction: {reproduction.reason}; must fix: {', '.join(must_fix)}"
    if reproduction is not None:
        dropped = f"the rebuilt test was dropped ({reproduction.reason}); "
    elif must_fix:
        dropped = ""
    else:
        why = f" ({refusal})" if refusal else ""
        dropped = f"no reproduction could be built from the captured locals{why}; "
    if must_fix:
        return f"{dropped}{tried}the failing tests are the reproduction: {', '.join(must_fix)}"
    return f"{dropped}{tried}{nothing}"

"""verify: after the merge, is the error gone? Re-run the proof on the merged commit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Incident, PullRequest, Verification
from agent.nodes import audit
from agent.proof import Baseline, run_baseline
from agent.state import State


def verify(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    diagnosis = Diagnosis.model_validate(state["diagnosis"])
    before = Baseline.model_validate(state["baseline"])
    pr = deps.forge.get_pr(PullRequest.model_validate(state["pr"]).id)
    if pr.merge_sha is None or pr.merged_at is None:
        verification = Verification(
            verified=False, summary=f"PR #{pr.id} is {pr.status}, not merged"
        )
    else:
        after = run_baseline(
            deps.repo, deps.sandbox, pr.merge_sha, deps.scratch, diagnosis.reproduction
        )
        must_fix = state.get("must_fix", [])
        still_failing = [t for t in must_fix if after.outcome(t) != "passed"]
        regressions = sorted(before.suite.passed() - after.suite.passed())
        new_events = deps.errors.events_since(incident.fingerprint, pr.merged_at)
        window = deps.settings.verify_window
        events_before = (
            deps.errors.events_since(incident.fingerprint, pr.merged_at - timedelta(seconds=window))
            - new_events
            if window > 0
            else None
        )
        verified = not still_failing and not regressions and new_events == 0
        verification = Verification(
            verified=verified,
            reproduction_passed=not still_failing if must_fix else None,
            regressions=regressions,
            new_events=new_events,
            events_before=events_before,
            checked_commit=pr.merge_sha,
            summary=_summary(pr.merge_sha, must_fix, still_failing, regressions, new_events, after)
            + _before(events_before, window),
        )
    return {
        "pr": pr.model_dump(mode="json"),
        "verification": verification.model_dump(mode="json"),
        "audit": audit(
            "verify",
            f"PR #{pr.id} merged as {(pr.merge_sha or '')[:10]}",
            "verified" if verification.verified else "regressed",
            verification.summary,
            new_events=verification.new_events,
            regressions=verification.regressions,
        ),
    }


def _summary(
    merge_sha: str,
    must_fix: list[str],
    still_failing: list[str],
    regressions: list[str],
    new_events: int,
    after: Baseline,
) -> str:
    parts = [f"On {merge_sha[:10]}:"]
    if must_fix:
        parts.append(
            "the reproduction still fails."
            if still_failing
            else f"the reproduction passes ({len(must_fix)} test)."
        )
    else:
        parts.append("no reproduction to re-run.")
    parts.append(
        f"{len(after.suite.passed())} tests pass, {len(regressions)} that passed before fail now."
    )
    parts.append(f"{new_events} new events with this fingerprint since the merge.")
    return " ".join(parts)


def _before(events_before: int | None, window: float) -> str:
    if events_before is None:
        return ""
    return f" {events_before} in the {window:.0f} s before it."

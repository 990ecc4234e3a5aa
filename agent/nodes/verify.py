"""verify: after the merge, is the error gone?

Re-runs the proof on the merge commit and compares the incident's event rate before and after:
after = from when the release that contains the merge commit was first seen (find_release), or
from the merge when none was seen, to now; before = a window as long (at least
`verify_min_before_hours`) that ends at the merge. Verified: the proof passes and the after rate
is at most `verify_max_rate` events per hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Incident, PullRequest, Release, Verification, aware, utcnow
from agent.nodes import audit
from agent.ports import ErrorSource
from agent.proof.prove import Baseline, run_baseline
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
        after = run_baseline(deps.workbench(), pr.merge_sha, diagnosis.reproduction)
        must_fix = state.get("must_fix", [])
        still_failing = [t for t in must_fix if after.outcome(t) != "passed"]
        regressions = sorted(before.suite.passed() - after.suite.passed())
        found = (state.get("release_wait") or {}).get("release")
        release = Release.model_validate(found) if found else None
        rates = event_rates(
            deps.errors,
            incident.fingerprint,
            aware(pr.merged_at),
            release,
            utcnow(),
            deps.settings.verify_min_before_hours,
        )
        limit = deps.settings.verify_max_rate
        calm = (rates.rate_after or 0.0) <= limit
        verified = not still_failing and not regressions and calm
        proof = _proof(pr.merge_sha, must_fix, still_failing, regressions, after)
        verification = rates.model_copy(
            update={
                "verified": verified,
                "reproduction_passed": not still_failing if must_fix else None,
                "regressions": regressions,
                "checked_commit": pr.merge_sha,
                "summary": f"{proof} {_rates(rates, limit)}",
            }
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
            rate_before=verification.rate_before,
            rate_after=verification.rate_after,
            release=verification.release,
            regressions=verification.regressions,
        ),
    }


def event_rates(
    errors: ErrorSource,
    fingerprint: str,
    merged_at: datetime,
    release: Release | None,
    now: datetime,
    min_before_hours: float,
) -> Verification:
    """The event counts and rates (per hour) before the merge and after the release (or the
    merge), as the figures of a not yet decided verification."""
    after_since = max(aware(release.first_seen), merged_at) if release else merged_at
    after_hours = max((now - after_since).total_seconds(), 1.0) / 3600
    before_hours = max(after_hours, min_before_hours)
    before_since = merged_at - timedelta(hours=before_hours)
    events_after = errors.events_between(fingerprint, after_since, now + timedelta(seconds=1))
    events_before = errors.events_between(fingerprint, before_since, merged_at)
    return Verification(
        verified=False,
        release=release.version if release else None,
        after_since=after_since,
        new_events=events_after,
        events_before=events_before,
        before_hours=before_hours,
        after_hours=after_hours,
        rate_before=events_before / before_hours,
        rate_after=events_after / after_hours,
    )


def _proof(
    merge_sha: str,
    must_fix: list[str],
    still_failing: list[str],
    regressions: list[str],
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
    return " ".join(parts)


def _rates(rates: Verification, limit: float) -> str:
    since = (
        f"since release {rates.release} was first seen"
        if rates.release
        else "since the merge (no release containing it seen)"
    )
    return (
        f"Events: {rates.new_events} in the {_hours(rates.after_hours)} {since} "
        f"({rates.rate_after:.2f}/h, limit {limit:g}/h); {rates.events_before} in the "
        f"{_hours(rates.before_hours)} before the merge ({rates.rate_before:.2f}/h)."
    )


def _hours(hours: float | None) -> str:
    hours = hours or 0.0
    return f"{hours:.2f} h" if hours >= 0.01 else f"{hours * 3600:.0f} s"

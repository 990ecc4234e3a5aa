"""What a candidate's test run collects and skips, compared with the baseline's run.

Static checks can be stepped around (a hook in a plugin, a computed marker name); the runs
cannot: a candidate whose suite run no longer reports a test the baseline reported, or skips
(or xfails) a test the baseline did not skip, is refused. A collection error of a whole module
on the baseline (a node id without `::`) may disappear: the candidate fixed it.
"""

from __future__ import annotations

from agent.domain import TestRun


def collection_refusal(baseline: TestRun, candidate: TestRun) -> str | None:
    """Why the candidate's run collects less or skips more than the baseline's, or None."""
    lost = sorted(
        nodeid
        for nodeid, outcome in baseline.outcomes.items()
        if nodeid not in candidate.outcomes and not (outcome == "error" and "::" not in nodeid)
    )
    skipped = sorted(
        nodeid
        for nodeid, outcome in candidate.outcomes.items()
        if outcome == "skipped" and baseline.outcomes.get(nodeid) != "skipped"
    )
    problems = []
    if lost:
        problems.append(f"no longer collects {len(lost)} tests: {_some(lost)}")
    if skipped:
        problems.append(f"skips {len(skipped)} more tests: {_some(skipped)}")
    if not problems:
        return None
    return "refused: the candidate's run " + " and ".join(problems)


def _some(nodeids: list[str], limit: int = 5) -> str:
    shown = ", ".join(nodeids[:limit])
    return shown + (f" and {len(nodeids) - limit} more" if len(nodeids) > limit else "")

"""detect: is this incident ours to fix, new, and actionable?"""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.diagnosis.frames import map_frame, repo_files
from agent.domain import Incident
from agent.intake.test_ids import Resolution, reported_path, resolve
from agent.nodes import audit
from agent.ports import Sandbox
from agent.state import State

_SHOWN = 10
"""How many tests' outcomes a reason lists."""


def detect(state: State, runtime: Runtime[Deps]) -> State:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    base = state.get("base_commit") or deps.repo.head(deps.base_branch)
    update: State = {"base_commit": base}

    existing = deps.tracker.find_open(incident.fingerprint)
    if existing is not None and existing.incident_id != incident.id:
        deps.tracker.comment(
            existing.key, f"duplicate:{incident.id}", f"Another occurrence: incident {incident.id}."
        )
        return update | {
            "status": "duplicate",
            "audit": audit(
                "detect",
                f"incident {incident.id} with fingerprint {incident.fingerprint[:12]}",
                "duplicate",
                f"ticket {existing.key} already tracks this fingerprint for {existing.incident_id}",
                ticket=existing.key,
            ),
        }

    tested: dict[str, object] = {}
    why = ""
    if incident.source == "test_failure" and not incident.exceptions:
        reported = incident.failing_tests
        incident, why = _run_failing_tests(incident, deps, base)
        update["incident"] = incident.model_dump(mode="json")
        if not incident.exceptions:
            return update | {
                "status": "not_actionable",
                "audit": audit("detect", f"tests {reported}", "not_actionable", why),
            }
        tested = {"reported_tests": reported, "failing_tests": incident.failing_tests}
        why += "; "

    files = repo_files(deps.repo, base)
    mapped = sorted(
        {
            path
            for exception in incident.exceptions
            for frame in exception.frames
            if (path := map_frame(frame, files).path) is not None
        }
    )
    if not mapped:
        return update | {
            "status": "not_actionable",
            "audit": audit(
                "detect",
                f"{incident.title}",
                "not_actionable",
                f"no frame of the incident maps to a file of {deps.repo.path} at {base[:10]}",
            ),
        }
    return update | {
        "status": "running",
        "audit": audit(
            "detect",
            f"{incident.title} from {incident.source}",
            "actionable",
            f"{why}frames map to {', '.join(mapped)} at {base[:10]}",
            files=mapped,
            **tested,
        ),
    }


def _run_failing_tests(incident: Incident, deps: Deps, base: str) -> tuple[Incident, str]:
    """Resolve the reported tests against what pytest collects on the base commit, run them, and
    take the traceback from the first failure. An id that names no collected test ends here."""
    worktree = deps.repo.add_worktree(deps.scratch / "detect", base)
    try:
        resolution, collected = _resolve(incident.failing_tests, deps.sandbox, worktree)
        if resolution.unknown:
            return incident, _unknown_reason(resolution.unknown, collected, base)
        run = deps.sandbox.run_tests(worktree, resolution.node_ids)
    finally:
        deps.repo.remove_worktree(worktree)
    failing = [test for test in resolution.node_ids if test in run.failures]
    if not failing:
        ran = resolution.node_ids
        outcomes = {test: run.outcomes.get(test, "not collected") for test in ran[:_SHOWN]}
        more = f" (+{len(ran) - _SHOWN} more)" if len(ran) > _SHOWN else ""
        return incident, f"the reported tests do not fail on {base[:10]}: {outcomes}{more}"
    exceptions = run.failures[failing[0]]
    crash = exceptions[-1]
    title = f"{crash.type}: {crash.value.splitlines()[0] if crash.value else ''} in {failing[0]}"
    enriched = incident.model_copy(
        update={"exceptions": exceptions, "failing_tests": failing, "title": title[:200]}
    )
    return enriched, f"{len(failing)} of the reported tests fail on {base[:10]}"


def _resolve(reported: list[str], sandbox: Sandbox, worktree: Path) -> tuple[Resolution, int]:
    """The resolution of `reported` against what pytest collects, and how many node ids it found.

    When every id names a file or directory of the worktree, only those are collected (a suite
    may be large); otherwise the whole suite, then on their own the files it left out (outside
    the suite's test paths)."""
    paths = {text: _existing_path(worktree, text) for text in reported}
    if all(paths.values()):
        collected = sandbox.collect(worktree, sorted({path for path in paths.values() if path}))
        return resolve(reported, collected), len(collected)
    collected = sandbox.collect(worktree)
    resolution = resolve(reported, collected)
    outside = sorted({path for text in resolution.unknown if (path := paths[text])})
    if outside:
        collected += sandbox.collect(worktree, outside)
        resolution = resolve(reported, collected)
    return resolution, len(collected)


def _existing_path(worktree: Path, text: str) -> str | None:
    """The file or directory the reported id names, when it exists inside the worktree."""
    path = reported_path(text)
    if path is None:
        return None
    target = (worktree / path).resolve()
    return path if target.exists() and target.is_relative_to(worktree.resolve()) else None


def _unknown_reason(unknown: list[str], collected: int, base: str) -> str:
    names = ", ".join(repr(text) for text in unknown)
    if not collected:
        return f"pytest collected no test on {base[:10]}, so nothing matches {names}"
    noun = "id names" if len(unknown) == 1 else "ids name"
    return f"the reported test {noun} no test collected on {base[:10]} ({collected} tests): {names}"

"""The worker's `ci_run` job: a red commit of a base branch, turned into one failing-test run.

The webhook only queued the commit. Here its suite runs against its parent in the sandbox
(`agent.intake.red_main`); the tests it broke become a failing-test incident exactly like one
written by hand (`{"kind": "test_failure", "tests": [...]}`), run at that commit under the id
the inbox gave the commit. Flaky tests go on the ticket as flaky, never into the run.
"""

from __future__ import annotations

from dataclasses import asdict

from agent import wiring
from agent.domain import Job
from agent.errors import RunError
from agent.guardrails.redaction import RedactingTracker, secrets_of
from agent.intake.ci import CiRun, route_github_repo
from agent.intake.payloads import parse_payload
from agent.intake.red_main import RedCommit, find_broken_tests
from agent.ports import Inbox
from agent.proof.workbench import Workbench
from agent.service import runner
from agent.settings import Settings


def run_red_commit(settings: Settings, inbox: Inbox, job: Job) -> tuple[str, bool]:
    """Find the tests the job's commit broke and run them as one incident: (outcome, closed)."""
    run = CiRun.model_validate(job.payload)
    route = route_github_repo(settings, run.repository)
    if route is None:
        return f"not run: repository {run.repository} is no longer configured", False
    settings = settings.for_repo(route.table)
    repo = wiring.open_repo(route.checkout)
    if repo.resolve(run.head_sha) is None:
        raise RunError(f"commit {run.head_sha[:10]} is not in {route.checkout}: fetch it there")
    scratch = (settings.home / "worktrees" / job.incident_id).resolve()
    red = find_broken_tests(Workbench(repo, wiring.sandbox(settings), scratch), run.head_sha)
    detail = asdict(red) | {"event": run.event, "name": run.name, "url": run.url}
    inbox.admit_note("fixloop", f"red-commit:{job.incident_id}", job.incident_id, "tests", detail)
    tracker = RedactingTracker(wiring.tracker(settings), secrets_of(settings))
    if not red.broken:
        if red.flaky:
            ticket = tracker.ensure_ticket(
                run.as_incident(), f"Flaky tests at {run.head_sha[:10]}", _flaky_body(run, red)
            )
            return f"flaky only ({red.summary()}): ticket {ticket.key}", False
        return f"not_actionable: no test this commit broke ({red.summary()})", False
    payload = {"kind": "test_failure", "tests": red.broken, "project": run.repository}
    incident = parse_payload(payload).model_copy(update={"id": job.incident_id})
    summary = runner.run_incident(
        settings, route.checkout, incident, payload, route.table, commit=red.commit
    )
    if red.flaky and summary.get("ticket"):
        key = summary["ticket"]["key"]
        tracker.comment(key, f"flaky:{run.head_sha}", _flaky_body(run, red))
    return str(summary["status"]), summary["status"] == "closed"


def _flaky_body(run: CiRun, red: RedCommit) -> str:
    lines = [
        f"Flaky at {run.head_sha[:10]} ({run.name}): failed in the suite, passed on the parent "
        "commit, and passed when rerun. Reported, not fixed:",
        *(f"- `{test}`" for test in red.flaky),
    ]
    if run.url:
        lines.append(f"CI run: {run.url}")
    return "\n".join(lines)

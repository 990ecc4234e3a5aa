"""open_pr: commit the proven patch on `fixloop/<incident-id>` and open a PR, once."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import Diagnosis, Incident, Patch, TestReport, Ticket, bot_branch
from agent.guardrails.redaction import redact, secrets_of
from agent.nodes import audit
from agent.prompting import md_title, plain_text, render
from agent.proof.prove import FAILING
from agent.proof.regression import RegressionTest, with_test
from agent.state import State


def open_pr(state: State, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    incident = Incident.model_validate(state["incident"])
    ticket = Ticket.model_validate(state["ticket"])
    patch = Patch.model_validate(state["proven"])
    branch = bot_branch(incident.id)

    report = next(
        TestReport.model_validate(r)
        for r in reversed(state.get("reports", []))
        if r["candidate_id"] == patch.id
    )
    pr = deps.forge.find_pr(branch)
    created = pr is None
    found = state.get("regression")
    regression = RegressionTest.model_validate(found) if found else None
    if pr is None:
        diagnosis = Diagnosis.model_validate(state["diagnosis"])
        # An engine's title and rationale (a model's words, for the Claude engine) are scrubbed
        # like incident text; the PR title carries no markup, the commit message no escapes.
        secrets = secrets_of(deps.settings)
        summary = redact(patch.title, secrets)
        title = f"fix: {md_title(summary)}"
        message = plain_text(
            f"fix: {' '.join(summary.split())}\n\n{redact(patch.rationale, secrets)}\n\n"
            f"Incident: {incident.id}\nTicket: {ticket.key}"
        )
        shipped = with_test(patch, regression) if regression else patch
        head = deps.repo.commit_patch(state["base_commit"], shipped, message)
        body = render(
            "pr_body.j2",
            incident=incident,
            ticket=ticket,
            diagnosis=diagnosis,
            patch=patch,
            report=report,
            regression=regression,
            must_fix=state.get("must_fix", []),
            failing_before=[
                test
                for test, outcome in report.must_fix.items()
                if outcome.before in FAILING and outcome.after == "passed"
            ],
            candidates=len(state.get("candidates", [])),
            not_proven=sum(
                1
                for r in state.get("reports", [])
                if not r["proven"] and r.get("stage") != "budget"
            ),
        )
        pr = deps.forge.open_pr(branch, head, title, body)

    comment = render(
        "ticket_pr.md.j2", pr=pr, branch=branch, report=report, base_commit=state["base_commit"]
    )
    deps.tracker.comment(ticket.key, f"pr:{pr.id}", comment)
    ticket = deps.tracker.transition(ticket.key, "in_review")
    return {
        "ticket": ticket.model_dump(mode="json"),
        "pr": pr.model_dump(mode="json"),
        "status": "awaiting_review",
        "audit": audit(
            "open_pr",
            f"proven candidate {patch.id}",
            f"PR #{pr.id} on {branch}" if created else f"found PR #{pr.id} on {branch}",
            "the fix is proven; a human reviews it before anything merges",
            pr=pr.id,
            branch=branch,
            regression_test=regression.path if regression and regression.shipped else None,
        ),
    }

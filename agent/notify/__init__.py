"""Telling on-call people what happens to an incident (Slack): one thread per incident.

`announced` wraps the graph nodes whose outcome people wait for: `ticket` (the incident is
ticketed), `open_pr` (a PR awaits review) and `verify` (the merged fix is verified or regressed).
After the node, its message goes to the incident's thread through `Deps.notifier`, once per key.
A message that cannot be posted is recorded in the audit and the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agent.deps import Deps
from agent.domain import AuditEntry
from agent.errors import NotifyError
from agent.state import State

Node = Callable[[State, Runtime[Deps]], Any]


def announced(name: str, node: Node) -> Any:
    """`node`, followed by its message to the incident's thread when a notifier is set."""

    def run(state: State, runtime: Runtime[Deps]) -> Any:
        update = node(state, runtime)
        notifier = runtime.context.notifier
        message = message_after(name, state, update) if notifier is not None else None
        if notifier is None or message is None:
            return update
        key, text = message
        incident_id = state["incident"]["id"]
        try:
            ts = notifier.post(incident_id, key, text)
            entry = AuditEntry(
                node="notify",
                saw=f"{name}: {key}",
                decided="posted to Slack",
                why="on-call follows the incident in its thread",
                data={"key": key, "ts": ts},
            )
        except NotifyError as error:
            entry = AuditEntry(
                node="notify",
                saw=f"{name}: {key}",
                decided="not posted",
                why=f"{error}; the run goes on without it",
                data={"key": key},
            )
        return {**update, "audit": [*update.get("audit", []), entry.model_dump(mode="json")]}

    run.__name__ = getattr(node, "__name__", name)
    run.__doc__ = node.__doc__
    return run


def message_after(name: str, state: State, update: dict[str, Any]) -> tuple[str, str] | None:
    """The key and text of the message the node's update calls for, if any."""
    incident = state["incident"]
    if name == "ticket" and update.get("ticket"):
        ticket = update["ticket"]
        where = _repository(state)
        return "ticketed", (
            f":rotating_light: *{_escape(incident['title'])}*\n"
            f"Incident `{incident['id']}` in {_escape(where)} is ticketed as "
            f"{_link(ticket.get('url'), ticket['key'])}. fixloop is looking for the root cause."
        )
    if name == "open_pr" and update.get("pr") and update.get("status") == "awaiting_review":
        pr = update["pr"]
        return f"pr:{pr['id']}", (
            f":mag: Pull request {_link(pr.get('url'), '#' + str(pr['id']))} on "
            f"`{_escape(pr['branch'])}` awaits review: {_escape(pr.get('title') or '')}\n"
            f"The fix is proven by tests. Review it: `fixloop review {pr['id']} --merge` "
            f"(or `--reject`)."
        )
    verification = update.get("verification")
    if name == "verify" and verification:
        if verification["verified"]:
            return "verified", f":white_check_mark: Verified. {_escape(verification['summary'])}"
        return "regressed", (
            f":warning: Regressed after the merge. {_escape(verification['summary'])} "
            "The ticket is reopened and the incident escalated."
        )
    return None


def _repository(state: State) -> str:
    table = (state.get("run") or {}).get("repo_table")
    return str(table or Path(str(state.get("repo") or "the repository")).name)


def _escape(text: str) -> str:
    """Slack's mrkdwn: `&`, `<` and `>` are markup (links, mentions) unless escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, label: str) -> str:
    if url and url.startswith(("https://", "http://")):
        return f"<{_escape(url)}|{_escape(label)}>"
    return _escape(label)

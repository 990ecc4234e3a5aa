"""A GitHub issue whose body holds a traceback, as an incident (`issues` webhooks).

Pure functions over the parsed body and the settings; nothing here stores or calls anything.
A body that is not an `issues` event raises `IntakeError` (the server answers 400). A well-formed
event fixloop does not act on (another action or label, an issue fixloop opened itself, a body
with no traceback) is named by `IssueEvent.ignored`, never an error.

fixloop never feeds on its own output: the tickets it opens on GitHub carry the stack and end
with `TICKET_MARKER`, and are opened by `github_login` when that is set; both are ignored.

One issue's text is one delivery: `IssueEvent.content_key` is the repository, the number and
the body, so a redelivery, or a label put on an issue already read, is recognised as the same.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel

from agent.domain import GITHUB_ISSUE_TAG, Incident
from agent.errors import IntakeError
from agent.intake.markdown import plain_text
from agent.intake.payloads import incident_id, parse_payload
from agent.intake.test_ids import named_failing
from agent.settings import IssueTrigger

TICKET_MARKER = "<!-- fixloop-fingerprint:"
"""The line fixloop's GitHub tickets end with (`tools/github_issues.py` writes it)."""


class IssueEvent(BaseModel):
    """One `issues` event about one issue."""

    action: str
    repository: str
    """GitHub's `owner/name` of the repository the issue is in."""
    number: int
    title: str
    body: str
    author: str | None
    labels: list[str]
    label: str | None = None
    """The label a `labeled` event put on the issue."""
    url: str | None = None

    @property
    def reference(self) -> str:
        return f"{self.repository}#{self.number}"

    @property
    def content_key(self) -> str:
        """The issue and what its body says: the same on every redelivery and every event of
        the issue until its body is edited."""
        basis = f"{self.repository.lower()}#{self.number}\n{self.body.strip()}"
        return "issue:" + hashlib.sha256(basis.encode()).hexdigest()

    def ignored(self, trigger: IssueTrigger, label: str, bot_login: str | None) -> str | None:
        """Why this event starts no run under these settings, or None when it may."""
        if self.is_fixloops(bot_login):
            return f"issue {self.reference} was opened by fixloop (one of its tickets)"
        if trigger == "off":
            return "issues start no run here (setting issue_trigger = 'off')"
        if self.action == "labeled":
            if self.label != label:
                return f"label {self.label!r} is not the trigger label {label!r} (issue_label)"
            return None
        if self.action == "opened":
            if trigger == "opened" or label in self.labels:
                return None
            return f"opened without the trigger label {label!r} (issue_trigger = 'label')"
        return f"issues action {self.action!r}: only 'opened' and 'labeled' are read"

    def is_fixloops(self, bot_login: str | None) -> bool:
        """Opened by fixloop: its ticket marker in the body, or its login as the author."""
        by_bot = bot_login is not None and (self.author or "").lower() == bot_login.lower()
        return by_bot or TICKET_MARKER in self.body

    def as_payload(self) -> dict[str, Any]:
        """The payload the issue is, named by its repository: the tests its body says failed
        (pytest's or unittest's report), which are run to see the failure; else its
        traceback text."""
        tests = named_failing(plain_text(self.body))
        if tests:
            return {"kind": "test_failure", "tests": tests, "project": self.repository}
        return {"kind": "traceback", "text": self.body, "project": self.repository}

    def as_incident(self) -> Incident:
        """The incident the issue reports; `IntakeError` when its body holds no traceback and
        names no failing test. Named by the issue: an edited body is the same incident."""
        incident = parse_payload(self.as_payload())
        named = incident_id("github-issue:" + self.reference.lower(), incident.fingerprint)
        return incident.model_copy(
            update={"id": named, "tags": incident.tags | {GITHUB_ISSUE_TAG: self.reference}}
        )


def github_issue(payload: dict[str, Any]) -> IssueEvent:
    """The issue an `issues` webhook is about."""
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise IntakeError("GitHub issues event has no 'issue' object")
    repository = payload.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if not isinstance(full_name, str) or full_name.count("/") != 1:
        raise IntakeError("GitHub issues event has no 'repository.full_name' (owner/name)")
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise IntakeError("GitHub issues event has no 'action' string")
    number = issue.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise IntakeError("issue.number is not a positive integer")
    body = issue.get("body")
    if body is not None and not isinstance(body, str):
        raise IntakeError("issue.body is not a string")
    title = issue.get("title")
    if not isinstance(title, str):
        raise IntakeError("issue.title is not a string")
    labels = issue.get("labels", [])
    if not isinstance(labels, list):
        raise IntakeError("issue.labels is not a list")
    user = issue.get("user")
    label = payload.get("label")
    url = issue.get("html_url")
    return IssueEvent(
        action=action,
        repository=full_name,
        number=number,
        title=title,
        body=body or "",
        author=_login(user),
        labels=[name for item in labels if (name := _label_name(item))],
        label=_label_name(label) if label is not None else None,
        url=url if isinstance(url, str) else None,
    )


def _login(user: object) -> str | None:
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) and login else None


def _label_name(item: object) -> str | None:
    if isinstance(item, str):
        return item or None
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and name else None

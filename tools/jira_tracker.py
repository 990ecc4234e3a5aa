"""Tickets in Jira through the `jira` library (`agent.ports.Tracker`).

Idempotent like the local tracker: a ticket carries the labels `fixloop`, `fixloop-<incident>`
and `fixloop-fp-<fingerprint>`, so it is found again rather than made twice, and every
comment ends with a `fixloop:<comment key>` line, so a repeated comment is not posted twice.
Priority follows the event's level; statuses move by the workflow's transition names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from jira import JIRA, JIRAError
from jira.resources import Issue

from agent.domain import Incident, Ticket
from agent.errors import AdapterError, NotFound

T = TypeVar("T")
TicketStatus = Literal["open", "in_review", "resolved", "closed", "reopened"]
_MARK = "fixloop:"


class JiraTracker:
    def __init__(
        self,
        client: JIRA,
        project: str,
        *,
        issue_type: str,
        priorities: Mapping[str, str],
        transitions: Mapping[str, str],
    ) -> None:
        self.client = client
        self.project = project
        self.issue_type = issue_type
        self.priorities = priorities
        self.transitions = transitions

    def find_open(self, fingerprint: str) -> Ticket | None:
        return self._first(f"{_label(fingerprint_label(fingerprint))} AND statusCategory != Done")

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        found = self._first(_label(f"fixloop-{incident.id}")) or self.find_open(
            incident.fingerprint
        )
        if found is not None:
            return found
        fields: dict[str, Any] = {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "summary": title.replace("\n", " ")[:250],
            "description": body,
            "labels": [
                "fixloop",
                f"fixloop-{incident.id}",
                fingerprint_label(incident.fingerprint),
            ],
        }
        priority = self.priorities.get((incident.level or "error").lower())
        if priority:
            fields["priority"] = {"name": priority}
        issue = self._call(lambda: self.client.create_issue(fields=fields))
        return self._ticket(issue)

    def get(self, key: str) -> Ticket:
        return self._ticket(self._call(lambda: self.client.issue(key)))

    def comment(self, key: str, comment_key: str, body: str) -> None:
        if comment_key in self._marked_comments(key):
            return
        self._call(lambda: self.client.add_comment(key, f"{body}\n\n{_MARK}{comment_key}"))

    def comments(self, key: str) -> list[str]:
        return list(self._marked_comments(key).values())

    def transition(self, key: str, status: str) -> Ticket:
        ticket = self.get(key)
        if ticket.status == status:
            return ticket
        name = self.transitions.get(status)
        if name is None:
            raise AdapterError(f"no Jira transition is configured for status {status!r}")
        available = self._call(lambda: self.client.transitions(key))
        match = next((t for t in available if t["name"].lower() == name.lower()), None)
        if match is None:
            names = ", ".join(sorted(t["name"] for t in available)) or "none"
            raise AdapterError(f"{key} cannot take transition {name!r} now (available: {names})")
        self._call(lambda: self.client.transition_issue(key, match["id"]))
        return self.get(key)

    def close(self, key: str, resolution: str) -> Ticket:
        self.comment(key, "resolution", resolution)
        return self.transition(key, "closed")

    # -- helpers ------------------------------------------------------------------------------

    def _first(self, clause: str) -> Ticket | None:
        jql = f'project = "{self.project}" AND {clause} ORDER BY created ASC'
        issues = self._call(lambda: self.client.search_issues(jql, maxResults=1))
        return self._ticket(issues[0]) if issues else None

    def _marked_comments(self, key: str) -> dict[str, str]:
        """Comments fixloop posted, by comment key, without their key line."""
        marked: dict[str, str] = {}
        for comment in self._call(lambda: self.client.comments(key)):
            text, _, last = str(comment.body).rpartition("\n")
            if last.startswith(_MARK):
                marked[last.removeprefix(_MARK)] = text.rstrip()
        return marked

    def _ticket(self, issue: Issue) -> Ticket:
        fields = issue.fields
        labels = list(fields.labels or [])
        incident = next((label[8:] for label in labels if label.startswith("fixloop-fx-")), "")
        fingerprint = next((label[11:] for label in labels if label.startswith("fixloop-fp-")), "")
        resolution = self._marked_comments(issue.key).get("resolution")
        return Ticket(
            key=issue.key,
            fingerprint=fingerprint,
            incident_id=incident,
            title=fields.summary,
            body=fields.description or "",
            status=self._status(fields.status),
            url=issue.permalink(),
            resolution=resolution,
        )

    def _status(self, status: Any) -> TicketStatus:
        if status.statusCategory.key == "done":
            return "closed"
        names: dict[str, TicketStatus] = {"in review": "in_review", "reopened": "reopened"}
        return names.get(str(status.name).lower(), "open")

    def _call(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except JIRAError as error:
            if error.status_code == 404:
                raise NotFound(f"Jira: not found ({error.text})") from None
            raise AdapterError(f"Jira: {error.status_code} {error.text}") from None


def fingerprint_label(fingerprint: str) -> str:
    return f"fixloop-fp-{fingerprint}"


def _label(label: str) -> str:
    return f'labels = "{label}"'

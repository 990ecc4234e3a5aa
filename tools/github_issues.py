"""Tickets as GitHub Issues through PyGithub (`agent.ports.Tracker`).

A ticket carries the labels `fixloop`, `fixloop-<incident>` and `fixloop-fp-<fingerprint
prefix>` (GitHub labels are at most 50 characters; the whole fingerprint is in the body's last
line), so it is found again rather than made twice. An incident reported in an issue of this
repository (`Incident.github_issue`) has that issue as its ticket: fixloop labels it and
leaves its title and body as the reporter wrote them. Each comment ends with an invisible
`<!-- fixloop:<key> -->` line, so a repeated comment is not posted twice. In review and
reopened are labels on an open issue; closed is a closed issue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from github import Github

from agent.domain import Incident, Ticket
from agent.errors import NotFound
from tools.github_calls import github_call

T = TypeVar("T")
TicketStatus = Literal["open", "in_review", "resolved", "closed", "reopened"]
STATUS_LABELS = {"in_review": "fixloop:in-review", "reopened": "fixloop:reopened"}
_FINGERPRINT = re.compile(r"<!-- fixloop-fingerprint: ([0-9a-f]+) -->\s*$")
_MARK = re.compile(r"\n\n<!-- fixloop:(.+) -->$")


class GitHubIssuesTracker:
    def __init__(self, client: Github, full_name: str) -> None:
        self.client = client
        self.full_name = full_name

    def find_open(self, fingerprint: str) -> Ticket | None:
        return self._first("open", fingerprint_label(fingerprint))

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        reported = incident.github_issue
        if reported is not None and reported[0].lower() == self.full_name.lower():
            return self._adopt(reported[1], incident)
        found = self._first("all", f"fixloop-{incident.id}") or self.find_open(incident.fingerprint)
        if found is not None:
            return found
        labels = ["fixloop", f"fixloop-{incident.id}", fingerprint_label(incident.fingerprint)]
        text = f"{body}\n\n<!-- fixloop-fingerprint: {incident.fingerprint} -->"
        issue = self._call(lambda: self._repo().create_issue(title=title, body=text, labels=labels))
        return self._ticket(issue)

    def get(self, key: str) -> Ticket:
        return self._ticket(self._issue(key))

    def comment(self, key: str, comment_key: str, body: str) -> None:
        if comment_key in self._marked_comments(key):
            return
        issue = self._issue(key)
        self._call(lambda: issue.create_comment(f"{body}\n\n<!-- fixloop:{comment_key} -->"))

    def comments(self, key: str) -> list[str]:
        return list(self._marked_comments(key).values())

    def transition(self, key: str, status: str) -> Ticket:
        issue = self._issue(key)
        labels = [label.name for label in issue.labels if label.name not in STATUS_LABELS.values()]
        if status in STATUS_LABELS:
            labels.append(STATUS_LABELS[status])
        state = "closed" if status in ("closed", "resolved") else "open"
        self._call(lambda: issue.edit(state=state, labels=labels))
        return self.get(key)

    def close(self, key: str, resolution: str) -> Ticket:
        self.comment(key, "resolution", resolution)
        return self.transition(key, "closed")

    # -- helpers ------------------------------------------------------------------------------

    def _adopt(self, number: int, incident: Incident) -> Ticket:
        """The issue the incident was reported in is its ticket: labelled with the incident
        (so it is found again), its title and body left as the reporter wrote them."""
        issue = self._call(lambda: self._repo().get_issue(number))
        wanted = [f"fixloop-{incident.id}", fingerprint_label(incident.fingerprint)]
        present = {label.name for label in issue.labels}
        missing = [label for label in wanted if label not in present]
        if missing:
            self._call(lambda: issue.add_to_labels(*missing))
            issue = self._call(lambda: self._repo().get_issue(number))
        ticket = self._ticket(issue)
        return ticket.model_copy(update={"fingerprint": ticket.fingerprint or incident.fingerprint})

    def _repo(self) -> Any:
        return self._call(lambda: self.client.get_repo(self.full_name))

    def _issue(self, key: str) -> Any:
        number = key.removeprefix("#")
        if not number.isdigit():
            raise NotFound(f"no ticket {key!r}: GitHub issues are named #<number>")
        return self._call(lambda: self._repo().get_issue(int(number)))

    def _first(self, state: str, label: str) -> Ticket | None:
        issues = self._call(lambda: list(self._repo().get_issues(state=state, labels=[label])))
        issues = [issue for issue in issues if issue.pull_request is None]
        return self._ticket(min(issues, key=lambda issue: issue.number)) if issues else None

    def _marked_comments(self, key: str) -> dict[str, str]:
        marked: dict[str, str] = {}
        for comment in self._call(lambda: list(self._issue(key).get_comments())):
            match = _MARK.search(comment.body or "")
            if match:
                marked[match[1]] = comment.body[: match.start()]
        return marked

    def _ticket(self, issue: Any) -> Ticket:
        labels = [label.name for label in issue.labels]
        body = issue.body or ""
        fingerprint = _FINGERPRINT.search(body)
        status: TicketStatus = "open"
        if issue.state == "closed":
            status = "closed"
        elif STATUS_LABELS["in_review"] in labels:
            status = "in_review"
        elif STATUS_LABELS["reopened"] in labels:
            status = "reopened"
        return Ticket(
            key=f"#{issue.number}",
            fingerprint=fingerprint[1] if fingerprint else "",
            incident_id=next((x[8:] for x in labels if x.startswith("fixloop-fx-")), ""),
            title=issue.title,
            body=_FINGERPRINT.sub("", body).rstrip(),
            status=status,
            url=issue.html_url,
            resolution=self._marked_comments(f"#{issue.number}").get("resolution"),
        )

    def _call(self, action: Callable[[], T]) -> T:
        return github_call(self.full_name, action)


def fingerprint_label(fingerprint: str) -> str:
    return f"fixloop-fp-{fingerprint[:32]}"

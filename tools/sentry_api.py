"""Sentry's REST API on httpx: issues, their latest event, event counts, resolve, comment.

Organization-scoped paths (`/api/0/organizations/<org>/issues/<id>/...`). Every call has the
client's timeout and `tools.rest`'s retries, backoff and rate-limit waits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tools.rest import RestClient


class SentryApi:
    def __init__(self, rest: RestClient, organization: str) -> None:
        self.rest = rest
        self.organization = organization

    def issue(self, issue_id: str) -> dict[str, Any]:
        return dict(self.rest.request("GET", self._issue_path(issue_id)))

    def latest_event(self, issue_id: str) -> dict[str, Any]:
        """The newest event of the issue, in the REST shape (`entries[]`) `parse_payload` reads."""
        return dict(self.rest.request("GET", self._issue_path(issue_id) + "events/latest/"))

    def event_counts(self, issue_id: str, period: str = "24h") -> list[tuple[datetime, int]]:
        """Events per bucket over `period` (`24h`: hourly, `14d`: daily), oldest first."""
        path = self._issue_path(issue_id)
        issue = self.rest.request("GET", path, params={"statsPeriod": period})
        buckets = (issue.get("stats") or {}).get(period) or []
        return [(datetime.fromtimestamp(ts, UTC), int(count)) for ts, count in buckets]

    def events_since(self, issue_id: str, since: datetime) -> int:
        """Events in the hourly buckets that start at or after `since` (last 24 hours)."""
        return sum(count for start, count in self.event_counts(issue_id) if start >= since)

    def resolve_in_next_release(self, issue_id: str) -> None:
        self.rest.request(
            "PUT",
            self._issue_path(issue_id),
            json={"status": "resolved", "statusDetails": {"inNextRelease": True}},
        )

    def comment(self, issue_id: str, text: str) -> None:
        self.rest.request("POST", self._issue_path(issue_id) + "comments/", json={"text": text})

    def _issue_path(self, issue_id: str) -> str:
        return f"/api/0/organizations/{self.organization}/issues/{issue_id}/"

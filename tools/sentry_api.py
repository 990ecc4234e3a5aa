"""Sentry's REST API on httpx: issues, their latest event, event counts, releases, resolve,
comment.

Organization-scoped paths (`/api/0/organizations/<org>/...`). Every call has the client's timeout
and `tools.rest`'s retries, backoff and rate-limit waits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.domain import Release
from tools.rest import RestClient

MAX_PAGES = 50
"""Pages of a list (Sentry's pages hold 100 items) read at most: an events count that reaches
5,000 is a floor, and older releases than the newest 5,000 are not looked at."""


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

    def event_times(self, issue_id: str, start: datetime, end: datetime) -> list[datetime]:
        """When the issue's events in [start, end) occurred, as Sentry filters them by `start`
        and `end`, read page by page (at most `MAX_PAGES`)."""
        events = self._listed(
            self._issue_path(issue_id) + "events/", {"start": _iso(start), "end": _iso(end)}
        )
        times = [_time(event.get("dateCreated")) for event in events]
        return [t for t in times if t is not None and start <= t < end]

    def releases(self, project: str) -> list[Release]:
        """The project's releases (newest first, at most `MAX_PAGES` pages) that have been seen
        running: first seen at their first event or their deploy, whichever came first."""
        path = f"/api/0/organizations/{self.organization}/releases/"
        releases = []
        for release in self._listed(path, {"project": project}):
            seen = [_time(release.get(k)) for k in ("firstEvent", "dateReleased")]
            moments = [t for t in seen if t is not None]
            last_commit = release.get("lastCommit")
            commit = last_commit.get("id") if isinstance(last_commit, dict) else None
            if moments and release.get("version"):
                releases.append(
                    Release(
                        version=str(release["version"]),
                        commit=str(commit) if commit else None,
                        first_seen=min(moments),
                    )
                )
        return releases

    def resolve_in_next_release(self, issue_id: str) -> None:
        self.rest.request(
            "PUT",
            self._issue_path(issue_id),
            json={"status": "resolved", "statusDetails": {"inNextRelease": True}},
        )

    def comment(self, issue_id: str, text: str) -> None:
        self.rest.request("POST", self._issue_path(issue_id) + "comments/", json={"text": text})

    def _listed(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every item of a paged list: Sentry's `Link` header names the next page's `cursor`
        and says with `results="true"` whether it holds anything."""
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(MAX_PAGES):
            query = {**params, "cursor": cursor} if cursor else params
            page, links = self.rest.page("GET", path, params=query)
            items.extend(item for item in page or [] if isinstance(item, dict))
            following = links.get("next", {})
            cursor = following.get("cursor")
            if following.get("results") != "true" or not cursor:
                break
        return items

    def _issue_path(self, issue_id: str) -> str:
        return f"/api/0/organizations/{self.organization}/issues/{issue_id}/"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time(value: object) -> datetime | None:
    """An ISO 8601 time as Sentry writes it (`2026-11-24T02:00:00.123Z`), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

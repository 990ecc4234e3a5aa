"""Sentry's REST API on httpx: issues, their latest event, event counts, resolve, comment.

Organization-scoped paths (`/api/0/organizations/<org>/issues/<id>/...`). Every call has a
timeout; a transport error, a 5xx or a 429 is retried with exponential backoff, waiting as long
as `Retry-After` or `X-Sentry-Rate-Limit-Reset` asks (at most `max_wait` seconds). Other 4xx
are not retried: 404 is `NotFound`, the rest `AdapterError` with Sentry's `detail`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from agent.errors import AdapterError, NotFound


class SentryApi:
    def __init__(
        self,
        client: httpx.Client,
        organization: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.organization = organization
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep

    def issue(self, issue_id: str) -> dict[str, Any]:
        return dict(self._request("GET", self._issue_path(issue_id)))

    def latest_event(self, issue_id: str) -> dict[str, Any]:
        """The newest event of the issue, in the REST shape (`entries[]`) `parse_payload` reads."""
        return dict(self._request("GET", self._issue_path(issue_id) + "events/latest/"))

    def event_counts(self, issue_id: str, period: str = "24h") -> list[tuple[datetime, int]]:
        """Events per bucket over `period` (`24h`: hourly, `14d`: daily), oldest first."""
        issue = self._request("GET", self._issue_path(issue_id), params={"statsPeriod": period})
        buckets = (issue.get("stats") or {}).get(period) or []
        return [(datetime.fromtimestamp(ts, UTC), int(count)) for ts, count in buckets]

    def events_since(self, issue_id: str, since: datetime) -> int:
        """Events in the hourly buckets that start at or after `since` (last 24 hours)."""
        return sum(count for start, count in self.event_counts(issue_id) if start >= since)

    def resolve_in_next_release(self, issue_id: str) -> None:
        self._request(
            "PUT",
            self._issue_path(issue_id),
            json={"status": "resolved", "statusDetails": {"inNextRelease": True}},
        )

    def comment(self, issue_id: str, text: str) -> None:
        self._request("POST", self._issue_path(issue_id) + "comments/", json={"text": text})

    def _issue_path(self, issue_id: str) -> str:
        return f"/api/0/organizations/{self.organization}/issues/{issue_id}/"

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as error:
                if last:
                    raise AdapterError(f"Sentry {method} {path}: {error}") from None
                self.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    raise AdapterError(
                        f"Sentry {method} {path}: {response.status_code} after "
                        f"{self.retries + 1} attempts"
                    )
                self.sleep(self._wait(response, attempt))
                continue
            if response.status_code == 404:
                raise NotFound(f"Sentry {path}: not found")
            if response.status_code >= 400:
                raise AdapterError(
                    f"Sentry {method} {path}: {response.status_code} {_detail(response)}"
                )
            return response.json() if response.content else None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        wait = self.backoff * 2**attempt
        retry_after = response.headers.get("Retry-After")
        reset = response.headers.get("X-Sentry-Rate-Limit-Reset")
        try:
            if retry_after is not None:
                wait = float(retry_after)
            elif reset is not None:
                wait = float(reset) - time.time()
        except ValueError:
            pass
        return min(max(wait, 0.0), self.max_wait)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]

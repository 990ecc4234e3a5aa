"""A fake Sentry REST API (organization-scoped issue and release endpoints) for httpx and
SentryApi. An issue's events list is filtered by `start` and `end`; releases are listed newest
first, filtered by `project`. Lists are paged by 100 with Sentry's cursor `Link` header
(`rel="next"; results="true"; cursor="0:100:0"`).

`fail_next` makes the next requests answer with the given statuses (and headers), to exercise
retries and rate limits.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.support.fakes.http import FakeServer, Request

ISSUE = r"/api/0/organizations/(?P<org>[^/]+)/issues/(?P<issue>\d+)/"
RELEASES = r"/api/0/organizations/(?P<org>[^/]+)/releases/"
PAGE = 100


class FakeSentry(FakeServer):
    def __init__(self, organization: str = "acme") -> None:
        self.organization = organization
        self.issues: dict[str, dict[str, Any]] = {}
        self.releases: list[dict[str, Any]] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.requests_seen: list[tuple[str, str, float]] = []
        super().__init__(
            [
                ("GET", ISSUE, self._get_issue),
                ("PUT", ISSUE, self._update_issue),
                ("GET", ISSUE + "events/latest/", self._latest_event),
                ("GET", ISSUE + "events/", self._events),
                ("GET", RELEASES, self._releases),
                ("GET", r"/api/0/organizations/(?P<org>[^/]+)/", self._organization),
                ("POST", ISSUE + "comments/", self._comment),
            ]
        )

    def add_issue(
        self, issue_id: str, latest_event: dict[str, Any], hourly: list[int] | None = None
    ) -> None:
        now = int(time.time()) // 3600 * 3600
        counts = hourly or [0] * 24
        stats = [[now - 3600 * (len(counts) - 1 - i), n] for i, n in enumerate(counts)]
        self.issues[issue_id] = {
            "event": latest_event,
            "status": "unresolved",
            "statusDetails": {},
            "stats": stats,
            "comments": [],
            "event_times": [],
        }

    def add_events(self, issue_id: str, *times: datetime) -> None:
        """Events of the issue that occurred at `times`."""
        self.issues[issue_id]["event_times"].extend(times)

    def add_release(
        self,
        version: str,
        project: str,
        commit: str | None = None,
        first_event: datetime | None = None,
        released: datetime | None = None,
    ) -> None:
        self.releases.insert(
            0,
            {
                "version": version,
                "projects": [{"id": int(project), "slug": f"project-{project}"}],
                "dateCreated": _iso(first_event or released or datetime.now(UTC)),
                "dateReleased": _iso(released) if released else None,
                "firstEvent": _iso(first_event) if first_event else None,
                "lastCommit": {"id": commit} if commit else None,
            },
        )

    def dispatch(self, request: Request) -> tuple[Any, ...]:
        self.requests_seen.append((request.method, request.path, time.monotonic()))
        if self.fail_next:
            status, headers = self.fail_next.pop(0)
            return status, {"detail": "failing on purpose"}, headers
        return super().dispatch(request)

    def _issue(self, org: str, issue: str) -> dict[str, Any] | None:
        return self.issues.get(issue) if org == self.organization else None

    def _organization(self, request: Request, org: str) -> tuple[int, Any]:
        if org != self.organization:
            return 404, {"detail": "The requested resource does not exist"}
        return 200, {"slug": org, "name": org}

    def _get_issue(self, request: Request, org: str, issue: str) -> tuple[int, Any]:
        found = self._issue(org, issue)
        if found is None:
            return 404, {"detail": "The requested resource does not exist"}
        period = request.arg("statsPeriod", "24h") or "24h"
        return 200, {
            "id": issue,
            "status": found["status"],
            "statusDetails": found["statusDetails"],
            "stats": {period: found["stats"]},
        }

    def _update_issue(self, request: Request, org: str, issue: str) -> tuple[int, Any]:
        found = self._issue(org, issue)
        if found is None:
            return 404, {"detail": "The requested resource does not exist"}
        if request.body.get("status") not in ("resolved", "unresolved", "ignored"):
            return 400, {"detail": f"invalid status {request.body.get('status')!r}"}
        found["status"] = request.body["status"]
        found["statusDetails"] = request.body.get("statusDetails", {})
        return 200, {"status": found["status"], "statusDetails": found["statusDetails"]}

    def _latest_event(self, request: Request, org: str, issue: str) -> tuple[int, Any]:
        found = self._issue(org, issue)
        if found is None:
            return 404, {"detail": "The requested resource does not exist"}
        return 200, found["event"]

    def _events(self, request: Request, org: str, issue: str) -> tuple[int, Any]:
        found = self._issue(org, issue)
        if found is None:
            return 404, {"detail": "The requested resource does not exist"}
        start, end = _arg_time(request, "start"), _arg_time(request, "end")
        times = sorted(
            (t for t in found["event_times"] if (not start or t >= start) and (not end or t < end)),
            reverse=True,
        )
        return _paged(
            request,
            [
                {"eventID": f"{n:032x}", "groupID": issue, "dateCreated": _iso(t)}
                for n, t in enumerate(times)
            ],
        )

    def _releases(self, request: Request, org: str) -> tuple[int, Any]:
        if org != self.organization:
            return 404, {"detail": "The requested resource does not exist"}
        project = request.arg("project")
        listed = [
            r
            for r in self.releases
            if not project or any(str(p["id"]) == project for p in r["projects"])
        ]
        return _paged(request, listed)

    def _comment(self, request: Request, org: str, issue: str) -> tuple[int, Any]:
        found = self._issue(org, issue)
        if found is None:
            return 404, {"detail": "The requested resource does not exist"}
        found["comments"].append(request.body["text"])
        return 201, {"id": str(len(found["comments"])), "data": {"text": request.body["text"]}}


def _paged(request: Request, items: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
    """One page of `items` at the request's cursor (`0:<offset>:0`), with Sentry's Link header."""
    cursor = request.arg("cursor") or "0:0:0"
    offset = int(cursor.split(":")[1])
    page = items[offset : offset + PAGE]
    previous, following = max(offset - PAGE, 0), offset + PAGE
    more = "true" if following < len(items) else "false"
    url = f"http://sentry.invalid{request.path}"
    link = (
        f'<{url}?cursor=0:{previous}:1>; rel="previous"; results="{str(offset > 0).lower()}"; '
        f'cursor="0:{previous}:1", '
        f'<{url}?cursor=0:{following}:0>; rel="next"; results="{more}"; cursor="0:{following}:0"'
    )
    return 200, page, {"Link": link}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _arg_time(request: Request, name: str) -> datetime | None:
    value = request.arg(name)
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

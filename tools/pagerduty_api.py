"""PagerDuty's REST API on httpx: an incident's alerts, and resolving an incident with a note
(`tools.rest` manners)."""

from __future__ import annotations

from typing import Any

from tools.rest import RestClient


class PagerDutyApi:
    def __init__(self, rest: RestClient, from_email: str) -> None:
        self.rest = rest
        self.from_email = from_email

    def alerts(self, incident_id: str) -> list[dict[str, Any]]:
        """The incident's alerts (first page of 100): their `body` holds the custom details
        and links the monitoring tool sent."""
        found = self.rest.request("GET", f"/incidents/{incident_id}/alerts", params={"limit": 100})
        alerts = (found or {}).get("alerts") or []
        return [alert for alert in alerts if isinstance(alert, dict)]

    def resolve(self, incident_id: str, note: str) -> None:
        """Add `note` to the incident and resolve it (already resolved is fine)."""
        headers = {"From": self.from_email}
        self.rest.request(
            "POST",
            f"/incidents/{incident_id}/notes",
            json={"note": {"content": note}},
            headers=headers,
        )
        self.rest.request(
            "PUT",
            f"/incidents/{incident_id}",
            json={"incident": {"type": "incident_reference", "status": "resolved"}},
            headers=headers,
        )

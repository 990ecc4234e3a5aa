"""A fake PagerDuty REST API: incident alerts, notes and status, for httpx and PagerDutyApi."""

from __future__ import annotations

from typing import Any

from tests.support.fakes.http import FakeServer, Request

INCIDENT = r"/incidents/(?P<incident>[A-Z0-9]+)"


class FakePagerDuty(FakeServer):
    def __init__(self) -> None:
        self.incidents: dict[str, dict[str, Any]] = {}
        super().__init__(
            [
                ("PUT", INCIDENT, self._update),
                ("GET", INCIDENT + "/alerts", self._alerts),
                ("POST", INCIDENT + "/notes", self._note),
                ("GET", "/abilities", lambda request: (200, {"abilities": ["teams"]})),
            ]
        )

    def add_incident(self, incident_id: str, alerts: list[dict[str, Any]] | None = None) -> None:
        self.incidents[incident_id] = {
            "status": "triggered",
            "notes": [],
            "by": [],
            "alerts": alerts or [],
        }

    def _alerts(self, request: Request, incident: str) -> tuple[int, Any]:
        found = self.incidents.get(incident)
        if found is None:
            return 404, {"error": {"message": "Incident Not Found", "code": 2100}}
        return 200, {"alerts": found["alerts"], "limit": 100, "offset": 0, "more": False}

    def _update(self, request: Request, incident: str) -> tuple[int, Any]:
        found = self.incidents.get(incident)
        if found is None:
            return 404, {"error": {"message": "Incident Not Found", "code": 2100}}
        found["status"] = request.body["incident"]["status"]
        return 200, {"incident": {"id": incident, "status": found["status"]}}

    def _note(self, request: Request, incident: str) -> tuple[int, Any]:
        found = self.incidents.get(incident)
        if found is None:
            return 404, {"error": {"message": "Incident Not Found", "code": 2100}}
        found["notes"].append(request.body["note"]["content"])
        return 201, {"note": {"id": str(len(found["notes"])), **request.body["note"]}}

"""What the console shows, read from the stored records: runs, the inbox, the error store, the
eval reports under the state directory. Nothing here calls an outside system."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import wiring
from agent.diagnosis.report import diagnosis_view
from agent.domain import Diagnosis, TestReport
from agent.errors import FixloopError, NotFound
from agent.ports import Inbox
from agent.service import runner
from agent.settings import Settings

PAGE_SIZE = 25
_REPORT_NAME = re.compile(r"^[\w.-]+\.json$")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    number: int
    pages: int
    total: int
    statuses: list[str]
    repositories: list[str]


class Records:
    def __init__(self, settings: Settings, inbox: Inbox, runs: runner.StatusReader) -> None:
        self.settings = settings
        self.inbox = inbox
        self.runs = runs

    def incidents(self, status: str, repository: str, page: int) -> Page:
        """The incidents, newest first, filtered by status and repository, one page of them."""
        every = self._incident_rows()
        rows = [
            row
            for row in every
            if (not status or row["status"] == status)
            and (not repository or row["repository"] == repository)
        ]
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        number = min(max(page, 1), pages)
        return Page(
            rows=rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE],
            number=number,
            pages=pages,
            total=len(rows),
            statuses=sorted({row["status"] for row in every}),
            repositories=sorted({row["repository"] for row in every if row["repository"]}),
        )

    def _incident_rows(self) -> list[dict[str, Any]]:
        received = {row["id"]: row for row in self.inbox.incidents(10_000)}
        errors = wiring.error_store(self.settings)
        rows = []
        for run in runner.list_incidents(self.settings):
            record = received.pop(run["incident"], None)
            seen = record or errors.seen(run["fingerprint"]) or {}
            rows.append(
                {
                    "id": run["incident"],
                    "title": run["title"],
                    "status": run["status"],
                    "repository": _repository(run["repo_table"], run["repo"]),
                    "first_seen": seen.get("first_seen"),
                    "last_seen": seen.get("last_seen"),
                    "count": seen.get("count"),
                    "ticket": run["ticket"],
                    "pr": run["pr"],
                }
            )
        for record in received.values():  # received, not run (yet, or not routed)
            rows.append(
                {
                    "id": record["id"],
                    "title": record["title"],
                    "status": record["outcome"] or ("queued" if record["open"] else "closed"),
                    "repository": self.settings.table_of_project(record["project"])
                    or record["project"]
                    or "",
                    "first_seen": record["first_seen"],
                    "last_seen": record["last_seen"],
                    "count": record["count"],
                    "ticket": None,
                    "pr": None,
                }
            )
        rows.sort(key=lambda row: row["first_seen"] or 0.0, reverse=True)
        return rows

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """One incident: its run as `fixloop status` shows it, with the whole diagnosis, the
        model runs, the unproven suggestion, and what the inbox and the error store hold."""
        received = self.inbox.incident(incident_id)
        try:
            run: dict[str, Any] | None = self.runs.status(incident_id)
        except NotFound:
            run = None
        if run is None and received is None:
            return None
        values = runner.incident_state(self.settings, incident_id) if run else {}
        diagnosis = values.get("diagnosis")
        fingerprint = (run or received or {}).get("fingerprint")
        seen = received if received and "count" in received else None
        if seen is None and fingerprint:
            seen = wiring.error_store(self.settings).seen(fingerprint)
        return {
            "id": incident_id,
            "run": run,
            "received": received,
            "seen": {key: (seen or {}).get(key) for key in ("first_seen", "last_seen", "count")},
            "repository": _repository(run["repo_table"], run["repo"]) if run else "",
            "diagnosis": diagnosis_view(Diagnosis.model_validate(diagnosis)) if diagnosis else None,
            "proof": (
                TestReport.model_validate(run["proof"]).model_dump(mode="json")
                if run and run.get("proof")
                else None
            ),
            "model_runs": values.get("model_runs") or [],
            "suggestion": values.get("suggestion"),
            "incident": values.get("incident"),
        }

    def health(self, worker_alive: bool | None) -> dict[str, Any]:
        stats = self.inbox.stats()
        by_status: dict[str, int] = {}
        for run in runner.list_incidents(self.settings):
            by_status[run["status"]] = by_status.get(run["status"], 0) + 1
        return {
            "worker": worker_alive,
            "queue": stats["jobs_queued"],
            "jobs": {state: stats[f"jobs_{state}"] for state in ("queued", "running", "failed")},
            "inbox": {name: stats[name] for name in ("deliveries", "incidents", "events")},
            "runs": dict(sorted(by_status.items())),
            "store": wiring.store_name(self.settings),
            "settings": masked_settings(self.settings),
        }


def masked_settings(settings: Settings) -> list[tuple[str, str]]:
    """The settings in force, as name and shown value: secrets are masked by their type
    (`**********`), and credentials inside a URL are cut out."""
    shown = []
    for name, value in settings.model_dump(mode="json").items():
        text = value if isinstance(value, str) else repr(value) if value is None else str(value)
        shown.append((name, _URL_CREDENTIALS.sub("***@", text)))
    return shown


def eval_reports(settings: Settings) -> list[dict[str, Any]]:
    """The eval runs under `<home>/evals/reports/` (one JSON report each), newest first."""
    from evals.compare import load_report

    folder = reports_dir(settings)
    found = []
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            summary = load_report(path)["summary"]
        except FixloopError:
            continue
        found.append({"name": path.name, "summary": summary})
    return found


def reports_dir(settings: Settings) -> Path:
    return settings.home / "evals" / "reports"


def eval_report(settings: Settings, name: str) -> dict[str, Any]:
    """One eval report by its file name; NotFound for a name that is no report there."""
    from evals.compare import load_report

    path = reports_dir(settings) / name
    if not _REPORT_NAME.match(name) or not path.is_file():
        raise NotFound(f"no eval report {name}")
    try:
        return load_report(path)
    except FixloopError as error:
        raise NotFound(str(error)) from None


def _repository(table: str | None, repo: str | None) -> str:
    return table or (Path(repo).name if repo else "")

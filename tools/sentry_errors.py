"""The error source when Sentry holds the issues: local event store plus Sentry's REST API.

Events that reach fixloop (webhooks, ingest) are kept in the local store as before; the Sentry
issue each fingerprint belongs to is remembered from the payload (`issue_id` of a webhook
event, `groupID` of a REST event). For a known issue, counts come from Sentry too (it sees
every event, fixloop only the alerted ones): the larger of the two counts wins. Releases are
Sentry's releases of the project joined with those the local events named, with the commit
Sentry knows for them. Resolving also resolves the issue in Sentry in the next release, with a
comment.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.domain import Incident, Release
from tools.error_store import LocalErrorStore
from tools.sentry_api import SentryApi
from tools.store.database import Database, database_of
from tools.store.tables import sentry_issues

RESOLVED_COMMENT = "fixloop verified the merged fix: resolved in the next release."


class SentryErrorSource:
    def __init__(self, local: LocalErrorStore, api: SentryApi, db: Database | Path) -> None:
        self.local = local
        self.api = api
        self.db = database_of(db, "records")

    def record(self, incident: Incident, payload: dict[str, Any]) -> bool:
        issue_id = sentry_issue_id(payload)
        if issue_id is not None:
            upsert = self.db.insert(sentry_issues).values(
                fingerprint=incident.fingerprint, issue_id=issue_id
            )
            with self.db.transaction() as db:
                db.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["fingerprint"], set_={"issue_id": issue_id}
                    )
                )
        return self.local.record(incident, payload)

    def events_since(self, fingerprint: str, since: datetime) -> int:
        local = self.local.events_since(fingerprint, since)
        issue_id = self.issue_for(fingerprint)
        return local if issue_id is None else max(local, self.api.events_since(issue_id, since))

    def events_between(self, fingerprint: str, start: datetime, end: datetime) -> int:
        local = self.local.events_between(fingerprint, start, end)
        issue_id = self.issue_for(fingerprint)
        if issue_id is None:
            return local
        return max(local, len(self.api.event_times(issue_id, start, end)))

    def releases(self, project: str | None) -> list[Release]:
        seen = {release.version: release for release in self.local.releases(project)}
        for release in self.api.releases(project) if project else []:
            known = seen.get(release.version)
            if known is not None and known.first_seen < release.first_seen:
                release = release.model_copy(update={"first_seen": known.first_seen})
            seen[release.version] = release
        return sorted(seen.values(), key=lambda release: release.first_seen)

    def resolve(self, fingerprint: str) -> None:
        self.local.resolve(fingerprint)
        issue_id = self.issue_for(fingerprint)
        if issue_id is not None:
            self.api.resolve_in_next_release(issue_id)
            self.api.comment(issue_id, RESOLVED_COMMENT)

    def issue_for(self, fingerprint: str) -> str | None:
        query = select(sentry_issues.c.issue_id).where(sentry_issues.c.fingerprint == fingerprint)
        with self.db.transaction() as db:
            issue_id = db.execute(query).scalar()
        return None if issue_id is None else str(issue_id)


def sentry_issue_id(payload: dict[str, Any]) -> str | None:
    data = payload.get("data")
    event = data.get("event") if isinstance(data, dict) else None
    source = event if isinstance(event, dict) else payload
    value = source.get("issue_id") or source.get("groupID")
    return str(value) if value else None

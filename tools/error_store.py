"""The embedded error source: events and resolutions in fixloop's store (SQLite or PostgreSQL).

Written from the intake server's threads and read from the main thread; the database's pooled
connections make it safe to share. An event is keyed by its event id; an incident without one
(a test failure) is keyed by its incident id, which comes from its fingerprint. The release each
event names is kept beside it, so verify can tell when a release was first seen.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from agent.domain import Incident, Release
from tools.store.database import Database, database_of
from tools.store.tables import events, resolutions


class LocalErrorStore:
    """`agent.ports.ErrorSource` over the store, safe to share between threads."""

    def __init__(self, db: Database | Path) -> None:
        self.db = database_of(db, "records")
        self._add_event = self.db.insert(events).on_conflict_do_nothing().returning(events.c.id)

    def record(self, incident: Incident, payload: dict[str, Any]) -> bool:
        """Store an incident's event; False when that event was already stored."""
        row = {
            "event_id": incident.event_id or incident.id,
            "incident_id": incident.id,
            "fingerprint": incident.fingerprint,
            "project": incident.project,
            "received_at": _epoch(incident.received_at),
            "payload": json.dumps(payload, ensure_ascii=False),
            "release": incident.release,
        }
        with self.db.transaction() as db:
            return db.execute(self._add_event, row).first() is not None

    def events_since(self, fingerprint: str, since: datetime) -> int:
        """How many events with this fingerprint arrived after `since`."""
        return self._count(
            events.c.fingerprint == fingerprint, events.c.received_at > _epoch(since)
        )

    def events_between(self, fingerprint: str, start: datetime, end: datetime) -> int:
        """How many events with this fingerprint arrived in [start, end)."""
        return self._count(
            events.c.fingerprint == fingerprint,
            events.c.received_at >= _epoch(start),
            events.c.received_at < _epoch(end),
        )

    def seen(self, fingerprint: str) -> dict[str, Any] | None:
        """When events with this fingerprint arrived, first and last (epoch seconds), and how
        many; None when none did."""
        query = select(
            func.min(events.c.received_at), func.max(events.c.received_at), func.count()
        ).where(events.c.fingerprint == fingerprint)
        with self.db.transaction() as db:
            first, last, count = db.execute(query).one()
        return None if not count else {"first_seen": first, "last_seen": last, "count": count}

    def releases(self, project: str | None) -> list[Release]:
        """The releases the events of `project` (any fingerprint) named, first seen first."""
        first = func.min(events.c.received_at).label("first")
        query = (
            select(events.c.release, first)
            .where(events.c.project.is_not_distinct_from(project), events.c.release.is_not(None))
            .group_by(events.c.release)
            .order_by(first)
        )
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [
            Release(version=version, first_seen=datetime.fromtimestamp(seen, UTC))
            for version, seen in rows
        ]

    def count(self, fingerprint: str) -> int:
        """How many events with this fingerprint are stored."""
        return self._count(events.c.fingerprint == fingerprint)

    def resolve(self, fingerprint: str) -> None:
        """Mark the issue with this fingerprint resolved now (again, if it already was)."""
        now = _epoch(datetime.now(UTC))
        upsert = self.db.insert(resolutions).values(fingerprint=fingerprint, resolved_at=now)
        with self.db.transaction() as db:
            db.execute(
                upsert.on_conflict_do_update(
                    index_elements=["fingerprint"], set_={"resolved_at": now}
                )
            )

    def resolved_at(self, fingerprint: str) -> datetime | None:
        """When the issue with this fingerprint was last resolved, or None."""
        query = select(resolutions.c.resolved_at).where(resolutions.c.fingerprint == fingerprint)
        with self.db.transaction() as db:
            seen = db.execute(query).scalar()
        return None if seen is None else datetime.fromtimestamp(seen, UTC)

    def latest(self, project: str | None = None) -> dict[str, Any] | None:
        """The newest stored payload, of one project when given."""
        query = select(events.c.payload)
        if project is not None:
            query = query.where(events.c.project == project)
        query = query.order_by(events.c.received_at.desc(), events.c.id.desc()).limit(1)
        with self.db.transaction() as db:
            text = db.execute(query).scalar()
        return None if text is None else _payload(text)

    def get(self, event_id: str) -> dict[str, Any] | None:
        """The stored payload of one event, or None."""
        with self.db.transaction() as db:
            query = select(events.c.payload).where(events.c.event_id == event_id)
            text = db.execute(query).scalar()
        return None if text is None else _payload(text)

    def close(self) -> None:
        """Nothing to release: the database keeps its pool for the process."""

    def _count(self, *conditions: Any) -> int:
        with self.db.transaction() as db:
            return int(db.execute(select(func.count()).where(*conditions)).scalar_one())


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _payload(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"stored payload is {type(value).__name__}, not a JSON object")
    return value

"""The server's durable inbox and work queue in fixloop's store (`agent.ports.Inbox`).

SQLite (WAL, `synchronous=NORMAL`) or PostgreSQL: a delivery is committed before the server
answers, and survives a killed process. Every admission is one transaction, so a delivery is
either fully recorded (delivery id, incident count, job) or not; admissions of one fingerprint
run one after the other, and a job is claimed by one worker only.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, literal, select, update

from agent.domain import INCIDENT_LEASE, Admission, Incident, Job
from tools import leases as lease
from tools.store.database import Database, database_of
from tools.store.tables import deliveries, incidents, jobs, leases, notes

_OPEN = incidents.c.is_open != 0


class SqlInbox:
    def __init__(self, db: Database | Path) -> None:
        self.db = database_of(db, "inbox")
        # The statements of an admission, built once: the server runs them for every request.
        by_fingerprint = incidents.c.fingerprint == bindparam("b_fingerprint")
        self._add_delivery = (
            self.db.insert(deliveries).on_conflict_do_nothing().returning(deliveries.c.delivery_id)
        )
        self._open_of = select(incidents.c.incident_id).where(by_fingerprint, _OPEN)
        self._repeat = (
            update(incidents)
            .where(by_fingerprint, _OPEN)
            .values(count=incidents.c.count + 1, last_seen=bindparam("b_now"))
            .returning(incidents.c.incident_id, incidents.c.count)
        )
        opened = self.db.insert(incidents)
        self._open_incident = opened.on_conflict_do_update(  # a closed incident seen again
            index_elements=["incident_id"],
            set_={
                "is_open": 1,
                "count": incidents.c.count + 1,
                "last_seen": opened.excluded.last_seen,
            },
        )

    def close(self) -> None:
        """Nothing to release: the database keeps its pool for the process."""

    def admit_event(
        self, source: str, delivery_id: str, incident: Incident, payload: dict[str, Any], job: str
    ) -> Admission:
        now = time.time()
        with self.db.transaction(serialize=f"incident:{incident.fingerprint}") as db:
            if not self._new_delivery(db, source, delivery_id, incident.id, now):
                open_id = db.execute(self._open_of, {"b_fingerprint": incident.fingerprint})
                return Admission(outcome="duplicate_delivery", incident_id=open_id.scalar())
            row = db.execute(
                self._repeat, {"b_fingerprint": incident.fingerprint, "b_now": now}
            ).first()
            if row is not None:
                return Admission(outcome="repeat", incident_id=row[0], count=row[1])
            db.execute(
                self._open_incident,
                {
                    "incident_id": incident.id,
                    "fingerprint": incident.fingerprint,
                    "source": incident.source,
                    "project": incident.project,
                    "title": incident.title,
                    "count": 1,
                    "first_seen": now,
                    "last_seen": now,
                },
            )
            _enqueue(db, job, incident.id, payload, now)
            return Admission(outcome="new", incident_id=incident.id, count=1)

    def admit_note(
        self,
        source: str,
        delivery_id: str,
        incident_id: str | None,
        kind: str,
        detail: dict[str, Any],
        job: str | None = None,
        delay: float = 0.0,
    ) -> Admission:
        now = time.time()
        with self.db.transaction() as db:
            if not self._new_delivery(db, source, delivery_id, incident_id, now):
                return Admission(outcome="duplicate_delivery", incident_id=incident_id)
            db.execute(
                notes.insert().values(
                    incident_id=incident_id,
                    source=source,
                    kind=kind,
                    detail=json.dumps(detail),
                    at=now,
                )
            )
            if job is not None and incident_id is not None:
                _enqueue(db, job, incident_id, detail, now, not_before=now + delay)
            return Admission(outcome="recorded", incident_id=incident_id)

    def claim(
        self, kind: str | None = None, holder: str | None = None, lease_seconds: float = 0.0
    ) -> Job | None:
        now = time.time()
        oldest = (
            select(jobs.c.id)
            .where(jobs.c.state == "queued", jobs.c.not_before <= now)
            .order_by(jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if kind is not None:
            oldest = oldest.where(jobs.c.kind == kind)
        if holder is not None:
            oldest = oldest.where(~_leased(now, holder))
        claim = (
            update(jobs)
            .where(jobs.c.id == oldest.scalar_subquery(), jobs.c.state == "queued")
            .values(state="running", attempts=jobs.c.attempts + 1, updated_at=now)
            .returning(*_JOB_COLUMNS)
        )
        try:
            with self.db.transaction() as db:
                row = db.execute(claim).first()
                if row is not None and holder is not None:
                    name = INCIDENT_LEASE + row.incident_id
                    if not lease.take(self.db, db, name, holder, now, now + lease_seconds):
                        raise _Busy  # another worker took the incident meanwhile: roll back
        except _Busy:
            return None
        return None if row is None else _job(row)

    def job(self, job_id: int) -> tuple[str, Job] | None:
        """A job and its state (`queued`, `sent`, `running`, `done`, `failed`)."""
        with self.db.transaction() as db:
            row = db.execute(select(*_JOB_COLUMNS, jobs.c.state).where(jobs.c.id == job_id)).first()
        return None if row is None else (row.state, _job(row))

    def take(self, job_id: int, holder: str, lease_seconds: float) -> tuple[str, Job | None]:
        """Start job `job_id` under `holder`'s lease on its incident (a worker of a broker
        carries it): `taken` with the job, else `settled` (done, failed or unknown) or `busy`
        (another holder's lease on the incident has not expired)."""
        now = time.time()
        with self.db.transaction(serialize=f"job:{job_id}") as db:
            row = db.execute(select(jobs.c.state, jobs.c.incident_id).where(jobs.c.id == job_id))
            found = row.first()
            if found is None or found.state in ("done", "failed"):
                return "settled", None
            name = INCIDENT_LEASE + found.incident_id
            if not lease.take(self.db, db, name, holder, now, now + lease_seconds):
                return "busy", None
            started = db.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(state="running", attempts=jobs.c.attempts + 1, updated_at=now)
                .returning(*_JOB_COLUMNS)
            ).one()
        return "taken", _job(started)

    def due(self, limit: int = 100) -> list[Job]:
        """Queued jobs that are due, oldest first, to hand to a broker (`mark_sent` after)."""
        query = (
            select(*_JOB_COLUMNS)
            .where(jobs.c.state == "queued", jobs.c.not_before <= time.time())
            .order_by(jobs.c.id)
            .limit(limit)
        )
        with self.db.transaction() as db:
            return [_job(row) for row in db.execute(query)]

    def mark_sent(self, job_ids: list[int]) -> None:
        """The broker holds these jobs now (a job started meanwhile keeps its state)."""
        with self.db.transaction() as db:
            db.execute(
                update(jobs)
                .where(jobs.c.id.in_(job_ids), jobs.c.state == "queued")
                .values(state="sent", updated_at=time.time())
            )

    def queue_stats(self) -> list[tuple[str, str, int, float]]:
        """(kind, state, jobs, oldest created_at) for every kind and state of job."""
        query = select(
            jobs.c.kind, jobs.c.state, func.count(), func.min(jobs.c.created_at)
        ).group_by(jobs.c.kind, jobs.c.state)
        with self.db.transaction() as db:
            return [(r[0], r[1], int(r[2]), float(r[3])) for r in db.execute(query)]

    def outcomes(self) -> dict[str | None, int]:
        """Incidents by the outcome of their last job (None: not settled yet)."""
        query = select(incidents.c.outcome, func.count()).group_by(incidents.c.outcome)
        with self.db.transaction() as db:
            return {outcome: int(count) for outcome, count in db.execute(query)}

    def finish(self, job_id: int, outcome: str, *, close_incident: bool = False) -> None:
        self._settle(job_id, "done", outcome, close_incident)

    def fail(self, job_id: int, error: str) -> None:
        self._settle(job_id, "failed", error, False)

    def requeue_running(self) -> int:
        """Put back in the queue the running jobs whose incident no live lease covers: their
        worker died. A job a live worker (here or on another host) carries stays running."""
        now = time.time()
        with self.db.transaction() as db:
            requeued = (
                update(jobs)
                .where(jobs.c.state == "running", ~_leased(now))
                .values(state="queued", updated_at=now)
            )
            return len(db.execute(requeued.returning(jobs.c.id)).all())

    def incidents(
        self,
        limit: int = 100,
        *,
        is_open: bool | None = None,
        project: str | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]:
        """The newest incidents first, only those open (or closed), of a project or a source
        when asked."""
        query = select(incidents).order_by(incidents.c.first_seen.desc()).limit(limit)
        if is_open is not None:
            query = query.where(incidents.c.is_open == int(is_open))
        if project is not None:
            query = query.where(incidents.c.project == project)
        if source is not None:
            query = query.where(incidents.c.source == source)
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [_incident(row) for row in rows]

    def close_incident(self, incident_id: str, outcome: str) -> bool:
        """Close an open incident by hand and settle its queued jobs with `outcome`, so the
        next event of its error is a new incident; False when it was not open."""
        now = time.time()
        with self.db.transaction() as db:
            closed = db.execute(
                update(incidents)
                .where(incidents.c.incident_id == incident_id, incidents.c.is_open == 1)
                .values(is_open=0, outcome=outcome)
            ).rowcount
            if closed:
                db.execute(
                    update(jobs)
                    .where(jobs.c.incident_id == incident_id, jobs.c.state == "queued")
                    .values(state="done", outcome=outcome, updated_at=now)
                )
        return bool(closed)

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """The incident with its notes and jobs; only those for an incident fixloop did not
        receive itself (a run started from the CLI that a webhook is about)."""
        with self.db.transaction() as db:
            row = db.execute(
                select(incidents).where(incidents.c.incident_id == incident_id)
            ).first()
            found_notes = db.execute(
                select(notes.c.source, notes.c.kind, notes.c.detail, notes.c.at)
                .where(notes.c.incident_id == incident_id)
                .order_by(notes.c.id)
            ).all()
            found_jobs = db.execute(
                select(jobs.c.id, jobs.c.kind, jobs.c.state, jobs.c.attempts, jobs.c.outcome)
                .where(jobs.c.incident_id == incident_id)
                .order_by(jobs.c.id)
            ).all()
        if row is None and not found_notes and not found_jobs:
            return None
        known = _incident(row) if row is not None else {"id": incident_id}
        return known | {
            "notes": [
                dict(note._mapping) | {"detail": json.loads(note.detail)} for note in found_notes
            ],
            "jobs": [dict(job._mapping) for job in found_jobs],
        }

    def open_incident_of_project(self, project: str) -> str | None:
        """The most recently seen open incident reported by `project`."""
        query = (
            select(incidents.c.incident_id)
            .where(incidents.c.project == project, _OPEN, incidents.c.source != "pagerduty")
            .order_by(incidents.c.last_seen.desc())
            .limit(1)
        )
        with self.db.transaction() as db:
            found = db.execute(query).scalar()
        return None if found is None else str(found)

    def stats(self) -> dict[str, int]:
        job_counts = select(jobs.c.state, func.count()).group_by(jobs.c.state)
        with self.db.transaction() as db:
            delivered = db.execute(select(func.count()).select_from(deliveries)).scalar_one()
            known, events = db.execute(
                select(func.count(), func.coalesce(func.sum(incidents.c.count), 0))
            ).one()
            by_state = {state: count for state, count in db.execute(job_counts)}
        return {
            "deliveries": int(delivered),
            "incidents": int(known),
            "events": int(events),
        } | {f"jobs_{state}": int(by_state.get(state, 0)) for state in _JOB_STATES}

    def _settle(self, job_id: int, state: str, outcome: str, close_incident: bool) -> None:
        with self.db.transaction() as db:
            incident_id = db.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(state=state, outcome=outcome, updated_at=time.time())
                .returning(jobs.c.incident_id)
            ).scalar()
            if incident_id is not None:
                settled: dict[str, Any] = {"outcome": outcome}
                if close_incident:
                    settled["is_open"] = 0
                db.execute(
                    update(incidents)
                    .where(incidents.c.incident_id == incident_id)
                    .values(**settled)
                )

    def _new_delivery(
        self,
        db: Connection,
        source: str,
        delivery_id: str,
        incident_id: str | None,
        now: float,
    ) -> bool:
        row = {
            "source": source,
            "delivery_id": delivery_id,
            "incident_id": incident_id,
            "received_at": now,
        }
        return db.execute(self._add_delivery, row).first() is not None


_JOB_STATES = ("queued", "sent", "running", "done", "failed")
_JOB_COLUMNS = (jobs.c.id, jobs.c.kind, jobs.c.incident_id, jobs.c.payload, jobs.c.attempts)


class _Busy(Exception):
    """A claimed job's incident is leased by another worker: the claim is rolled back."""


def _leased(now: float, other_than: str | None = None) -> Any:
    """Whether a live lease covers the job's incident (one not held by `other_than`)."""
    live = select(leases.c.name).where(
        leases.c.name == literal(INCIDENT_LEASE) + jobs.c.incident_id, leases.c.expires_at >= now
    )
    if other_than is not None:
        live = live.where(leases.c.holder != other_than)
    return live.exists()


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        incident_id=row.incident_id,
        payload=json.loads(row.payload),
        attempts=row.attempts,
    )


_ADD_JOB = jobs.insert()


def _enqueue(
    db: Connection,
    kind: str,
    incident_id: str,
    payload: dict[str, Any],
    now: float,
    not_before: float = 0.0,
) -> None:
    db.execute(
        _ADD_JOB,
        {
            "kind": kind,
            "incident_id": incident_id,
            "payload": json.dumps(payload, ensure_ascii=False),
            "not_before": not_before,
            "created_at": now,
            "updated_at": now,
        },
    )


def _incident(found: Row[Any]) -> dict[str, Any]:
    row = found._mapping
    return {
        "id": row["incident_id"],
        "fingerprint": row["fingerprint"],
        "source": row["source"],
        "project": row["project"],
        "title": row["title"],
        "count": row["count"],
        "open": bool(row["is_open"]),
        "outcome": row["outcome"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
    }

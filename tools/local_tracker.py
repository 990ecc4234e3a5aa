"""Tickets in fixloop's own store (SQLite or PostgreSQL): the stand-in for Jira or GitHub Issues.

Idempotent by design: one open ticket per fingerprint, one comment per comment key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Row, or_, select, update

from agent.domain import Incident, Ticket, utcnow
from agent.errors import NotFound
from tools.store.database import Database, database_of
from tools.store.tables import ticket_comments, tickets

OPEN_STATUSES = ("open", "in_review", "reopened")


class LocalTracker:
    def __init__(self, db: Database | Path) -> None:
        self.db = database_of(db, "records")

    def find_open(self, fingerprint: str) -> Ticket | None:
        query = (
            select(tickets)
            .where(tickets.c.fingerprint == fingerprint, tickets.c.status.in_(OPEN_STATUSES))
            .order_by(tickets.c.n)
            .limit(1)
        )
        with self.db.transaction() as db:
            row = db.execute(query).first()
        return _ticket(row) if row else None

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket:
        query = (
            select(tickets)
            .where(
                or_(
                    tickets.c.incident_id == incident.id,
                    (tickets.c.fingerprint == incident.fingerprint)
                    & tickets.c.status.in_(OPEN_STATUSES),
                )
            )
            .order_by(tickets.c.n)
            .limit(1)
        )
        with self.db.transaction(serialize=f"ticket:{incident.fingerprint}") as db:
            row = db.execute(query).first()
            if row is None:
                now = utcnow().isoformat()
                row = db.execute(
                    tickets.insert()
                    .values(
                        fingerprint=incident.fingerprint,
                        incident_id=incident.id,
                        title=title,
                        body=body,
                        status="open",
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*tickets.c)
                ).one()
        return _ticket(row)

    def get(self, key: str) -> Ticket:
        with self.db.transaction() as db:
            row = db.execute(select(tickets).where(tickets.c.n == _number(key))).first()
        if row is None:
            raise NotFound(f"no ticket {key}")
        return _ticket(row)

    def all(self) -> list[Ticket]:
        with self.db.transaction() as db:
            rows = db.execute(select(tickets).order_by(tickets.c.n)).all()
        return [_ticket(row) for row in rows]

    def comment(self, key: str, comment_key: str, body: str) -> None:
        ticket = self.get(key)
        with self.db.transaction() as db:
            db.execute(
                self.db.insert(ticket_comments)
                .values(
                    ticket_n=_number(ticket.key),
                    comment_key=comment_key,
                    body=body,
                    created_at=utcnow().isoformat(),
                )
                .on_conflict_do_nothing()
            )

    def comments(self, key: str) -> list[str]:
        query = (
            select(ticket_comments.c.body)
            .where(ticket_comments.c.ticket_n == _number(key))
            .order_by(ticket_comments.c.id)
        )
        with self.db.transaction() as db:
            return list(db.execute(query).scalars())

    def transition(self, key: str, status: str) -> Ticket:
        return self._update(key, status=status)

    def close(self, key: str, resolution: str) -> Ticket:
        return self._update(key, status="closed", resolution=resolution)

    def _update(self, key: str, **fields: str) -> Ticket:
        self.get(key)
        with self.db.transaction() as db:
            db.execute(
                update(tickets)
                .where(tickets.c.n == _number(key))
                .values(**fields, updated_at=utcnow().isoformat())
            )
        return self.get(key)


def _number(key: str) -> int:
    prefix, _, digits = key.partition("-")
    if prefix != "FIX" or not digits.isdigit():
        raise NotFound(f"no ticket {key!r}: local tickets are named FIX-<number>")
    return int(digits)


def _ticket(row: Row[Any]) -> Ticket:
    r = row._mapping
    return Ticket(
        key=f"FIX-{r['n']}",
        fingerprint=r["fingerprint"],
        incident_id=r["incident_id"],
        title=r["title"],
        body=r["body"],
        status=r["status"],
        resolution=r["resolution"],
    )

"""The operator controls in the records store: pauses, the decisions log, the model spend.

One table each; every process on the same store (the server, its workers, the CLI) sees the
same switch, so a pause holds across restarts and hosts.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from agent.domain import ControlEntry, Pause
from tools.store.database import Database, database_of
from tools.store.tables import control_log, model_spend, pauses


class SqlControls:
    def __init__(self, db: Database | Path) -> None:
        self.db = database_of(db, "records")

    def pause(self, scope: str, by: str, reason: str) -> Pause:
        with self.db.transaction() as db:
            db.execute(
                self.db.insert(pauses)
                .values(scope=scope, since=time.time(), paused_by=by, reason=reason)
                .on_conflict_do_nothing()
            )
            row = db.execute(select(pauses).where(pauses.c.scope == scope)).one()
        return _pause(row._mapping)

    def unpause(self, scope: str) -> Pause | None:
        with self.db.transaction() as db:
            row = db.execute(select(pauses).where(pauses.c.scope == scope)).first()
            db.execute(delete(pauses).where(pauses.c.scope == scope))
        return _pause(row._mapping) if row else None

    def pauses(self) -> list[Pause]:
        with self.db.transaction() as db:
            rows = db.execute(select(pauses).order_by(pauses.c.since)).all()
        return [_pause(row._mapping) for row in rows]

    def log(
        self, key: str, kind: str, scope: str, incident_id: str | None, detail: dict[str, Any]
    ) -> bool:
        values = {
            "key": key,
            "at": time.time(),
            "kind": kind,
            "scope": scope,
            "incident_id": incident_id,
            "detail": json.dumps(detail, default=str),
        }
        insert = self.db.insert(control_log).values(values).on_conflict_do_nothing()
        with self.db.transaction() as db:
            return db.execute(insert.returning(control_log.c.id)).first() is not None

    def entries(self, incident_id: str | None = None, limit: int = 200) -> list[ControlEntry]:
        query = select(control_log).order_by(control_log.c.id.desc()).limit(limit)
        if incident_id is not None:
            query = query.where(control_log.c.incident_id == incident_id)
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [_entry(row._mapping) for row in reversed(rows)]

    def counts(self) -> dict[str, int]:
        query = select(control_log.c.kind, func.count()).group_by(control_log.c.kind)
        with self.db.transaction() as db:
            return {kind: int(count) for kind, count in db.execute(query).all()}

    def record_spend(
        self, key: str, scope: str, incident_id: str, cost_usd: float, at: datetime
    ) -> None:
        values = {
            "key": key,
            "scope": scope,
            "incident_id": incident_id,
            "cost_usd": cost_usd,
            "at": at.timestamp(),
        }
        with self.db.transaction() as db:
            db.execute(self.db.insert(model_spend).values(values).on_conflict_do_nothing())

    def spend_since(self, since: datetime, scope: str | None = None) -> float:
        query = select(func.coalesce(func.sum(model_spend.c.cost_usd), 0.0)).where(
            model_spend.c.at >= since.timestamp()
        )
        if scope is not None:
            query = query.where(model_spend.c.scope == scope)
        with self.db.transaction() as db:
            return float(db.execute(query).scalar_one())


def _pause(row: Any) -> Pause:
    return Pause(
        scope=row["scope"],
        since=datetime.fromtimestamp(row["since"], UTC),
        by=row["paused_by"],
        reason=row["reason"],
    )


def _entry(row: Any) -> ControlEntry:
    return ControlEntry(
        key=row["key"],
        at=datetime.fromtimestamp(row["at"], UTC),
        kind=row["kind"],
        scope=row["scope"],
        incident_id=row["incident_id"],
        detail=json.loads(row["detail"]),
    )

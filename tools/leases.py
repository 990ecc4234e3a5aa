"""Leases in fixloop's store (`agent.ports.Leases`): a named thing is carried by one holder
until its lease expires or is released, across processes and hosts.

One statement takes a lease: an INSERT that, on a name already leased, takes it over only when
the lease expired or is the taker's own (a renewal). SQLite runs it alone; PostgreSQL locks the
row it conflicts on. So two takers never both win, on either database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, delete, select

from tools.store.database import Database
from tools.store.tables import leases


def take(db: Database, conn: Connection, name: str, holder: str, now: float, until: float) -> bool:
    """In the transaction `conn`: take (or renew) the lease on `name` until `until`; False when
    another holder's lease has not expired at `now`."""
    taking: Any = db.insert(leases).values(name=name, holder=holder, expires_at=until)
    taking = taking.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": taking.excluded.holder, "expires_at": taking.excluded.expires_at},
        where=(leases.c.expires_at < now) | (leases.c.holder == holder),
    ).returning(leases.c.name)
    return conn.execute(taking).first() is not None


class SqlLeases:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take (or renew) the lease on `name` for `seconds`; False when another holds it."""
        now = self.clock()
        with self.db.transaction() as conn:
            return take(self.db, conn, name, holder, now, now + seconds)

    def release(self, name: str, holder: str) -> None:
        """Give up the lease on `name` if `holder` still holds it."""
        with self.db.transaction() as db:
            db.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))

    def holder(self, name: str) -> str | None:
        """Who holds an unexpired lease on `name`, if anyone."""
        query = select(leases.c.holder).where(
            leases.c.name == name, leases.c.expires_at >= self.clock()
        )
        with self.db.transaction() as db:
            found = db.execute(query).scalar()
        return None if found is None else str(found)

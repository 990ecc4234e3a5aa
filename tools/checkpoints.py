"""LangGraph's checkpointer: SQLite in the state directory, or PostgreSQL through a pool.

PostgreSQL: `langgraph-checkpoint-postgres` over a psycopg 3 connection pool kept for the
process (opened once per URL, its tables set up then), so each run borrows a connection
instead of opening one. `threads()` lists the runs the checkpointer holds, oldest first, by the
id of each thread's first checkpoint (a time-ordered uuid6) with one statement on both.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.errors import StoreError
from tools.store.database import MIGRATION_LOCK, libpq_url, shown

if TYPE_CHECKING:  # PostgreSQL's clients are imported when a PostgreSQL store is opened
    from psycopg_pool import ConnectionPool

THREADS = (
    "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' "
    "GROUP BY thread_id ORDER BY MIN(checkpoint_id)"
)
POOL_SIZE = 10
CONNECT_SECONDS = 10


class Checkpoints:
    """The checkpointer a graph is compiled with, and the threads (runs) it holds."""

    def __init__(self, saver: BaseCheckpointSaver[Any], threads: Callable[[], list[str]]) -> None:
        self.saver = saver
        self._threads = threads

    def threads(self) -> list[str]:
        return self._threads()


@contextmanager
def open_checkpoints(target: Path | str) -> Iterator[Checkpoints]:
    """The checkpoints in the SQLite file `target`, or in the PostgreSQL database at URL
    `target`."""
    if isinstance(target, str):
        from langgraph.checkpoint.postgres import PostgresSaver

        pool = _pool(libpq_url(target))
        yield Checkpoints(PostgresSaver(pool), lambda: _pg_threads(pool))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(target, check_same_thread=False)) as conn:
        saver = SqliteSaver(conn)
        saver.setup()
        yield Checkpoints(saver, lambda: [row[0] for row in conn.execute(THREADS)])


def _pg_threads(pool: ConnectionPool[Any]) -> list[str]:
    with pool.connection() as conn:
        return [row["thread_id"] for row in conn.execute(THREADS)]


_pools: dict[str, ConnectionPool[Any]] = {}
_pools_lock = threading.Lock()


def _pool(conninfo: str) -> ConnectionPool[Any]:
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get(conninfo)
        if pool is None:
            try:  # one connection first: a clear error now, not a pool retrying in the background
                psycopg.connect(conninfo, connect_timeout=CONNECT_SECONDS).close()
            except psycopg.OperationalError as error:
                reason = " ".join(line.strip() for line in str(error).splitlines())
                raise StoreError(
                    f"cannot open the checkpoints at {shown(conninfo)}: {reason}"
                ) from None
            pool = ConnectionPool(
                conninfo,
                min_size=1,
                max_size=POOL_SIZE,
                kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
                open=True,
            )
            _setup(pool)
            _pools[conninfo] = pool
        return pool


def _setup(pool: ConnectionPool[Any]) -> None:
    """Create or migrate LangGraph's tables, one process at a time."""
    from langgraph.checkpoint.postgres import PostgresSaver

    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            PostgresSaver(conn).setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def close_checkpoints(url: str) -> None:
    """Close the pool of the PostgreSQL checkpoints at `url`, if this process opened one."""
    with _pools_lock:
        pool = _pools.pop(libpq_url(url), None)
    if pool is not None:
        pool.close()


def _forget_parent_pools() -> None:
    """In a forked child: the parent's pools (their connections and threads) are not ours."""
    global _pools_lock
    _pools_lock = threading.Lock()
    _pools.clear()


os.register_at_fork(after_in_child=_forget_parent_pools)


@atexit.register
def _close_pools() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.close()
        _pools.clear()

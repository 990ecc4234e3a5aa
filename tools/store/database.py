"""Open fixloop's records on SQLite or PostgreSQL, migrated to the newest revision.

The same SQLAlchemy Core statements run on both. SQLite is the embedded default, a file in the
state directory: WAL, `synchronous=NORMAL` (a committed write survives the process dying, not
the machine losing power), and every transaction takes the write lock when it begins
(`BEGIN IMMEDIATE`), so two writers never deadlock upgrading a read. PostgreSQL is named by a
`postgresql://` URL; its `options` parameter may set a `search_path` to keep fixloop in a schema.

A database is opened once per process and URL: the engine (with its connection pool) is kept,
and the Alembic revisions of its branch are applied then, under a lock, so processes starting
together migrate once.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from agent.errors import ConfigError, StoreError

Branch = Literal["records", "inbox"]

MIGRATIONS = Path(__file__).parent / "migrations"
HEADS: dict[str, str] = {"records": "r0003", "inbox": "i0003"}
"""The newest revision of each branch (a test checks it against `migrations/versions/`): a store
already there is opened without loading Alembic."""
MIGRATION_LOCK = 0x66786C70  # "fxlp": the advisory lock PostgreSQL migrations are taken under
OPEN_ENGINES = 32  # engines kept per process; the oldest idle pool is closed beyond that


class Database:
    """One migrated database: transactions, and the dialect's INSERT (for ON CONFLICT)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, serialize: str | None = None) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        `serialize`: transactions given the same key run one after the other (a read that
        decides a write, like "is there an open ticket for this fingerprint?"). SQLite runs
        every write transaction alone already; PostgreSQL takes an advisory lock on the key.
        """
        with self.engine.begin() as conn:
            if serialize is not None and self.dialect == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": serialize},
                )
            yield conn

    def insert(self, table: Table) -> Any:
        """INSERT for `table` with `on_conflict_do_nothing` / `on_conflict_do_update`, which
        SQLite and PostgreSQL spell the same way."""
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def engine_url(url: str) -> str:
    """The SQLAlchemy URL of a database URL: PostgreSQL through psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ConfigError(f"not a database URL: {error}") from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername == "sqlite":
        return url
    raise ConfigError(
        f"unsupported database URL scheme {parsed.drivername!r}: use postgresql://... "
        "(SQLite needs no URL: it is the state directory's default)"
    )


def shown(url: str) -> str:
    """The URL as it may be shown: without its password (or the driver SQLAlchemy uses)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql")
    return parsed.render_as_string(hide_password=True)


def libpq_url(url: str) -> str:
    """The URL as libpq (psycopg, the LangGraph checkpointer) reads it."""
    parsed = make_url(engine_url(url))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


_open: OrderedDict[tuple[str, str], Database] = OrderedDict()
_open_lock = threading.Lock()


def _forget_parent_connections() -> None:
    """In a forked child: new connections for the parent's engines, never the parent's own."""
    global _open_lock
    _open_lock = threading.Lock()
    for database in _open.values():
        database.engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def open_database(target: str | Path, branch: Branch) -> Database:
    """The database at `target` (a SQLite file, or a URL) with `branch` migrated to head."""
    url = sqlite_url(target) if isinstance(target, Path) else engine_url(target)
    with _open_lock:
        database = _open.get((url, branch))
        if database is not None:
            _open.move_to_end((url, branch))
            return database
        if isinstance(target, Path):
            target.parent.mkdir(parents=True, exist_ok=True)
        database = Database(_engine(url))
        try:
            migrate(database, branch)
        except OperationalError as error:
            database.engine.dispose()
            raise StoreError(f"cannot open the store at {shown(url)}: {error.orig}") from None
        _open[(url, branch)] = database
        while len(_open) > OPEN_ENGINES:
            _, oldest = _open.popitem(last=False)
            oldest.engine.dispose()
        return database


def migrate(database: Database, branch: Branch) -> None:
    """Apply the Alembic revisions of `branch` that the database lacks (`upgrade branch@head`)."""
    if _at_head(database, branch):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.transaction() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, f"{branch}@head")


def _at_head(database: Database, branch: Branch) -> bool:
    with database.transaction() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return HEADS[branch] in set(versions)


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
    # Every use is a transaction that ends in COMMIT or ROLLBACK: no reset when it is returned.
    engine = create_engine(url, connect_args={"timeout": 30}, pool_reset_on_return=None)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions begin as `_on_begin` says
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]

    return engine


def database_of(target: Database | Path, branch: Branch) -> Database:
    """An adapter's database: given, or the SQLite file at a path (as adapters took before)."""
    return target if isinstance(target, Database) else open_database(target, branch)


def close_database(target: str | Path) -> None:
    """Close the pools of the database at `target` that this process opened (its schema is about
    to be dropped, say); opening it again starts afresh."""
    url = sqlite_url(target) if isinstance(target, Path) else engine_url(target)
    with _open_lock:
        for key in [key for key in _open if key[0] == url]:
            _open.pop(key).engine.dispose()

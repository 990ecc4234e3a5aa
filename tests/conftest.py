from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from agent.demo.sample_repo import build_demo_repo
from agent.settings import Settings
from tools.checkpoints import close_checkpoints
from tools.store.database import Database, close_database, open_database

# The PostgreSQL that .ci/setup starts (trust auth). Each test gets its own schema, dropped after.
POSTGRES = "postgresql://127.0.0.1:5432/test"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "state", sandbox="auto", test_timeout=120)


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    return build_demo_repo(tmp_path / "work")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Where the stores live: None for SQLite in the state directory (the default), else the URL
    of a PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        yield None
        return
    yield from postgres_schema()


@pytest.fixture
def store_settings(tmp_path: Path, database_url: str | None) -> Settings:
    """The `settings` fixture on each store backend in turn."""
    return Settings(
        home=tmp_path / "state", sandbox="auto", test_timeout=120, database_url=database_url
    )


def postgres_schema() -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable ({error}); .ci/setup starts it")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        url = f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}"
        try:
            yield url
        finally:
            close_database(url)
            close_checkpoints(url)
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def records_db(tmp_path: Path, database_url: str | None) -> Database:
    """The records store (tickets, PR records, events) on each backend in turn."""
    return open_database(database_url or tmp_path / "state" / "records.db", "records")


@pytest.fixture
def inbox_db(tmp_path: Path, database_url: str | None) -> Database:
    """The inbox store (deliveries, incidents, notes, jobs) on each backend in turn."""
    return open_database(database_url or tmp_path / "state" / "inbox.db", "inbox")

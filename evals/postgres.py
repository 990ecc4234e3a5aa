"""What the benchmarks share to run on PostgreSQL: a schema of their own, dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from sqlalchemy.engine import make_url

from tools.store.database import libpq_url


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """The URL of a new schema in the PostgreSQL database at `url`, dropped when done."""
    parsed = make_url(url)
    if parsed.query:
        raise ValueError("give the database URL without parameters: the benchmark sets its own")
    schema = f"fixloop_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{url}?options={quote(f'-csearch_path={schema}')}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

"""The SQLite cache of file facts, keyed by `<blob id>:<facts version>`.

A blob id names content, so a file that did not change between commits (or a copy of it) is
parsed once. Rows keep the line and symbol counts beside the facts, so checking that nothing
changed reads no facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

_BATCH = 500


class FactStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS facts"
                " (key TEXT PRIMARY KEY, lines INTEGER, symbols INTEGER, data TEXT)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS file_stats (root TEXT, path TEXT, size INTEGER,"
                " mtime_ns INTEGER, blob TEXT, PRIMARY KEY (root, path))"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def counts(self, keys: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(lines, symbols) of each key that is stored."""
        found: dict[str, tuple[int, int]] = {}
        with closing(self._connect()) as db:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT key, lines, symbols FROM facts WHERE key IN ({marks})", chunk
                )
                found.update((key, (lines, symbols)) for key, lines, symbols in rows)
        return found

    def load(self, keys: Iterable[str]) -> dict[str, str]:
        """The stored facts (JSON) of each key that is stored."""
        found: dict[str, str] = {}
        with closing(self._connect()) as db:
            for chunk in _chunks(list(keys)):
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT key, data FROM facts WHERE key IN ({marks})", chunk)
                found.update(rows)
        return found

    def save(self, rows: Iterable[tuple[str, int, int, str, int]]) -> None:
        """Store (key, lines, symbols, facts JSON, ...) rows, committing in batches."""
        with closing(self._connect()) as db:
            batch: list[tuple[str, int, int, str]] = []
            for row in rows:
                batch.append(row[:4])
                if len(batch) >= _BATCH:
                    with db:
                        db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)", batch)
                    batch.clear()
            with db:
                db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?, ?)", batch)

    def file_stats(self, root: str) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, blob id) last seen under a plain directory `root`."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT path, size, mtime_ns, blob FROM file_stats WHERE root = ?", (root,)
            )
            return {path: (size, mtime, blob) for path, size, mtime, blob in rows}

    def save_file_stats(self, root: str, stats: dict[str, tuple[int, int, str]]) -> None:
        """Replace what is remembered about `root` with `stats`."""
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM file_stats WHERE root = ?", (root,))
            db.executemany(
                "INSERT INTO file_stats VALUES (?, ?, ?, ?, ?)",
                [(root, path, *stat) for path, stat in stats.items()],
            )


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _BATCH):
        yield keys[start : start + _BATCH]

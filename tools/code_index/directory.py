"""A plain directory (not a git repository) as something the code index can read.

A directory has one version, its files as they are now, so every `rev` argument is ignored. A
file's key is the git blob id of its content (what `git hash-object` prints), so a checkout and
the commits it came from share cache entries. Hashing needs the content; to skip that for files
that did not change, the (size, mtime) of each file and its blob id are remembered in the
index's SQLite file. A file modified in the last two seconds is always hashed again (its mtime
may not move on a second quick write).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from agent.errors import RepoError
from tools.code_index.store import FactStore

SKIPPED_DIRECTORIES = frozenset({"__pycache__", "node_modules"})
"""Never walked, besides hidden directories (`.git`, `.venv`, ...)."""
_RACY_SECONDS = 2.0


def git_blob_id(content: bytes) -> str:
    """The id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class DirectoryTree:
    def __init__(
        self, root: Path, exclude: Iterable[str] = (), stat_cache: Path | None = None
    ) -> None:
        if not root.is_dir():
            raise RepoError(f"not a directory: {root}")
        self.path = root.resolve()
        self._exclude = frozenset(exclude)
        self._store = FactStore(stat_cache) if stat_cache is not None else None
        self._stats = self._store.file_stats(str(self.path)) if self._store else {}

    def tracked_files(self, rev: str = "") -> list[str]:
        """Every file under the root, relative and with `/`, hidden and skipped folders left out."""
        found: list[str] = []
        for folder, folders, files in os.walk(self.path):
            folders[:] = [
                name
                for name in folders
                if not name.startswith(".")
                and name not in SKIPPED_DIRECTORIES
                and name not in self._exclude
            ]
            relative = os.path.relpath(folder, self.path)
            prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
            found.extend(prefix + name for name in files)
        return sorted(found)

    def blob_id(self, rev: str, path: str) -> str | None:
        return self.blob_ids(rev, [path]).get(path)

    def blob_ids(self, rev: str, paths: Iterable[str]) -> dict[str, str]:
        """Blob ids of the files that exist; unchanged files (same size and mtime) are not read."""
        ids: dict[str, str] = {}
        changed = False
        recent = time.time() - _RACY_SECONDS
        for path in paths:
            try:
                stat = os.stat(self.path / path)
            except OSError:
                continue
            known = self._stats.get(path)
            if known is not None and known[:2] == (stat.st_size, stat.st_mtime_ns):
                ids[path] = known[2]
                continue
            content = self._bytes(path)
            if content is None:
                continue
            ids[path] = git_blob_id(content)
            if stat.st_mtime < recent:
                self._stats[path] = (stat.st_size, stat.st_mtime_ns, ids[path])
                changed = True
        if changed and self._store is not None:
            self._store.save_file_stats(str(self.path), self._stats)
        return ids

    def read(self, rev: str, path: str) -> str | None:
        content = self._bytes(path)
        return None if content is None else content.decode("utf-8", errors="replace")

    def read_files(self, rev: str, paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        for path in paths:
            content = self._bytes(path)
            if content is not None:
                yield path, content

    def _bytes(self, path: str) -> bytes | None:
        target = (self.path / path).resolve()
        if not target.is_relative_to(self.path):
            return None
        try:
            return target.read_bytes()
        except OSError:
            return None

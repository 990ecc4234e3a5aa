"""The target git repository, through GitPython and the git CLI it drives.

Implements `agent.ports.Repo` plus what the local forge and verify need (branches, merges, log).
It never touches the user's checkout or index except in `merge`, and only when the target branch
is checked out there and clean. Every git failure becomes a one-line `RepoError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import TypeVar

import git

from agent.domain import BOT_BRANCH_PREFIX, Patch
from agent.errors import RepoError

log = logging.getLogger(__name__)

IDENTITY = "fixloop"
EMAIL = "fixloop@localhost"
_IDENTITY_ENV = {
    "GIT_AUTHOR_NAME": IDENTITY,
    "GIT_AUTHOR_EMAIL": EMAIL,
    "GIT_COMMITTER_NAME": IDENTITY,
    "GIT_COMMITTER_EMAIL": EMAIL,
}
_REGULAR_FILE = "100644"
K = TypeVar("K")
V = TypeVar("V")

_TREE_CACHE_SIZE = 8
_READ_CACHE_SIZE = 512
"""Blob texts and blame answers kept: a commit and a blob never change, so neither can go stale."""
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class BlameLine:
    """Who last touched one line, per `git blame`."""

    line: int
    sha: str
    summary: str
    author: str
    date: datetime


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    parents: tuple[str, ...]
    author: str
    date: datetime
    summary: str
    message: str


@dataclass(frozen=True)
class _Entry:
    mode: str
    blob: str


def _one_line(error: git.GitCommandError) -> str:
    stderr = error.stderr if isinstance(error.stderr, str) else str(error.stderr)
    for line in stderr.splitlines():
        line = line.strip().removeprefix("stderr:").strip().strip("'").strip()
        if line:
            return re.sub(r"^(fatal|error): ", "", line)
    return f"git {error.command[1] if len(error.command) > 1 else ''} exited {error.status}"


def _timestamp(epoch: str, tz: str) -> datetime:
    sign = -1 if tz.startswith("-") else 1
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
    return datetime.fromtimestamp(int(epoch), UTC).astimezone(timezone(offset))


class GitRepo:
    """A git repository on disk."""

    def __init__(self, path: Path) -> None:
        try:
            self._repo = git.Repo(path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError) as error:
            raise RepoError(f"not a git repository: {path}") from error
        if self._repo.working_tree_dir is None:
            raise RepoError(f"bare repositories are not supported: {path}")
        self.path = Path(self._repo.working_tree_dir)
        self._trees: dict[str, dict[str, _Entry]] = {}
        self._known_shas: set[str] = set()
        self._blobs: dict[str, str] = {}
        self._blames: dict[tuple[str, str, int, int], list[BlameLine]] = {}

    # -- plumbing -----------------------------------------------------------------------------

    def _git(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes | None = None,
        cwd: Path | None = None,
        strip: bool = True,
    ) -> str:
        command = ["git", *(("-C", str(cwd)) if cwd else ()), *args]
        try:
            if stdin is None:
                out = self._repo.git.execute(command, env=env, strip_newline_in_stdout=strip)
            else:
                with tempfile.TemporaryFile() as stream:
                    stream.write(stdin)
                    stream.seek(0)
                    out = self._repo.git.execute(
                        command, env=env, istream=stream, strip_newline_in_stdout=strip
                    )
        except git.GitCommandError as error:
            raise RepoError(f"git {args[0]}: {_one_line(error)}") from error
        return str(out)

    def _git_bytes(self, *args: str) -> bytes:
        try:
            out = self._repo.git.execute(
                ["git", *args], stdout_as_string=False, strip_newline_in_stdout=False
            )
        except git.GitCommandError as error:
            raise RepoError(f"git {args[0]}: {_one_line(error)}") from error
        assert isinstance(out, bytes)
        return out

    def _succeeds(self, *args: str) -> bool:
        status, _, _ = self._repo.git.execute(
            ["git", *args], with_exceptions=False, with_extended_output=True
        )
        return status == 0

    def _tree(self, rev: str) -> dict[str, _Entry]:
        """Path -> (mode, blob id) for every file at `rev`, cached per commit."""
        sha = self.head(rev)
        if sha not in self._trees:
            listing = self._git("ls-tree", "-r", "-z", "--full-tree", sha, strip=False)
            entries: dict[str, _Entry] = {}
            for record in listing.split("\0"):
                if not record:
                    continue
                meta, path = record.split("\t", 1)
                mode, kind, blob = meta.split()
                if kind == "blob":
                    entries[path] = _Entry(mode, blob)
            if len(self._trees) >= _TREE_CACHE_SIZE:
                self._trees.pop(next(iter(self._trees)))
            self._trees[sha] = entries
        return self._trees[sha]

    # -- the Repo port ------------------------------------------------------------------------

    def head(self, ref: str = "HEAD") -> str:
        """The full sha of the commit `ref` names."""
        if ref in self._known_shas:
            return ref
        if ref.startswith("-"):
            raise RepoError(f"not a revision: {ref}")
        try:
            sha = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except RepoError as error:
            raise RepoError(f"unknown revision: {ref}") from error
        if len(self._known_shas) < 100_000:
            self._known_shas.add(sha)  # a commit's sha names it for good, whatever `ref` was
        return sha

    def default_branch(self) -> str:
        """The branch checked out in the main worktree; when HEAD is detached (as CI and deploy
        tools leave a checkout), the commit checked out, as a full sha."""
        status, out, _ = self._repo.git.execute(
            ["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
            with_exceptions=False,
            with_extended_output=True,
        )
        return str(out).strip() if status == 0 else self.head("HEAD")

    def is_shallow(self) -> bool:
        """True in a shallow clone: history stops at the commits fetched."""
        return self._git("rev-parse", "--is-shallow-repository") == "true"

    def resolve(self, rev: str) -> str | None:
        """The full sha that `rev` names, or None when it names no commit here."""
        if not rev or rev.startswith("-"):
            return None
        status, out, _ = self._repo.git.execute(
            ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
            with_exceptions=False,
            with_extended_output=True,
        )
        return str(out).strip() if status == 0 else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is `descendant` or one of its ancestors."""
        return self._succeeds("merge-base", "--is-ancestor", ancestor, descendant)

    def tracked_files(self, rev: str) -> list[str]:
        return sorted(self._tree(rev))

    def find_line(self, rev: str, text: str) -> list[tuple[str, int]]:
        """Where `text` is a whole line (leading and trailing blanks aside) of a Python file at
        `rev`: (path, 1-based line) pairs, at most 50."""
        needle = text.strip()
        if not needle:
            return []
        sha = self.head(rev)
        status, out, _ = self._repo.git.execute(
            ["git", "grep", "-n", "-I", "-F", "--full-name", "-e", needle, sha, "--", "*.py"],
            with_exceptions=False,
            with_extended_output=True,
            strip_newline_in_stdout=False,
        )
        if status != 0:
            return []
        found = []
        for record in str(out).splitlines():
            path, _, rest = record.removeprefix(f"{sha}:").partition(":")
            number, _, line = rest.partition(":")
            if number.isdigit() and line.strip() == needle:
                found.append((path, int(number)))
            if len(found) >= 50:
                break
        return found

    def blob_id(self, rev: str, path: str) -> str | None:
        """The git blob id of `path` at `rev`, or None when the file does not exist there."""
        entry = self._tree(rev).get(path)
        return entry.blob if entry else None

    def read(self, rev: str, path: str) -> str | None:
        """The text of `path` at `rev`, or None when the file does not exist there."""
        entry = self._tree(rev).get(path)
        if entry is None:
            return None
        if entry.blob not in self._blobs:
            blob = self._git_bytes("cat-file", "blob", entry.blob)
            _remember(self._blobs, entry.blob, blob.decode("utf-8", errors="replace"))
        return self._blobs[entry.blob]

    def blob_ids(self, rev: str, paths: Iterable[str]) -> dict[str, str]:
        """Blob ids of those of `paths` that exist at `rev`."""
        tree = self._tree(rev)
        return {path: tree[path].blob for path in paths if path in tree}

    def read_files(self, rev: str, paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """(path, content) of those of `paths` that exist at `rev`, read by one `git cat-file`."""
        tree = self._tree(rev)
        wanted = [(path, tree[path].blob) for path in paths if path in tree]
        if not wanted:
            return
        request = "".join(f"{blob}\n" for _, blob in wanted).encode()
        out = self._git_bytes_in("cat-file", "--batch", stdin=request)
        position = 0
        for path, _ in wanted:
            header_end = out.index(b"\n", position)
            size = int(out[position:header_end].rsplit(b" ", 1)[1])
            start = header_end + 1
            yield path, out[start : start + size]
            position = start + size + 1

    def _git_bytes_in(self, *args: str, stdin: bytes) -> bytes:
        with tempfile.TemporaryFile() as stream:
            stream.write(stdin)
            stream.seek(0)
            try:
                out = self._repo.git.execute(
                    ["git", *args],
                    istream=stream,
                    stdout_as_string=False,
                    strip_newline_in_stdout=False,
                )
            except git.GitCommandError as error:
                raise RepoError(f"git {args[0]}: {_one_line(error)}") from error
        assert isinstance(out, bytes)
        return out

    def blame(self, rev: str, path: str, start: int, end: int) -> list[BlameLine]:
        """Who last touched lines `start`..`end` (1-based, inclusive) of `path` at `rev`."""
        sha = self.head(rev)
        if start < 1 or end < start:
            raise RepoError(f"git blame: bad line range {start},{end}")
        key = (sha, path, start, end)
        if key not in self._blames:
            out = self._git(
                "blame", "--porcelain", "-L", f"{start},{end}", sha, "--", path, strip=False
            )
            _remember(self._blames, key, _parse_porcelain(out))
        return list(self._blames[key])

    def add_worktree(self, where: Path, rev: str) -> Path:
        """A detached worktree of `rev` at `where`, replacing whatever a crashed run left there.

        The worktree is locked with a reason naming this process (`owner_mark`), so that a later
        run can tell it from a live one's and remove it once this process is gone
        (`remove_dead_worktrees`, called here first).
        """
        sha = self.head(rev)
        where = where.absolute()
        self.remove_dead_worktrees()
        self.remove_worktree(where)  # a directory, or only a registration, a crash left there
        where.parent.mkdir(parents=True, exist_ok=True)
        self._git("worktree", "add", "--detach", str(where), sha)
        self._git("worktree", "lock", "--reason", owner_mark(), str(where))
        return where

    def remove_worktree(self, where: Path) -> None:
        """Remove the worktree at `where`, dirty or not, and forget it."""
        where = where.absolute()
        if where.resolve() == self.path.resolve():
            raise RepoError(f"refusing to remove the main worktree {where}")
        registered = str(where.resolve()) in self._worktrees()
        if where.exists():
            if registered:
                self._git("worktree", "remove", "--force", "--force", str(where))
            elif (where / ".git").is_file() or not any(where.iterdir()):
                shutil.rmtree(where)  # a worktree whose registration is gone, or an empty dir
            else:
                raise RepoError(f"refusing to delete {where}: it is not a git worktree")
        elif registered:
            with contextlib.suppress(RepoError):  # its directory is gone; a lock keeps it listed
                self._git("worktree", "unlock", str(where))
        self._git("worktree", "prune")

    def remove_dead_worktrees(self) -> list[Path]:
        """Remove the worktrees fixloop processes that no longer run left behind; return them.

        Only worktrees locked with fixloop's `owner_mark` are considered, and only when the
        process it names (same host, same pid and start time) is gone: a crash or kill of a run
        during validation, found by the next run or the resume.
        """
        removed: list[Path] = []
        for path, reason in self._worktree_locks().items():
            if not _owner_is_dead(reason):
                continue
            try:
                self.remove_worktree(Path(path))
            except RepoError as error:
                log.warning("cannot remove the stale worktree %s: %s", path, error)
                continue
            log.info("removed the worktree %s a dead fixloop run left behind", path)
            removed.append(Path(path))
        self._git("worktree", "prune")
        return removed

    def _worktree_locks(self) -> dict[str, str]:
        """Worktree path -> lock reason, for locked worktrees."""
        out = self._git("worktree", "list", "--porcelain")
        locks: dict[str, str] = {}
        current = ""
        for line in out.splitlines():
            if line.startswith("worktree "):
                current = line.removeprefix("worktree ")
            elif line.startswith("locked") and current:
                locks[current] = line.removeprefix("locked").strip()
        return locks

    def commit_patch(self, rev: str, patch: Patch, message: str) -> str:
        """Commit `patch` on top of `rev` through a private index; the checkout stays as it is.

        A change with empty `after` and nonempty `before` deletes the file.
        """
        parent = self.head(rev)
        tree = self._tree(parent)
        with tempfile.TemporaryDirectory(prefix="fixloop-index-") as scratch:
            env = {**_IDENTITY_ENV, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self._git("read-tree", parent, env=env)
            for change in patch.files:
                path = _safe_path(change.path)
                if change.after == "" and change.before != "":
                    self._git("update-index", "--force-remove", "--", path, env=env)
                    continue
                blob = self._git("hash-object", "-w", "--stdin", stdin=change.after.encode())
                mode = tree[path].mode if path in tree else _REGULAR_FILE
                self._git("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
            new_tree = self._git("write-tree", env=env)
        return self._git("commit-tree", new_tree, "-p", parent, "-m", message, env=_IDENTITY_ENV)

    def diff(self, base: str, head: str) -> str:
        """The unified diff from `base` to `head`."""
        return self._git(
            "diff", "--no-color", "--no-ext-diff", self.head(base), self.head(head), strip=False
        )

    # -- for the local forge and verify -------------------------------------------------------

    def branch_exists(self, name: str) -> bool:
        return self._succeeds("show-ref", "--verify", "--quiet", f"refs/heads/{name}")

    def set_branch(self, name: str, sha: str) -> None:
        """Create `name` at `sha`, or move it there if it is a fixloop branch."""
        target = self.head(sha)
        if not self.branch_exists(name):
            self._git("branch", "--no-track", "--", name, target)
            return
        current = self.head(f"refs/heads/{name}")
        if current == target:
            return
        if not name.startswith(BOT_BRANCH_PREFIX):
            raise RepoError(
                f"refusing to move branch {name}: fixloop moves only {BOT_BRANCH_PREFIX}*"
            )
        self._git("update-ref", f"refs/heads/{name}", target, current)

    def merge(self, branch: str, into: str, message: str) -> str:
        """Merge `branch` into `into` with a merge commit (no fast-forward); return the new head.

        When `into` is checked out in a worktree the merge happens there and needs a clean
        checkout; otherwise the merge commit is built without any checkout. A branch already
        contained in `into` is not merged again: the current head of `into` is returned.
        """
        if _FULL_SHA.fullmatch(into) and not self.branch_exists(into):
            raise RepoError(
                f"cannot merge {branch}: its base is commit {into[:12]}, not a branch (HEAD was "
                "detached when it was opened); merge it by hand"
            )
        branch_sha = self.head(f"refs/heads/{branch}")
        into_sha = self.head(f"refs/heads/{into}")
        if self._succeeds("merge-base", "--is-ancestor", branch_sha, into_sha):
            return into_sha
        checkout = next(
            (Path(wt) for wt, ref in self._worktrees().items() if ref == f"refs/heads/{into}"),
            None,
        )
        if checkout is not None:
            return self._merge_in_checkout(checkout, branch, into, message)
        try:
            result = self._repo.git.execute(
                ["git", "merge-tree", "--write-tree", "--no-messages", into_sha, branch_sha]
            )
        except git.GitCommandError as error:
            if error.status == 1:
                raise RepoError(f"merge conflict merging {branch} into {into}") from error
            raise RepoError(f"git merge-tree: {_one_line(error)}") from error
        tree = str(result).splitlines()[0]
        sha = self._git(
            "commit-tree", tree, "-p", into_sha, "-p", branch_sha, "-m", message, env=_IDENTITY_ENV
        )
        self._git("update-ref", f"refs/heads/{into}", sha, into_sha)
        return sha

    def _merge_in_checkout(self, checkout: Path, branch: str, into: str, message: str) -> str:
        if self._git("status", "--porcelain", "--untracked-files=no", cwd=checkout):
            raise RepoError(f"cannot merge into {into}: the checkout at {checkout} has changes")
        try:
            self._git(
                "merge", "--no-ff", "--no-edit", "-m", message, f"refs/heads/{branch}",
                cwd=checkout, env=_IDENTITY_ENV,
            )  # fmt: skip
        except RepoError as error:
            if self._succeeds(
                "-C", str(checkout), "rev-parse", "--verify", "--quiet", "MERGE_HEAD"
            ):
                self._git("merge", "--abort", cwd=checkout)
                raise RepoError(f"merge conflict merging {branch} into {into}") from error
            raise
        return self.head(f"refs/heads/{into}")

    def is_clean(self) -> bool:
        """True when the main checkout has no changes to tracked files."""
        return not self._git("status", "--porcelain", "--untracked-files=no")

    def log(self, rev: str, path: str | None = None, max_count: int = 20) -> list[CommitInfo]:
        """Commits reachable from `rev`, newest first, optionally only those touching `path`."""
        fmt = "%H%x1f%P%x1f%an%x1f%at%x1f%ad%x1f%B%x1e"
        args = ["log", f"--format={fmt}", "--date=format:%z", f"--max-count={max_count}"]
        args += [self.head(rev), "--", *([path] if path else [])]
        return self._commits(self._git(*args, strip=False))

    @staticmethod
    def _commits(out: str) -> list[CommitInfo]:
        commits = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, parents, author, epoch, tz, body = record.split("\x1f", 5)
            message = body.strip()
            commits.append(
                CommitInfo(
                    sha=sha,
                    parents=tuple(parents.split()),
                    author=author,
                    date=_timestamp(epoch, tz),
                    summary=message.splitlines()[0] if message else "",
                    message=message,
                )
            )
        return commits

    def line_history(
        self, rev: str, path: str, start: int, end: int, max_count: int = 10
    ) -> list[CommitInfo]:
        """Commits that changed lines `start`-`end` of `path` as of `rev`, newest first.

        Unlike blame, this sees commits that only deleted lines from the range.
        """
        fmt = "%H%x1f%P%x1f%an%x1f%at%x1f%ad%x1f%B%x1e"
        args = ["log", f"--format={fmt}", "--date=format:%z", f"--max-count={max_count}", "-s"]
        args += [f"-L{start},{end}:{path}", self.head(rev)]
        return self._commits(self._git(*args, strip=False))

    def previous_tag(self, rev: str) -> str | None:
        """The newest tag among the strict ancestors of `rev` (`git describe` order), or None."""
        sha = self.head(rev)
        if not self._succeeds("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}^"):
            return None
        status, out, _ = self._repo.git.execute(
            ["git", "describe", "--tags", "--abbrev=0", f"{sha}^"],
            with_exceptions=False,
            with_extended_output=True,
        )
        return str(out).strip() or None if status == 0 else None

    def commits_between(self, since: str, rev: str, max_count: int = 200) -> list[CommitInfo]:
        """Commits reachable from `rev` but not from `since`, newest first."""
        fmt = "%H%x1f%P%x1f%an%x1f%at%x1f%ad%x1f%B%x1e"
        args = ["log", f"--format={fmt}", "--date=format:%z", f"--max-count={max_count}"]
        args += [f"{self.head(since)}..{self.head(rev)}"]
        return self._commits(self._git(*args, strip=False))

    def merged_by(self, sha: str, rev: str) -> CommitInfo | None:
        """The first merge commit on the way from `sha` to `rev`: the one that brought it in."""
        fmt = "%H%x1f%P%x1f%an%x1f%at%x1f%ad%x1f%B%x1e"
        args = ["log", f"--format={fmt}", "--date=format:%z", "--merges", "--ancestry-path"]
        args += ["--reverse", f"{self.head(sha)}..{self.head(rev)}"]
        commits = self._commits(self._git(*args, strip=False))
        return commits[0] if commits else None

    def _worktrees(self) -> dict[str, str]:
        """Resolved worktree path -> checked-out ref ("" when detached)."""
        out = self._git("worktree", "list", "--porcelain")
        worktrees: dict[str, str] = {}
        current = ""
        for line in out.splitlines():
            if line.startswith("worktree "):
                current = str(Path(line.removeprefix("worktree ")).resolve())
                worktrees[current] = ""
            elif line.startswith("branch ") and current:
                worktrees[current] = line.removeprefix("branch ")
        return worktrees


def _safe_path(path: str) -> str:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] == (".git",):
        raise RepoError(f"refusing to write outside the repository: {path!r}")
    return pure.as_posix()


def _parse_porcelain(out: str) -> list[BlameLine]:
    """Parse `git blame --porcelain`: commit headers appear once, before the commit's first line."""
    info: dict[str, dict[str, str]] = {}
    lines: list[BlameLine] = []
    current: dict[str, str] | None = None
    sha = ""
    final_line = 0
    for raw in out.splitlines():
        if raw.startswith("\t"):
            assert current is not None
            date = _timestamp(current.get("author-time", "0"), current.get("author-tz", "+0000"))
            lines.append(
                BlameLine(
                    line=final_line,
                    sha=sha,
                    summary=current.get("summary", ""),
                    author=current.get("author", ""),
                    date=date,
                )
            )
            continue
        fields = raw.split(" ")
        if len(fields) >= 3 and re.fullmatch(r"[0-9a-f]{40,64}", fields[0]):
            sha, final_line = fields[0], int(fields[2])
            current = info.setdefault(sha, {})
        elif current is not None:
            key, _, value = raw.partition(" ")
            current[key] = value
    return lines


__all__ = ["BlameLine", "CommitInfo", "GitRepo"]


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    """Store `value`, dropping the oldest entry once the cache holds `_READ_CACHE_SIZE`."""
    if len(cache) >= _READ_CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[key] = value


OWNER_PREFIX = "fixloop run"


def owner_mark() -> str:
    """The lock reason naming this process: host, pid and the pid's start time."""
    pid = os.getpid()
    return f"{OWNER_PREFIX} host={socket.gethostname()} pid={pid} start={_start_time(pid)}"


def _start_time(pid: int) -> str:
    """When `pid` started, in clock ticks since boot ("" when it does not run)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_is_dead(reason: str) -> bool:
    """Whether a lock `reason` is fixloop's and names a process of this host that is gone."""
    if not reason.startswith(OWNER_PREFIX):
        return False
    fields = dict(part.split("=", 1) for part in reason.split() if "=" in part)
    if fields.get("host") != socket.gethostname() or not fields.get("pid", "").isdigit():
        return False
    return _start_time(int(fields["pid"])) != fields.get("start", "")

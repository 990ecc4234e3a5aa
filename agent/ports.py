"""The seams the core owns. Adapters in `tools/` implement them; only `agent.wiring` builds them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from agent.domain import (
    Admission,
    ControlEntry,
    Incident,
    Job,
    ModelReply,
    Patch,
    Pause,
    PullRequest,
    Reference,
    Release,
    Symbol,
    TestRun,
    Ticket,
)

EventReader = Callable[[str, str, bytes, str | None], list[dict[str, Any]]]
"""(project, endpoint, raw body, Content-Encoding) -> the events of a Sentry ingest request."""


class BlameLine(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def sha(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def date(self) -> datetime: ...


class CommitLike(Protocol):
    @property
    def sha(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def author(self) -> str: ...
    @property
    def date(self) -> datetime: ...


class ErrorSource(Protocol):
    """Where incidents come from and where their resolution is reported."""

    def record(self, incident: Incident, payload: dict[str, Any]) -> bool:
        """Store an incident's event; False when that event was already stored."""
        ...

    def events_between(self, fingerprint: str, start: datetime, end: datetime) -> int:
        """How many events with this fingerprint occurred in [start, end)."""
        ...

    def releases(self, project: str | None) -> list[Release]:
        """The releases of `project` seen so far, each with when it was first seen."""
        ...

    def resolve(self, fingerprint: str) -> None: ...


class Tracker(Protocol):
    """Tickets. Every write is idempotent: by fingerprint for tickets, by key for comments."""

    def find_open(self, fingerprint: str) -> Ticket | None: ...

    def ensure_ticket(self, incident: Incident, title: str, body: str) -> Ticket: ...

    def get(self, key: str) -> Ticket: ...

    def comment(self, key: str, comment_key: str, body: str) -> None: ...

    def comments(self, key: str) -> list[str]: ...

    def transition(self, key: str, status: str) -> Ticket: ...

    def close(self, key: str, resolution: str) -> Ticket: ...


class Forge(Protocol):
    """Branches and pull requests. The PR is found by its branch, never made twice."""

    def find_pr(self, branch: str) -> PullRequest | None: ...

    def get_pr(self, pr_id: int) -> PullRequest: ...

    def open_pr(self, branch: str, head_sha: str, title: str, body: str) -> PullRequest:
        """Point `branch` at `head_sha` and open a PR for it, or return the one that exists."""
        ...

    def approve(self, pr_id: int, comment: str) -> PullRequest: ...

    def merge(self, pr_id: int, comment: str) -> PullRequest: ...

    def close_pr(self, pr_id: int, comment: str) -> PullRequest: ...

    def bot_pr_counts(self, opened_since: datetime) -> tuple[int, int]:
        """How many fixloop PRs are open now, and how many fixloop opened since
        `opened_since`, as the forge has them (a PR closed by hand is closed)."""
        ...


class Repo(Protocol):
    """The target git repository."""

    path: Path

    def head(self, ref: str = "HEAD") -> str:
        """The full sha that `ref` names."""
        ...

    def default_branch(self) -> str:
        """The branch checked out; the commit (full sha) when HEAD is detached."""
        ...

    def is_shallow(self) -> bool:
        """True in a shallow clone: history stops at the commits fetched."""
        ...

    def resolve(self, rev: str) -> str | None:
        """The full sha that `rev` names, or None when it names no commit here."""
        ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is `descendant` or one of its ancestors."""
        ...

    def tracked_files(self, rev: str) -> list[str]: ...

    def find_line(self, rev: str, text: str) -> list[tuple[str, int]]:
        """Where `text` is a whole line (blanks around it aside) of a Python file at `rev`:
        (path, 1-based line) pairs."""
        ...

    def read(self, rev: str, path: str) -> str | None: ...

    def blame(self, rev: str, path: str, start: int, end: int) -> Sequence[BlameLine]: ...

    def line_history(
        self, rev: str, path: str, start: int, end: int, max_count: int = 10
    ) -> Sequence[CommitLike]:
        """Commits that changed those lines, newest first, including pure deletions."""
        ...

    def previous_tag(self, rev: str) -> str | None:
        """The newest tag among the strict ancestors of `rev`, or None."""
        ...

    def commits_between(self, since: str, rev: str, max_count: int = 200) -> Sequence[CommitLike]:
        """Commits reachable from `rev` but not from `since`, newest first."""
        ...

    def merged_by(self, sha: str, rev: str) -> CommitLike | None:
        """The first merge commit on the way from `sha` to `rev`: the one that brought it in."""
        ...

    def add_worktree(self, where: Path, rev: str) -> Path: ...

    def remove_worktree(self, where: Path) -> None: ...

    def commit_patch(self, rev: str, patch: Patch, message: str) -> str:
        """Commit `patch` on top of `rev` without touching the checkout; return the new sha."""
        ...

    def diff(self, base: str, head: str) -> str: ...


class CodeIndex(Protocol):
    """Definitions and calls of a repository's source files at any revision.

    Calls are matched to definitions by name only: a caller of `Cart.add` is any call of a
    name `add`, and the callers of a constructor are the calls of its class.
    """

    def symbols(self, rev: str, path: str) -> list[Symbol]:
        """Definitions in `path`, outer before inner; empty for files in no indexed language."""
        ...

    def enclosing(self, rev: str, path: str, line: int) -> Symbol | None:
        """The innermost function or method that contains `line`, else the innermost class."""
        ...

    def references(self, rev: str, path: str) -> list[Reference]:
        """The calls in `path`, in source order, each with its enclosing definition."""
        ...

    def definitions(self, rev: str, name: str) -> list[Symbol]:
        """Every definition called `name` in the tree at `rev`."""
        ...

    def callers(self, rev: str, path: str, qualname: str) -> list[Reference]:
        """The calls anywhere in the tree at `rev` of the definition `qualname` of `path`."""
        ...

    def callees(self, rev: str, path: str, qualname: str) -> list[Reference]:
        """The calls made directly in the body of the definition `qualname` of `path`."""
        ...


class Sandbox(Protocol):
    """Runs a worktree's tests with no network, writes only inside the worktree, and a limit."""

    name: str

    def run_tests(
        self, worktree: Path, tests: list[str] | None = None, *, coverage: bool = False
    ) -> TestRun:
        """Run `tests` (pytest node ids or paths), or the whole suite when None.

        With `coverage`, the run also records the lines each test ran (`TestRun.coverage`).
        """
        ...

    def collect(self, worktree: Path, tests: list[str] | None = None) -> list[str]:
        """The node ids pytest collects from `tests` (or the whole suite), running none of them;
        a file that fails to collect is listed by its own node id."""
        ...


class Model(Protocol):
    """A language model behind the Anthropic Messages API."""

    def create(
        self,
        *,
        model: str,
        system: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelReply:
        """One Messages API call. `system` blocks may carry `cache_control`.

        Raises `ModelError` when the API refuses the request, or is still rate-limited (429) or
        overloaded (529) after the client's retries.
        """
        ...


class Leases(Protocol):
    """Named leases shared by every process on the store: one holder at a time, until the lease
    expires or is released."""

    def acquire(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew the lease on `name`; False when another holder has it."""
        ...

    def release(self, name: str, holder: str) -> None: ...

    def holder(self, name: str) -> str | None: ...


class Inbox(Protocol):
    """Deliveries persisted before they are acknowledged, deduplicated, and the jobs they make.

    A delivery id is admitted once. An event whose fingerprint has an open incident counts
    towards it and makes no job; one with a new fingerprint opens an incident and queues `job`.
    """

    def admit_event(
        self, source: str, delivery_id: str, incident: Incident, payload: dict[str, Any], job: str
    ) -> Admission: ...

    def admit_note(
        self,
        source: str,
        delivery_id: str,
        incident_id: str | None,
        kind: str,
        detail: dict[str, Any],
        job: str | None = None,
        delay: float = 0.0,
    ) -> Admission:
        """Record something that happened to an incident (a review, a page), maybe with a job
        that no worker claims for `delay` seconds."""
        ...

    def claim(
        self, kind: str | None = None, holder: str | None = None, lease_seconds: float = 0.0
    ) -> Job | None:
        """The oldest queued job that is due (of `kind`, when given), now marked running;
        None when there is none. With `holder`: only a job whose incident no other holder
        leases, and `holder` takes the lease on its incident for `lease_seconds`."""
        ...

    def job(self, job_id: int) -> tuple[str, Job] | None:
        """A job with its state, or None when there is no such job."""
        ...

    def take(self, job_id: int, holder: str, lease_seconds: float) -> tuple[str, Job | None]:
        """Start one job under `holder`'s lease on its incident: `taken` with the job,
        `settled` (done, failed, unknown) or `busy` (another holder leases the incident)."""
        ...

    def due(self, limit: int = 100) -> list[Job]:
        """Queued jobs that are due, oldest first, for a broker."""
        ...

    def mark_sent(self, job_ids: list[int]) -> None:
        """These jobs are in the broker's queues now."""
        ...

    def queue_stats(self) -> list[tuple[str, str, int, float]]:
        """(kind, state, jobs, oldest created_at) for every kind and state of job."""
        ...

    def outcomes(self) -> dict[str | None, int]:
        """Incidents by the outcome of their last job."""
        ...

    def finish(self, job_id: int, outcome: str, *, close_incident: bool = False) -> None: ...

    def fail(self, job_id: int, error: str) -> None: ...

    def requeue_running(self) -> int:
        """Put jobs a dead process left running (no live lease on their incident) back in the
        queue; return how many."""
        ...

    def incidents(
        self,
        limit: int = 100,
        *,
        is_open: bool | None = None,
        project: str | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def close_incident(self, incident_id: str, outcome: str) -> bool:
        """Close an open incident by hand (its queued jobs settled); False if it was not open."""
        ...

    def incident(self, incident_id: str) -> dict[str, Any] | None: ...

    def open_incident_of_project(self, project: str) -> str | None: ...

    def stats(self) -> dict[str, int]: ...


class Notifier(Protocol):
    """Where on-call people read about incidents (Slack): one thread per incident."""

    def post(self, incident_id: str, key: str, text: str) -> str:
        """Post `text` in the incident's thread (the first message starts it), once per `key`:
        a key already posted is not posted again. Returns the message's id (Slack's `ts`).
        Raises `NotifyError` when the service refuses or cannot be reached."""
        ...

    def thread(self, incident_id: str) -> list[dict[str, Any]]:
        """The messages posted for the incident, in order: `key`, `channel`, `ts`, `thread_ts`."""


class Controls(Protocol):
    """The operator controls in the state store: the kill switch, the decisions log, the day's
    model spend. Shared by every process that uses the same store."""

    def pause(self, scope: str, by: str, reason: str) -> Pause:
        """Set the switch of `scope` (`*` or a repository table); an existing pause stays."""
        ...

    def unpause(self, scope: str) -> Pause | None:
        """Clear the switch of `scope`; the pause it cleared, or None when it was not set."""
        ...

    def pauses(self) -> list[Pause]: ...

    def log(
        self, key: str, kind: str, scope: str, incident_id: str | None, detail: dict[str, Any]
    ) -> bool:
        """Record a decision once per `key`; False when that key was recorded before."""
        ...

    def entries(self, incident_id: str | None = None, limit: int = 200) -> list[ControlEntry]:
        """Decisions, oldest first: of one incident, or the latest `limit` of all."""
        ...

    def counts(self) -> dict[str, int]:
        """How many decisions of each kind were recorded."""
        ...

    def record_spend(
        self, key: str, scope: str, incident_id: str, cost_usd: float, at: datetime
    ) -> None:
        """Add one model call's cost, once per `key`."""
        ...

    def spend_since(self, since: datetime, scope: str | None = None) -> float:
        """US dollars spent on models since `since`: by one scope, or by all."""
        ...

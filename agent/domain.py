"""The records that travel through fixloop.

Plain pydantic models that serialize to JSON. Graph state holds them as JSON-ready dicts
(`model_dump(mode="json")`) and nodes rebuild them with `model_validate`.

Ordering follows Sentry: in `Incident.exceptions` the exception that was finally raised is
last and its causes come before it; in `ExceptionInfo.frames` the outermost call is first and
the crashing frame is last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

BOT_BRANCH_PREFIX = "fixloop/"
"""Every branch fixloop pushes starts with this; it moves, pushes and reviews no other."""


def bot_branch(incident_id: str) -> str:
    """The one branch that carries the fix of an incident."""
    return BOT_BRANCH_PREFIX + incident_id


def aware(moment: datetime) -> datetime:
    """A naive datetime read as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


IncidentSource = Literal[
    "sentry_event", "sentry_webhook", "sentry_api", "test_failure", "traceback", "pagerduty"
]

Status = Literal[
    "running",
    "awaiting_review",
    "waiting_for_release",
    "verified",
    "closed",
    "escalated",
    "no_fix_found",
    "budget_exceeded",
    "duplicate",
    "not_actionable",
    "rejected",
    "regressed",
    "paused",
    "deferred",
    "diagnosed",
    "recorded",
]

END_STATUSES: frozenset[Status] = frozenset(
    {
        "closed",
        "escalated",
        "no_fix_found",
        "budget_exceeded",
        "duplicate",
        "not_actionable",
        "rejected",
        "regressed",
        "diagnosed",
        "recorded",
    }
)


Automation = Literal["off", "diagnose", "pr"]
"""How far fixloop goes for a repository (`Settings.automation`)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Frame(BaseModel):
    """One stack frame as the incident reported it."""

    filename: str
    abs_path: str | None = None
    module: str | None = None
    function: str = "<unknown>"
    lineno: int | None = None
    context_line: str | None = None
    pre_context: list[str] = Field(default_factory=list)
    post_context: list[str] = Field(default_factory=list)
    vars: dict[str, Any] = Field(default_factory=dict)
    """Captured local variables, as the reporter serialized them (usually repr strings)."""
    in_app: bool | None = None
    vars_cut: bool = False
    """The reporter may have dropped some of the frame's variables (a trimmed or full databag)."""
    cut_vars: list[str] = Field(default_factory=list)
    """Names of captured variables whose value the reporter cut (shortened or trimmed)."""


class ExceptionInfo(BaseModel):
    type: str
    value: str = ""
    module: str | None = None
    frames: list[Frame] = Field(default_factory=list)
    leaf: bool = False
    """A sub-exception of the exception group before it in the chain: each leaf is a candidate
    crash, ranked by where it was raised."""

    @property
    def crash_frame(self) -> Frame | None:
        return self.frames[-1] if self.frames else None


GITHUB_ISSUE_TAG = "github_issue"
"""The tag of an incident read from a GitHub issue: `owner/name#N`."""


class Incident(BaseModel):
    """A production failure normalised from any source."""

    id: str
    source: IncidentSource
    fingerprint: str
    title: str
    exceptions: list[ExceptionInfo] = Field(default_factory=list)
    failing_tests: list[str] = Field(default_factory=list)
    event_id: str | None = None
    project: str | None = None
    release: str | None = None
    environment: str | None = None
    level: str | None = None
    culprit: str | None = None
    platform: str | None = None
    timestamp: datetime | None = None
    count: int = 1
    tags: dict[str, str] = Field(default_factory=dict)
    unread: list[str] = Field(default_factory=list)
    """What the incident's text held that intake could not read (elided frames, a traceback
    cut before its exception), in plain words."""
    received_at: datetime = Field(default_factory=utcnow)

    @property
    def crash(self) -> ExceptionInfo | None:
        """The exception that was finally raised (last in the chain)."""
        return self.exceptions[-1] if self.exceptions else None

    @property
    def github_issue(self) -> tuple[str, int] | None:
        """The GitHub issue (`owner/name`, number) this incident was reported in, if any: the
        `github_issue` tag, `owner/name#N`."""
        repository, _, number = self.tags.get(GITHUB_ISSUE_TAG, "").rpartition("#")
        if repository.count("/") != 1 or not number.isdigit():
            return None
        return repository, int(number)


class Ticket(BaseModel):
    key: str
    fingerprint: str
    incident_id: str
    title: str
    body: str = ""
    status: Literal["open", "in_review", "resolved", "closed", "reopened"] = "open"
    url: str | None = None
    resolution: str | None = None


class Symbol(BaseModel):
    """A definition found by the code index.

    `qualname` is the name within its file, as Python's `__qualname__`: enclosing classes and
    functions joined by dots (`Cart.total.add`; a Go method is `Receiver.Method`). Structs,
    interfaces, enums and records are `class`; a function defined in a class-like body is a
    `method`.
    """

    name: str
    qualname: str
    kind: Literal["function", "method", "class"]
    path: str
    start_line: int
    end_line: int
    params: list[str] = Field(default_factory=list)


class Reference(BaseModel):
    """A call found by the code index. Calls are matched to definitions by name only."""

    name: str
    """The called name: `f` for `f()`, `get` for `store.get()`, the class for `new Foo()`."""
    path: str
    line: int
    scope: str | None = None
    """Qualified name of the innermost definition containing the call; None at module level."""


class Evidence(BaseModel):
    kind: Literal["frame", "symbol", "blame", "coverage", "history", "reproduction"]
    detail: str


class Suspect(BaseModel):
    file: str
    symbol: str | None
    start_line: int | None = None
    end_line: int | None = None
    lines: list[int] = Field(default_factory=list)
    """The lines the incident points at (crash lines), 1-based."""
    score: float
    evidence: list[Evidence] = Field(default_factory=list)
    realigned: bool = False
    """A frame's line was moved to where its context line is now: the file changed since the
    incident's release, so the line number it reported no longer holds that code."""


class CommitRef(BaseModel):
    sha: str
    summary: str
    author: str
    date: datetime
    pr_number: int | None = None


ReproductionWay = Literal["frame", "outer_frame", "test_built_object", "derived_test"]


class Reproduction(BaseModel):
    """A pytest test rebuilt from the incident that must fail before a fix and pass after."""

    filename: str
    """File name the test is written under, at the root of a worktree."""
    source: str
    nodeid: str
    target_file: str
    target_function: str
    reproduced: bool = False
    reason: str = ""
    built_from: str = ""
    """Which frame the call was rebuilt from, and why the frames inside it were not."""
    way: ReproductionWay = "frame"
    """How it was built: the crashing frame's captured values, an outer frame's, an object
    built the way the repository's tests build it, or an existing test derived."""


class Diagnosis(BaseModel):
    suspects: list[Suspect] = Field(default_factory=list)
    suspect_commit: CommitRef | None = None
    explanation: str = ""
    confidence: float = 0.0
    base_commit: str = ""
    reproduction: Reproduction | None = None


class FileChange(BaseModel):
    path: str
    before: str
    after: str


class Patch(BaseModel):
    id: str
    engine: str
    title: str
    rationale: str
    files: list[FileChange]
    diff: str
    rank: int = 0

    @property
    def changed_lines(self) -> int:
        return sum(
            1
            for line in self.diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )


class TestRun(BaseModel):
    """The outcome of one pytest invocation in the sandbox."""

    outcomes: dict[str, Literal["passed", "failed", "error", "skipped", "timeout"]] = Field(
        default_factory=dict
    )
    """Per test node id; `timeout`: cut at the per-test timeout, its failure holds the stack
    where it hung."""
    failures: dict[str, list[ExceptionInfo]] = Field(default_factory=dict)
    exit_code: int = 0
    duration: float = 0.0
    timed_out: bool = False
    sandbox: str = ""
    output: str = ""
    coverage: dict[str, dict[str, list[int]]] = Field(default_factory=dict, exclude=True)
    """Per test node id, the lines it ran by repository path, when the run traced coverage.
    Kept out of serialized state: it is read once, by fault localization."""

    def passed(self) -> set[str]:
        return {nodeid for nodeid, outcome in self.outcomes.items() if outcome == "passed"}

    def failed(self) -> set[str]:
        return {n for n, o in self.outcomes.items() if o in ("failed", "error", "timeout")}


class TestOutcome(BaseModel):
    """One must-fix test's outcome on the base commit and with the candidate applied."""

    before: str | None = None
    after: str | None = None


class TestReport(BaseModel):
    """Proof (or not) for one candidate."""

    candidate_id: str
    """The candidate's patch id; for the `budget` stage, a label for the untested rest."""
    proven: bool
    reason: str
    stage: Literal["screen", "proof", "budget"] = "proof"
    """Where the decision was made: the must-fix screen (the full proof never ran), the full
    proof, or nowhere (the search budget ran out before the candidates were tested)."""
    reproduction_before: str | None = None
    reproduction_after: str | None = None
    must_fix: dict[str, TestOutcome] = Field(default_factory=dict)
    """Every must-fix test (the reported failing tests and the reproduction), before and after."""
    held: bool = False
    """Every check it was given passed (no regression, each must-fix test passes); `proven`
    also needs a test that failed before the change."""
    baseline_passed: int = 0
    passed_after: int = 0
    regressions: list[str] = Field(default_factory=list)
    flaky: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    sandbox: str = ""
    untrusted: bool = False
    """The candidate's tests forged or contradicted their own outcome (`UntrustedOutcome`):
    not proven, and the incident escalates with `reason`."""


class PullRequest(BaseModel):
    id: int
    branch: str
    base: str
    title: str
    body: str
    diff: str = ""
    status: Literal["open", "approved", "merged", "closed"] = "open"
    head_sha: str = ""
    merge_sha: str | None = None
    url: str | None = None
    merged_at: datetime | None = None


class ReviewDecision(BaseModel):
    action: Literal["merge", "approve", "reject"]
    comment: str = ""
    reviewer: str = "human"


class Release(BaseModel):
    """A release of a project as the error source saw it."""

    version: str
    commit: str | None = None
    """The commit the release names, when the error source knows it (Sentry's `lastCommit`)."""
    first_seen: datetime
    """When the release was first seen running: its first event, or its deploy."""


class Verification(BaseModel):
    verified: bool
    reproduction_passed: bool | None = None
    regressions: list[str] = Field(default_factory=list)
    release: str | None = None
    """The first release seen that contains the merge commit, or None."""
    after_since: datetime | None = None
    """Start of the after window: when that release was first seen, else the merge."""
    new_events: int = 0
    """Events of the incident in the after window (from `after_since` to the check)."""
    events_before: int | None = None
    """Events in the before window: as long as the after window (at least
    `verify_min_before_hours`), ending at the merge."""
    before_hours: float | None = None
    after_hours: float | None = None
    rate_before: float | None = None
    """Events per hour in the before window."""
    rate_after: float | None = None
    """Events per hour in the after window."""
    checked_commit: str = ""
    summary: str = ""
    checked_at: datetime = Field(default_factory=utcnow)


class ModelUsage(BaseModel):
    """Token counts as the Anthropic Messages API reports them. `input_tokens` excludes the
    tokens written to or read from the prompt cache."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def tokens_in(self) -> int:
        """Every input token the model processed, cached or not."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @property
    def total(self) -> int:
        return self.tokens_in + self.output_tokens

    def __add__(self, other: ModelUsage) -> ModelUsage:
        return ModelUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens
            + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
        )


class ModelReply(BaseModel):
    """One assistant message: content blocks in the Messages API shape (`text`, `tool_use`)."""

    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None = None
    usage: ModelUsage = Field(default_factory=ModelUsage)


class AuditEntry(BaseModel):
    """What a node saw, what it decided, and why."""

    node: str
    saw: str
    decided: str
    why: str
    at: datetime = Field(default_factory=utcnow)
    data: dict[str, Any] = Field(default_factory=dict)


class Admission(BaseModel):
    """What the inbox did with one delivery."""

    outcome: Literal["new", "repeat", "duplicate_delivery", "recorded"]
    incident_id: str | None = None
    count: int = 0
    """Events seen so far for the incident (its fingerprint, while it is open)."""


INCIDENT_LEASE = "incident:"
"""Prefix of the lease a worker holds on an incident while it carries one of its jobs."""


class Job(BaseModel):
    """Work the server queued for the worker: never done inside a request."""

    id: int
    kind: Literal[
        "run",
        "page",
        "merged",
        "closed_unmerged",
        "sentry_issue",
        "verify",
        "ci_run",
        "issue",
        "resume_held",
    ]
    incident_id: str
    payload: dict[str, Any]
    attempts: int = 0


class Pause(BaseModel):
    """The kill switch of one scope (`*`: all of fixloop; else a repository table)."""

    scope: str
    since: datetime
    by: str
    reason: str


class ControlEntry(BaseModel):
    """One decision of the operator controls: a pause, a deferral, a skip, a release."""

    key: str
    at: datetime
    kind: str
    scope: str
    incident_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

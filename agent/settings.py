"""One settings model. Sources, strongest first: arguments, `FIXLOOP_*` environment, `fixloop.toml`.

Only variables with the `FIXLOOP_` prefix are read; nothing else in the environment is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from agent.config_file import ConfigFileSource
from agent.domain import Automation
from agent.errors import ConfigError

IssueTrigger = Literal["off", "label", "opened"]
"""Which GitHub issues start a run (`Settings.issue_trigger`)."""

POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")

DEFAULT_FORBIDDEN_PATHS = [
    # CI at the root, secrets, lock files, schema migrations.
    ".github/**",
    ".gitlab-ci.yml",
    ".ci/**",
    "**/.env",
    "**/.env.*",
    "**/.envrc",
    "**/*.pem",
    "**/*.key",
    "**/secrets*",
    "**/*.lock",
    "**/poetry.lock",
    "**/package-lock.json",
    "**/requirements*.txt",
    "**/pnpm-lock.yaml",
    "**/migrations/**",
    "**/alembic/**",
    # CI, and what git and the forge read (matched case-insensitively).
    "**/.github/**",
    "**/.gitlab-ci*.yml",
    "**/.gitlab/**",
    "**/.ci/**",
    "**/.circleci/**",
    "**/jenkinsfile*",
    "**/.travis.yml",
    "**/azure-pipelines*",
    "**/.azure-pipelines/**",
    "**/.azuredevops/**",
    "**/bitbucket-pipelines.yml",
    "**/.buildkite/**",
    "**/.drone.yml",
    "**/.woodpecker*",
    "**/appveyor.yml",
    "**/.appveyor.yml",
    "**/cloudbuild*.y*ml",
    "**/.teamcity/**",
    "**/codecov.yml",
    "**/.codecov.yml",
    "**/.pre-commit-config.yaml",
    "**/.pre-commit-hooks.yaml",
    "**/.readthedocs.y*ml",
    "**/.gitmodules",
    "**/.gitattributes",
    "**/.gitignore",
    "**/codeowners",
    # Build, container and task runners.
    "**/makefile",
    "**/gnumakefile",
    "**/*.mk",
    "**/cmakelists.txt",
    "**/*.cmake",
    "**/meson.build",
    "**/build",
    "**/build.bazel",
    "**/workspace",
    "**/workspace.bazel",
    "**/module.bazel",
    "**/*.bzl",
    "**/justfile",
    "**/taskfile.y*ml",
    "**/dockerfile*",
    "**/*.dockerfile",
    "**/containerfile*",
    "**/.dockerignore",
    "**/docker-compose*.y*ml",
    "**/compose.y*ml",
    "**/vagrantfile",
    "**/procfile",
    # Packaging, dependencies and the test runner's configuration.
    "**/setup.py",
    "**/setup.cfg",
    "**/pyproject.toml",
    "**/manifest.in",
    "**/pipfile",
    "**/requirements*.in",
    "**/requirements/**",
    "**/*requirements.txt",
    "**/constraints*.txt",
    "**/environment*.y*ml",
    "**/.python-version",
    "**/runtime.txt",
    "**/pip.conf",
    "**/.pypirc",
    "**/*.pth",
    "**/sitecustomize.py",
    "**/usercustomize.py",
    "**/tox.ini",
    "**/noxfile.py",
    "**/pytest.ini",
    "**/.pytest.ini",
    "**/.coveragerc",
    "**/package.json",
    "**/.npmrc",
    "**/.yarnrc*",
    "**/gemfile",
    "**/*.gemspec",
    "**/go.mod",
    "**/go.sum",
    "**/cargo.toml",
    "**/pom.xml",
    "**/build.gradle*",
    "**/settings.gradle*",
    "**/composer.json",
]


_CHECK_CHECKOUTS: ContextVar[bool] = ContextVar("check_checkouts", default=True)


@contextmanager
def checkouts_unchecked() -> Iterator[None]:
    """Load settings whose checkouts may be missing (`fixloop doctor` reports them instead)."""
    token = _CHECK_CHECKOUTS.set(False)
    try:
        yield
    finally:
        _CHECK_CHECKOUTS.reset(token)


class RepoTable(BaseModel):
    """One repository fixloop serves (`[repos.NAME]` in `fixloop.toml`). A key left out takes
    the global setting of the same name."""

    model_config = ConfigDict(extra="forbid")

    checkout: Path
    """The local git checkout fixes are made in."""

    projects: list[str] = Field(default_factory=list)
    """The Sentry projects (id or slug, or the project in an ingest DSN) and the PagerDuty
    service ids whose incidents are fixed in this repository."""

    github_repo: str | None = None
    github_remote_url: str | None = None
    base_branch: str | None = None
    python: str | None = None
    test_paths: list[str] | None = None
    pytest_args: list[str] | None = None
    allowed_paths: list[str] | None = None
    forbidden_paths: list[str] | None = None
    jira_project: str | None = None
    issue_trigger: IssueTrigger | None = None
    issue_label: str | None = None
    test_timeout: float | None = None
    per_test_timeout: float | None = None
    regression_test: bool | None = None
    pr_min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    pr_guessed_proof_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    pr_min_proven: int | None = Field(default=None, ge=1)
    pr_proven_must_agree: bool | None = None
    max_concurrent_runs: int | None = None
    automation: Automation | None = None
    max_open_prs: int | None = Field(default=None, ge=0)
    max_prs_per_day: int | None = Field(default=None, ge=0)
    max_model_cost_usd_per_day: float | None = Field(default=None, ge=0)

    @field_validator("checkout")
    @classmethod
    def _checkout_exists(cls, checkout: Path) -> Path:
        if _CHECK_CHECKOUTS.get() and not checkout.is_dir():
            raise ValueError(f"{checkout} is not a directory")
        return checkout

    def overrides(self) -> dict[str, Any]:
        """The global settings this table replaces."""
        return self.model_dump(exclude={"checkout", "projects"}, exclude_none=True)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIXLOOP_", toml_file="fixloop.toml", extra="forbid", validate_default=True
    )

    home: Path = Path(".fixloop")
    """State directory: checkpoints, tickets, PR records, the error store, worktrees."""

    database_url: SecretStr | None = None
    """PostgreSQL for every store (`postgresql://user:password@host:5432/db`, an `options`
    parameter may set `-csearch_path=schema`): checkpoints, runs, the inbox, the error store,
    tickets and PR records. Unset, they are SQLite files in the state directory."""

    base_branch: str | None = None
    """Branch fixes are made against and PRs target; the repo's checked-out branch when unset."""

    python: str = sys.executable
    """Interpreter that runs the target repo's tests."""

    pytest_args: list[str] = Field(default_factory=lambda: ["-p", "no:langsmith_plugin"])
    """Extra arguments for every pytest run in the sandbox. The default blocks the pytest plugin
    that fixloop's own dependency langsmith registers: it adds seconds to every run when the
    target's tests run in fixloop's interpreter, and target repos do not rely on it."""

    test_paths: list[str] = Field(default_factory=list)
    """Paths pytest collects as the whole suite (e.g. `["tests"]`); when empty, the target
    repo's own pytest configuration decides."""

    sandbox: Literal["auto", "bwrap", "unsafe-subprocess", "subprocess"] = "auto"
    """`auto` and `bwrap` run tests under bubblewrap and refuse to run them when it does not
    work here. `unsafe-subprocess` (older name: `subprocess`) runs the target's tests as a plain
    child process with no isolation: only for code you trust."""

    test_timeout: float = 300.0
    """Wall-time limit for one test run (a pytest invocation, possibly the whole suite), in
    seconds: everything the run started is killed at it."""

    per_test_timeout: float = 60.0
    """Seconds one test (its setup, call and teardown) may run before the sandbox's pytest plugin
    cuts it; its outcome is then `timeout`, with the stack where it hung, and the rest of the
    suite goes on. 0 turns it off. Keep it well under `test_timeout`."""

    memory_limit_mb: int = 4096
    """Address-space limit for one test run."""

    engines: list[str] = Field(default_factory=lambda: ["templates"])
    """Repair engines in tier order (`templates`, `claude`): each round asks the next engine
    only when those before it have no new candidate."""

    max_fix_rounds: int = 3
    """How many fix -> test rounds before the incident is escalated."""

    candidates_per_round: int = 6
    """How many candidates one round sends to the test node."""

    search_candidates: int = 120
    """How many candidates one round may send to the test node when there are must-fix tests
    to screen them with (each screen runs only those tests); `candidates_per_round` otherwise."""

    search_seconds: float = 240.0
    """Wall-time budget for validating one round's candidates; the untested rest is reported."""

    validation_jobs: int = 2
    """How many candidates are screened or proven at once, each in its own worktree."""

    regression_test: bool = True
    """Ship the reproduction with the fix: a PR whose proof rests on a reproduction that failed
    like the incident adds it as a regression test in the repository's test layout, proven to
    fail on the base commit and pass with the fix in the sandbox."""

    pr_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    """Evidence bar: a proven fix whose diagnosis confidence is below this is not opened as a
    PR; the incident is escalated with the fix as a suggestion on the ticket."""

    pr_guessed_proof_confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    """Evidence bar: the diagnosis confidence a proof needs when its only failing-before test is
    a reproduction whose objects fixloop guessed (built as the tests build them, or a derived
    test)."""

    pr_min_proven: int = Field(default=1, ge=1)
    """Evidence bar: how many candidates must be proven before a PR opens (the search goes on
    until that many are proven or all are decided)."""

    pr_proven_must_agree: bool = True
    """Evidence bar: when several candidates are proven, every one must change a file the
    chosen one changes, or fixloop abstains."""

    mutation_seconds: float = 20.0
    """Wall-time budget for generating the mutation candidates of one round."""

    revert_window: int = 20
    """The revert of the suspect commit is a candidate only when the commit is among this many
    latest commits of the base branch (first parents)."""

    max_diff_lines: int = 40
    """Guardrail: the largest diff (added + removed lines) a candidate may have."""

    max_changed_files: int = 3
    """Guardrail: the most files one candidate may change."""

    allowed_paths: list[str] = Field(default_factory=lambda: ["**"])
    """Guardrail: globs a candidate may touch."""

    forbidden_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_FORBIDDEN_PATHS))
    """Guardrail: globs a candidate may never touch, matched case-insensitively (by default secrets,
    lock files, migrations, and every file a CI, build, packaging or dependency tool reads)."""

    claude_models: list[str] = Field(default_factory=lambda: ["claude-sonnet-4-6"])
    """The Claude engine's models in tier order: it starts with the first and moves to the next
    when a model ends its conversation without a candidate the guardrails allow."""

    claude_prices: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {
            "claude-haiku-4-5": (1.0, 5.0),
            "claude-sonnet-4-5": (3.0, 15.0),
            "claude-sonnet-4-6": (3.0, 15.0),
            "claude-opus-4-5": (5.0, 25.0),
        }
    )
    """US dollars per million input and output tokens, by model. Cache writes cost 1.25 times
    the input price and cache reads 0.1 times, as Anthropic bills them. Every model in
    `claude_models` needs a price."""

    claude_max_steps: int = 30
    """Budget: model calls the Claude engine makes in one fix round."""

    claude_max_seconds: float = 600.0
    """Budget: wall time of the Claude engine in one fix round, in seconds."""

    claude_max_tokens: int = 400_000
    """Budget: input plus output tokens for the whole incident, over all rounds."""

    claude_max_cost_usd: float = 2.0
    """Budget: US dollars for the whole incident, over all rounds."""

    claude_max_output_tokens: int = 4096
    """`max_tokens` of one model reply."""

    claude_max_retries: int = 3
    """How often the Anthropic client retries a rate-limited (429) or overloaded (529) call."""

    claude_timeout: float = 120.0
    """Timeout of one model call, in seconds."""

    index_workers: int = Field(default=0, ge=0)
    """Processes that parse source files when the code index reads a whole tree; 0 means one
    per core. A handful of files is always parsed in-process."""

    intake_host: str = "127.0.0.1"
    """Address the Sentry-protocol intake listens on."""

    intake_port: int = 8450
    """Port the Sentry-protocol intake listens on."""

    server_host: str = "127.0.0.1"
    """Address `fixloop serve` listens on."""

    server_port: int = 8460
    """Port `fixloop serve` listens on."""

    header_read_timeout: float = Field(default=10.0, gt=0)
    """Seconds `fixloop serve` waits for a request's line and headers, from its first byte (or
    from the connection); a slower client gets 408 and its connection is closed."""

    body_read_timeout: float = Field(default=10.0, gt=0)
    """Seconds `fixloop serve` waits for a request's whole body; a slower one is refused (408)."""

    automation: Automation = "pr"
    """How far fixloop goes: `pr` (the whole loop), `diagnose` (ticket, root cause and the fix
    search; the diagnosis and the best proven change go on the ticket as a suggested diff, no
    branch, no PR: status `diagnosed`) or `off` (events are recorded, nothing else: status
    `recorded`). Per repository in its table."""

    max_open_prs: int = Field(default=5, ge=0)
    """The most fixloop PRs open at once on a repository's forge, counted on the forge (a PR
    closed by hand frees its place). A proven fix past it waits as `deferred`."""

    max_prs_per_day: int = Field(default=10, ge=0)
    """The most PRs fixloop opens on a repository in one UTC day; past it a proven fix waits
    as `deferred` until the day rolls over."""

    max_model_cost_usd_per_day: float = Field(default=20.0, ge=0)
    """US dollars the model engines may spend in one UTC day: as a global setting, over all
    repositories; in a repository's table, on that repository. Once reached, the model engines
    are skipped (the template engine still runs) until the day rolls over."""

    operator_token: SecretStr | None = None
    """Bearer token of the operator endpoints of `fixloop serve` (`POST /controls/pause`,
    `/controls/unpause`). Without it they are refused (401)."""

    repos: dict[str, RepoTable] = Field(default_factory=dict)
    """The repositories fixloop serves, one table each (`[repos.shop]` with `checkout`,
    `projects` and the per-repository keys; see `RepoTable`). A string is the shorthand of one
    project and its checkout, e.g. `{"42": "/srv/shop"}`: table `42`, routing project 42."""

    pagerduty_services: dict[str, str] = Field(default_factory=dict)
    """PagerDuty service id to the Sentry project whose incidents it pages for, as JSON."""

    sentry_client_secret: SecretStr | None = None
    """Client secret of the Sentry integration: the key of `Sentry-Hook-Signature`. Without it
    every Sentry webhook is refused (401)."""

    pagerduty_webhook_secrets: list[SecretStr] = Field(default_factory=list)
    """Secrets of the PagerDuty v3 webhook subscription (several while one is rotated). Without
    one every PagerDuty webhook is refused (401)."""

    github_webhook_secret: SecretStr | None = None
    """Secret of the GitHub webhook (`X-Hub-Signature-256`). Without it every GitHub webhook is
    refused (401)."""

    ingest_keys: list[SecretStr] = Field(default_factory=list)
    """DSN public keys the Sentry ingest endpoints accept (`http://KEY@host:port/PROJECT`).
    Without one every ingest request is refused (401)."""

    scrub_keys: list[str] = Field(default_factory=list)
    """Key names whose values are scrubbed from incidents, besides sentry-sdk's own denylists
    (matched word by word: `card` scrubs `card`, `card_no` and `cardNumber`)."""

    keep_raw_payloads: bool = False
    """Store incoming payloads as received, unscrubbed. The incident a run uses is scrubbed
    all the same; leave this off unless the state directory may hold production secrets."""

    webhook_max_age: float = 300.0
    """A signed webhook older than this many seconds (Sentry's `Sentry-Hook-Timestamp`,
    PagerDuty's `occurred_at`) is stale and refused (401)."""

    verify_window: float = 0.0
    """Seconds after a merge that verify waits, at most, for a release that contains the merge
    commit to be seen running (a release whose version or commit resolves to a descendant of
    the merge commit). The run waits as `waiting_for_release`, holding no thread; the server's
    worker re-checks it on start, when an event names a new release and every
    `verify_poll_seconds`; `fixloop verify-pending` checks once.
    When the window passes without such a release, verify decides on the events since the
    merge and says so. 0: look for a release once and verify at once (the default)."""

    verify_poll_seconds: float = 300.0
    """How often `fixloop serve` re-checks the runs waiting for a release."""

    verify_max_rate: float = 0.0
    """Events per hour the incident may still show after the release (or the merge) for the
    fix to count as verified. 0: not one event."""

    verify_min_before_hours: float = 1.0
    """The before window (ending at the merge) is as long as the after window, and at least
    this many hours."""

    worker: bool = True
    """Whether `fixloop serve` runs the in-process worker that carries queued incidents through
    the loop. Off, requests are only persisted and queued."""

    broker_url: SecretStr | None = None
    """Celery's broker (`redis://host:6379/0`): `fixloop serve` persists each job and hands it
    to the broker, and `fixloop worker` processes on any host carry them. Unset, the server's
    in-process worker does."""

    broker_prefix: str = ""
    """Prefix of every key fixloop's Celery puts in Redis (several deployments on one Redis)."""

    broker_visibility_timeout: float = 3600.0
    """Seconds after which Redis hands a job that a worker took but never acknowledged (the
    worker died) to another worker."""

    lease_seconds: float = Field(default=60.0, gt=0)
    """A worker holds a lease on the incident it carries, renewed every third of this; a worker
    that dies without releasing it frees the incident this many seconds after its last renewal."""

    max_concurrent_runs: int = Field(default=0, ge=0)
    """Runs of one repository that Celery workers carry at once (0: no limit); a job over the
    limit waits in the broker for a slot."""

    sentry_url: str = "https://sentry.io"
    """Base URL of the Sentry REST API (self-hosted: your Sentry's URL)."""

    sentry_org: str | None = None
    """Sentry organization slug. With `sentry_token`, fixloop fetches the latest event of an
    `issue` webhook, counts events through the API, and resolves issues in Sentry."""

    sentry_token: SecretStr | None = None
    """Sentry auth token with event:read and event:write (environment only)."""

    pagerduty_url: str = "https://api.pagerduty.com"
    """Base URL of the PagerDuty REST API."""

    pagerduty_token: SecretStr | None = None
    """PagerDuty REST API key (environment only). With `pagerduty_from`, the PagerDuty
    incidents linked to a verified fix are resolved with a note."""

    pagerduty_from: str | None = None
    """Email of the PagerDuty user fixloop acts as (the `From` header of REST writes)."""

    forge: Literal["local", "github"] = "local"
    """Where PRs are opened: `local` (a branch in the target repo and a record in SQLite) or
    `github` (a pushed branch and a draft PR, settings `github_*`)."""

    github_repo: str | None = None
    """The GitHub repository PRs are opened on, `owner/name`."""

    github_token: SecretStr | None = None
    """Token for the GitHub API and for pushing `fixloop/*` branches (environment only)."""

    github_api_url: str = "https://api.github.com"
    """Base URL of the GitHub REST API (GitHub Enterprise: `https://HOST/api/v3`)."""

    github_remote_url: str | None = None
    """Git URL fixloop pushes to and fetches from; `https://github.com/<github_repo>.git` when
    unset. The token goes as an HTTP header, never in this URL."""

    pr_labels: list[str] = Field(default_factory=lambda: ["fixloop"])
    """Labels put on every PR fixloop opens on GitHub."""

    issue_trigger: IssueTrigger = "label"
    """Which GitHub issues of `github_repo` start a run (through the `issues` webhook) when
    their body holds a traceback: `label` (an issue labelled `issue_label`, or opened with
    it), `opened` (every issue opened, and every one labelled so) or `off`. That issue is the
    run's ticket when the tracker is `github`, and the PR says it fixes it."""

    issue_label: str = "fixloop:fix"
    """The label that makes a GitHub issue an incident (`issue_trigger`); a label of its own,
    apart from `pr_labels` and the labels fixloop puts on its tickets."""

    github_login: str | None = None
    """The GitHub login fixloop acts as (its token's user, or `<app>[bot]`): issues by this
    author are fixloop's own tickets and never start a run. Its tickets are known by their
    marker line in any case."""

    tracker: Literal["local", "jira", "github"] = "local"
    """Where tickets live: `local` (SQLite in the state directory), `jira` (settings `jira_*`)
    or `github` (GitHub Issues of `github_repo`, with `github_token`)."""

    jira_url: str | None = None
    """Base URL of the Jira site, e.g. `https://acme.atlassian.net`."""

    jira_user: str | None = None
    """Jira user (email on Jira Cloud) for basic auth with `jira_token`; unset, the token is
    sent as a bearer token (Jira Server/Data Center personal access token)."""

    jira_token: SecretStr | None = None
    """Jira API token or personal access token (environment only)."""

    jira_project: str | None = None
    """Key of the Jira project tickets are created in."""

    jira_issue_type: str = "Bug"
    """Issue type of the tickets fixloop creates."""

    jira_priorities: dict[str, str] = Field(
        default_factory=lambda: {
            "fatal": "Highest",
            "error": "High",
            "warning": "Medium",
            "info": "Low",
            "debug": "Lowest",
        }
    )
    """Jira priority name for each event level."""

    jira_transitions: dict[str, str] = Field(
        default_factory=lambda: {
            "in_review": "In Review",
            "closed": "Done",
            "reopened": "Reopen",
            "open": "Back to To Do",
        }
    )
    """The workflow transition that takes a ticket to each fixloop status (PR opened:
    `in_review`; merged and verified: `closed`; regressed: `reopened`)."""

    console_token: SecretStr | None = None
    """Token of the web console on `fixloop serve` (`/console`, environment only): sent as
    `Authorization: Bearer TOKEN` or entered once in its login form (then a cookie). With it or
    `console_proxy_header` set, every console request needs one of them; with neither, only
    requests from a loopback address are served."""

    console_proxy_header: str | None = None
    """A header that a reverse proxy in front of fixloop sets to the signed-in user (e.g.
    `X-Forwarded-User`): a console request carrying it is authenticated as that user. Set it
    only when the console can be reached through that proxy alone."""

    slack_token: SecretStr | None = None
    """Slack bot token (`xoxb-...`, environment only). With `slack_channel`, fixloop posts to
    Slack when an incident is ticketed, when its PR awaits review and when the fix is verified
    or regressed: one thread per incident."""

    slack_channel: str | None = None
    """The Slack channel (id or `#name`) incident threads are posted in."""

    slack_api_url: str = "https://slack.com/api/"
    """Base URL of the Slack Web API."""
    sentry_client_secrets: list[SecretStr] = Field(default_factory=list)
    """More client secrets of the Sentry integration, accepted beside `sentry_client_secret`
    (the old and the new one while a secret is rotated)."""

    github_webhook_secrets: list[SecretStr] = Field(default_factory=list)
    """More GitHub webhook secrets, accepted beside `github_webhook_secret` (rotation)."""

    access_tokens: list[SecretStr] = Field(default_factory=list)
    """Tokens that open the endpoints returning incident data (`/incidents`, `/metrics`,
    `/readyz`), sent as `Authorization: Bearer TOKEN` (several while one is rotated). Without
    one, those endpoints answer only loopback (see `loopback_open`) and `auth_proxy_header`."""

    auth_proxy_header: str | None = None
    """A header the reverse proxy sets after it authenticated the user (e.g.
    `X-Forwarded-User`, `X-Auth-Request-Email`): a request carrying it from one of
    `trusted_proxies` is let in. The proxy must drop the header from what clients send."""

    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Addresses whose `auth_proxy_header` is believed."""

    loopback_open: bool = True
    """Requests from loopback that came through no proxy (no `Forwarded`, `X-Forwarded-For` or
    `X-Real-IP` header) need no token. Turn it off when a proxy on this host forwards outside
    traffic without those headers."""

    log_format: Literal["text", "json"] = "text"
    """How `fixloop serve` logs: `text` (one `key=value` line per event) or `json` (one
    object per line)."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """The least severe log level written."""

    readiness_timeout: float = Field(default=5.0, gt=0)
    """Seconds `/readyz` waits for each outside system (tracker, forge, Sentry, PagerDuty)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, ConfigFileSource(settings_cls))

    _repo_table: str | None = PrivateAttr(default=None)
    _global: Settings | None = PrivateAttr(default=None)

    @field_validator("database_url")
    @classmethod
    def _postgresql(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(POSTGRES_SCHEMES):
            raise ValueError(
                "only PostgreSQL is supported (postgresql://...); leave it unset for SQLite "
                "in the state directory"
            )
        return url

    @field_validator("repos", mode="before")
    @classmethod
    def _shorthand(cls, repos: Any) -> Any:
        if not isinstance(repos, dict):
            return repos
        return {
            name: {"checkout": table, "projects": [name]}
            if isinstance(table, str | os.PathLike)
            else table
            for name, table in repos.items()
        }

    @field_validator("repos")
    @classmethod
    def _one_table_per_project(cls, repos: dict[str, RepoTable]) -> dict[str, RepoTable]:
        owner: dict[str, str] = {}
        for name, table in repos.items():
            for project in table.projects:
                if project in owner and owner[project] != name:
                    raise ValueError(
                        f"project {project!r} is routed to two tables: "
                        f"repos.{owner[project]}.projects and repos.{name}.projects"
                    )
                owner[project] = name
        return repos

    @property
    def repo_table(self) -> str | None:
        """The repository table these settings were made for (`for_repo`), if any."""
        return self._repo_table

    def for_repo(self, name: str | None) -> Settings:
        """The effective settings of one repository: the global settings merged with its table.
        None: the global settings as they are."""
        if name is None:
            return self
        table = self.repos.get(name)
        if table is None:
            known = ", ".join(sorted(self.repos)) or "none"
            raise ConfigError(f"no repository table {name!r} (setting repos; tables: {known})")
        effective = self.model_copy(update=table.overrides())
        effective._repo_table = name
        effective._global = self
        return effective

    @property
    def global_settings(self) -> Settings:
        """The settings before any repository table was merged in."""
        return self._global or self

    def table_of_project(self, project: str | None) -> str | None:
        """The table that routes a Sentry project or a PagerDuty service, if any."""
        return next((n for n, t in self.repos.items() if project and project in t.projects), None)

    def tables_of_github(self, full_name: str) -> list[str]:
        """The tables whose effective `github_repo` is `owner/name` (case-insensitive)."""
        wanted = full_name.lower()
        return [
            name
            for name, table in self.repos.items()
            if (table.github_repo or self.github_repo or "").lower() == wanted
        ]

    def table_at(self, checkout: Path, project: str | None = None) -> str | None:
        """The table of a checkout; of several tables on it (a monorepo), the one routing
        `project`. None when no table names the checkout."""
        here = checkout.resolve()
        names = [n for n, t in self.repos.items() if t.checkout.resolve() == here]
        if len(names) > 1:
            routed = [n for n in names if project and project in self.repos[n].projects]
            if len(routed) != 1:
                raise ConfigError(
                    f"{checkout} is the checkout of tables {', '.join(names)}; "
                    "name one (--repo NAME)"
                )
            names = routed
        return names[0] if names else None

    def target(self, repo: str | Path, project: str | None = None) -> tuple[str | None, Path]:
        """What `--repo` names: a table (by its name) or a checkout (by its path), as the
        table, if any, and the checkout."""
        if str(repo) in self.repos:
            return str(repo), self.repos[str(repo)].checkout
        return self.table_at(Path(repo), project), Path(repo)

    def resolved(self) -> dict[str, Any]:
        """The settings as recorded with every run, with the repository table they are for."""
        return self.model_dump(mode="json") | {"repo_table": self._repo_table}

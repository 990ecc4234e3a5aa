"""The composition root: the one place where `agent/` meets `tools/`.

Each adapter is imported by the function that builds it, so a command loads only what it uses
(`fixloop diagnose` needs the repository and the code index, not the store, the checkpointer,
the HTTP clients or the sandbox).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from agent.errors import ConfigError, FixloopError
from agent.settings import Settings
from tools.code_index import DirectoryTree, TreeSitterIndex
from tools.git_repo import GitRepo

if TYPE_CHECKING:  # adapters load in the functions that build them, not at every start
    from github import Github

    from agent.deps import Deps
    from agent.guardrails.redaction import (
        ScrubbingErrorSource,
    )
    from agent.ports import Controls, ErrorSource, EventReader, Inbox, Leases, Notifier, Sandbox
    from agent.repair import RepairEngine
    from agent.repair.claude import ClaudeEngine
    from agent.repair.templates import TemplateEngine
    from tools.checkpoints import Checkpoints
    from tools.error_store import LocalErrorStore
    from tools.github_forge import GitHubForge
    from tools.github_issues import GitHubIssuesTracker
    from tools.jira_tracker import JiraTracker
    from tools.local_forge import LocalForge
    from tools.local_tracker import LocalTracker
    from tools.pagerduty_api import PagerDutyApi
    from tools.sandbox.probe import InterpreterInfo
    from tools.sentry_api import SentryApi
    from tools.sentry_intake import SentryIntakeServer
    from tools.store.database import Branch, Database


def database(settings: Settings, branch: Branch) -> Database:
    """The store of `branch` (`records`, `inbox`): in PostgreSQL when `database_url` is set,
    else its SQLite file in the state directory."""
    from tools.store.database import open_database

    url = settings.database_url
    return open_database(
        settings.home / f"{branch}.db" if url is None else url.get_secret_value(), branch
    )


def records_db(settings: Settings) -> Database:
    return database(settings, "records")


def checkpoints(settings: Settings) -> AbstractContextManager[Checkpoints]:
    """The LangGraph checkpointer of every run, with the threads it holds."""
    from tools.checkpoints import open_checkpoints

    url = settings.database_url
    if url is None:
        return open_checkpoints(settings.home / "checkpoints.db")
    return open_checkpoints(url.get_secret_value())


def store_problem(settings: Settings) -> str | None:
    """Why the stores cannot be opened (and migrated), or None when they can."""
    try:
        database(settings, "records")
        database(settings, "inbox")
        with checkpoints(settings):
            return None
    except FixloopError as error:
        return str(error)


def store_name(settings: Settings) -> str:
    """Where the stores live, as an operator reads it (no password)."""
    from tools.store.database import shown

    url = settings.database_url
    return f"sqlite in {settings.home}" if url is None else shown(url.get_secret_value())


def has_runs(settings: Settings) -> bool:
    """Whether any run may be stored (without creating an empty SQLite store to find out)."""
    return settings.database_url is not None or (settings.home / "checkpoints.db").exists()


def open_repo(path: Path) -> GitRepo:
    if not (path / ".git").exists():
        raise ConfigError(f"{path} is not a git repository")
    return GitRepo(path.resolve())


def error_store(settings: Settings) -> LocalErrorStore:
    from tools.error_store import LocalErrorStore

    return LocalErrorStore(records_db(settings))


def github_client(settings: Settings, token: SecretStr) -> Github:
    from github import Auth, Github

    return Github(
        auth=Auth.Token(token.get_secret_value()),
        base_url=settings.github_api_url,
        seconds_between_requests=0,
        seconds_between_writes=0,
        timeout=30,
    )


def sentry_api(settings: Settings) -> SentryApi | None:
    """The Sentry REST client, when `sentry_org` and `sentry_token` are set."""
    import httpx

    from tools.rest import RestClient
    from tools.sentry_api import SentryApi

    if not settings.sentry_org or settings.sentry_token is None:
        return None
    client = httpx.Client(
        base_url=settings.sentry_url,
        headers={"Authorization": f"Bearer {settings.sentry_token.get_secret_value()}"},
        timeout=httpx.Timeout(10.0, connect=5.0),
    )
    return SentryApi(RestClient(client, "Sentry"), settings.sentry_org)


def pagerduty_api(settings: Settings) -> PagerDutyApi | None:
    """The PagerDuty REST client, when `pagerduty_token` and `pagerduty_from` are set."""
    import httpx

    from tools.pagerduty_api import PagerDutyApi
    from tools.rest import RestClient

    if settings.pagerduty_token is None or not settings.pagerduty_from:
        return None
    client = httpx.Client(
        base_url=settings.pagerduty_url,
        headers={
            "Authorization": f"Token token={settings.pagerduty_token.get_secret_value()}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        timeout=httpx.Timeout(10.0, connect=5.0),
    )
    return PagerDutyApi(RestClient(client, "PagerDuty"), settings.pagerduty_from)


def error_source(settings: Settings) -> ErrorSource:
    """The local store, or with the Sentry API configured, the store backed by Sentry."""
    from tools.sentry_errors import SentryErrorSource

    api = sentry_api(settings)
    local = error_store(settings)
    return local if api is None else SentryErrorSource(local, api, records_db(settings))


def tracker(settings: Settings) -> LocalTracker | JiraTracker | GitHubIssuesTracker:
    from jira import JIRA

    from tools.github_issues import GitHubIssuesTracker
    from tools.jira_tracker import JiraTracker
    from tools.local_tracker import LocalTracker

    if settings.tracker == "local":
        return LocalTracker(records_db(settings))
    if settings.tracker == "github":
        if not settings.github_repo or settings.github_token is None:
            raise ConfigError("tracker 'github' needs the settings github_repo and github_token")
        return GitHubIssuesTracker(
            github_client(settings, settings.github_token), settings.github_repo
        )
    needed = ("jira_url", "jira_project", "jira_token")
    missing = [name for name in needed if not getattr(settings, name)]
    if missing or not (settings.jira_url and settings.jira_project and settings.jira_token):
        raise ConfigError(
            "tracker 'jira' needs the settings jira_url, jira_project, jira_token; "
            f"missing: {', '.join(missing)}"
        )
    token = settings.jira_token.get_secret_value()
    auth: dict[str, Any] = (
        {"basic_auth": (settings.jira_user, token)} if settings.jira_user else {"token_auth": token}
    )
    client = JIRA(
        server=settings.jira_url, get_server_info=False, max_retries=2, timeout=30, **auth
    )
    return JiraTracker(
        client,
        settings.jira_project,
        issue_type=settings.jira_issue_type,
        priorities=settings.jira_priorities,
        transitions=settings.jira_transitions,
    )


def forge(settings: Settings, repo: GitRepo) -> LocalForge | GitHubForge:
    from tools.github_forge import GitHubForge
    from tools.local_forge import LocalForge

    base = settings.base_branch or repo.default_branch()
    if settings.forge == "local":
        return LocalForge(records_db(settings), repo, base)
    if not settings.github_repo or settings.github_token is None:
        raise ConfigError("forge 'github' needs the settings github_repo and github_token")
    if base == repo.resolve("HEAD") and not settings.base_branch:
        raise ConfigError(
            f"HEAD is detached in {repo.path}: a GitHub pull request needs a base branch; "
            "set base_branch"
        )
    token = settings.github_token.get_secret_value()
    return GitHubForge(
        github_client(settings, settings.github_token),
        settings.github_repo,
        repo,
        base,
        remote_url=settings.github_remote_url or f"https://github.com/{settings.github_repo}.git",
        token=token,
        labels=settings.pr_labels,
    )


ENGINE_NAMES = ("templates", "claude")


def engines(settings: Settings) -> tuple[RepairEngine, ...]:
    unknown = [name for name in settings.engines if name not in ENGINE_NAMES]
    if unknown:
        raise ConfigError(f"unknown repair engine(s) {unknown}; known: {sorted(ENGINE_NAMES)}")
    built: list[RepairEngine] = []
    for name in settings.engines:
        built.append(template_engine(settings) if name == "templates" else claude_engine(settings))
    return tuple(built)


def template_engine(settings: Settings) -> TemplateEngine:
    """Crash templates, then mutations, then the revert of the suspect commit."""
    from agent.repair.mutations import MutationEngine
    from agent.repair.revert import RevertEngine
    from agent.repair.templates import TemplateEngine

    mutations = MutationEngine(seconds=settings.mutation_seconds)
    revert = RevertEngine(window=settings.revert_window)
    return TemplateEngine(mutations, revert)


def claude_engine(settings: Settings) -> ClaudeEngine:
    """The Claude engine, with its client built from `ANTHROPIC_API_KEY` and, when set,
    `ANTHROPIC_BASE_URL` (the two variables outside `FIXLOOP_*` that fixloop reads)."""
    from agent.guardrails.policy import Policy
    from agent.guardrails.redaction import ScrubbingModel, secrets_of
    from agent.repair.claude import Budget, ClaudeEngine, Price
    from tools.anthropic_model import AnthropicModel  # the SDK takes seconds to import

    api_key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not api_key:
        raise ConfigError("the claude engine needs ANTHROPIC_API_KEY in the environment")
    unpriced = [m for m in settings.claude_models if m not in settings.claude_prices]
    if unpriced or not settings.claude_models:
        raise ConfigError(f"claude_models needs models with a price in claude_prices: {unpriced}")
    model = AnthropicModel(
        api_key,
        os.environ.get("ANTHROPIC_BASE_URL") or None,
        settings.claude_max_retries,
        settings.claude_timeout,
    )
    budget = Budget(
        max_steps=settings.claude_max_steps,
        max_seconds=settings.claude_max_seconds,
        max_tokens=settings.claude_max_tokens,
        max_cost_usd=settings.claude_max_cost_usd,
        max_output_tokens=settings.claude_max_output_tokens,
    )
    tiers = [(m, Price(*settings.claude_prices[m])) for m in settings.claude_models]
    return ClaudeEngine(
        ScrubbingModel(model, secrets_of(settings)),
        tiers,
        budget,
        sandbox(settings),
        Policy.from_settings(settings),
        (settings.home / "worktrees" / "claude").resolve(),
    )


def sandbox(settings: Settings) -> Sandbox:
    from tools.sandbox import make_sandbox

    return make_sandbox(
        settings.sandbox,
        settings.python,
        settings.pytest_args,
        settings.test_timeout,
        settings.memory_limit_mb,
        test_paths=settings.test_paths,
        hidden=[settings.home],
        per_test_timeout=settings.per_test_timeout,
    )


def probe_interpreter(python: str) -> InterpreterInfo:
    """The interpreter's Python and pytest versions, and whether fixloop's plugin runs under it."""
    from tools.sandbox import probe

    return probe.probe_interpreter(python)


def sandbox_choice(settings: Settings) -> tuple[str, str]:
    """Which sandbox `sandbox(settings)` gives, and why ("none": it refuses to run tests)."""
    from tools.sandbox import UNSAFE_MODES, bwrap_problem

    if settings.sandbox in UNSAFE_MODES:
        return (
            "subprocess",
            f"the setting sandbox is {settings.sandbox!r}: tests run WITHOUT isolation",
        )
    problem = bwrap_problem()
    if problem is None:
        return "bwrap", "bubblewrap works here"
    return (
        "none",
        f"bubblewrap does not work ({problem}): fixloop refuses to run tests; install it, or "
        "set sandbox = 'unsafe-subprocess' to run them without isolation",
    )


def online_problems(settings: Settings) -> list[str]:
    """What the forge's and the tracker's APIs say is wrong with their settings (network)."""
    from github import GithubException
    from jira import JIRAError
    from requests import RequestException

    from tools.jira_tracker import JiraTracker

    problems: list[str] = []
    uses_github = settings.forge == "github" or settings.tracker == "github"
    if uses_github and settings.github_repo and settings.github_token is not None:
        try:
            github_client(settings, settings.github_token).get_repo(settings.github_repo)
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else error.data
            problems.append(f"GitHub repository {settings.github_repo}: {error.status} {message}")
        except RequestException as error:
            problems.append(f"GitHub repository {settings.github_repo}: {error}")
    if settings.tracker == "jira" and settings.jira_project:
        jira = tracker(settings)
        try:
            if isinstance(jira, JiraTracker):
                jira.client.project(settings.jira_project)
        except (JIRAError, RequestException) as error:
            problems.append(f"Jira project {settings.jira_project}: {error}")
    return problems


def build_deps(settings: Settings, repo_path: Path, incident_id: str) -> Deps:
    from agent.deps import Deps
    from agent.guardrails.policy import Policy
    from agent.guardrails.redaction import RedactingForge, RedactingTracker, secrets_of
    from agent.logs import LoggedForge, LoggedTracker

    repo = open_repo(repo_path)
    local_forge = forge(settings, repo)
    secrets = secrets_of(settings)
    return Deps(
        settings=settings,
        repo=repo,
        code_index=TreeSitterIndex(
            repo, cache_path=index_db(settings), workers=settings.index_workers
        ),
        sandbox=sandbox(settings),
        tracker=LoggedTracker(
            RedactingTracker(tracker(settings), secrets), incident_id, settings.tracker
        ),
        forge=LoggedForge(RedactingForge(local_forge, secrets), incident_id, settings.forge),
        errors=scrubbing(settings, error_source(settings)),
        engines=engines(settings),
        policy=Policy.from_settings(settings),
        base_branch=local_forge.base,
        scratch=(settings.home / "worktrees" / incident_id).resolve(),
        notifier=notifier(settings),
        controls=controls(settings),
    )


def notifier(settings: Settings) -> Notifier | None:
    """Slack, when `slack_token` and `slack_channel` are set: its messages scrubbed."""
    if settings.slack_token is None or not settings.slack_channel:
        return None
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    from agent.guardrails.redaction import RedactingNotifier, secrets_of
    from tools.slack_notifier import SlackNotifier

    client = WebClient(
        token=settings.slack_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    slack = SlackNotifier(client, settings.slack_channel, records_db(settings))
    return RedactingNotifier(slack, secrets_of(settings))


def controls(settings: Settings) -> Controls:
    """The operator controls in the records store."""
    from tools.control_store import SqlControls

    return SqlControls(records_db(settings))


def scrubbing(settings: Settings, source: ErrorSource) -> ScrubbingErrorSource:
    """`source` with every recorded event scrubbed as the settings say."""
    from agent.guardrails.redaction import ScrubbingErrorSource

    return ScrubbingErrorSource(source, settings.scrub_keys, keep_raw=settings.keep_raw_payloads)


def repo_and_index(settings: Settings, repo_path: Path) -> tuple[GitRepo, TreeSitterIndex]:
    """A repository and its code index, as `build_deps` makes them, for reading only."""
    repo = open_repo(repo_path)
    index = TreeSitterIndex(repo, cache_path=index_db(settings), workers=settings.index_workers)
    return repo, index


def index_db(settings: Settings) -> Path:
    return settings.home / "index.db"


def code_index_of(
    settings: Settings, path: Path, rev: str | None = None, exclude: list[str] | None = None
) -> tuple[TreeSitterIndex, str]:
    """The code index of a git repository at `rev` (default HEAD), or of a plain directory.

    A plain directory has no revisions (`rev` must be unset); its files are keyed by the git
    blob id of their content. `exclude` names folders left out of a plain directory.
    """
    if (path / ".git").exists():
        if exclude:
            raise ConfigError(
                "--exclude applies to plain directories; a git repository is "
                "indexed as its commit has it"
            )
        repo = open_repo(path)
        tree: GitRepo | DirectoryTree = repo
        rev = repo.head(rev or "HEAD")
    elif rev is not None:
        raise ConfigError(f"{path} is not a git repository, so it has no revision {rev}")
    else:
        tree = DirectoryTree(path, exclude or [], stat_cache=index_db(settings))
        rev = ""
    index = TreeSitterIndex(tree, cache_path=index_db(settings), workers=settings.index_workers)
    return index, rev


def sentry_intake(settings: Settings, port: int | None = None) -> SentryIntakeServer:
    from agent.intake.payloads import parse_payload
    from tools.sentry_intake import SentryIntakeServer

    return SentryIntakeServer(
        scrubbing(settings, error_store(settings)),
        parse_payload,
        host=settings.intake_host,
        port=settings.intake_port if port is None else port,
    )


def inbox(settings: Settings) -> Inbox:
    from tools.inbox import SqlInbox

    return SqlInbox(database(settings, "inbox"))


def leases(settings: Settings) -> Leases:
    from tools.leases import SqlLeases

    return SqlLeases(database(settings, "inbox"))


def ingest_reader(max_body_bytes: int) -> EventReader:
    from functools import partial

    from tools.sentry_intake import read_events

    return partial(read_events, limit=max_body_bytes)

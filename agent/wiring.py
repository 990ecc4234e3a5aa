"""The composition root: the one place where `agent/` meets `tools/`."""

from __future__ import annotations

import os
from pathlib import Path

from agent.deps import Deps
from agent.errors import ConfigError
from agent.intake import parse_payload
from agent.policy import Policy
from agent.ports import Sandbox
from agent.repair import RepairEngine
from agent.repair.claude import Budget, ClaudeEngine, Price
from agent.repair.templates import TemplateEngine
from agent.settings import Settings
from tools.code_index import DirectoryTree, TreeSitterIndex
from tools.error_store import LocalErrorStore
from tools.git_repo import GitRepo
from tools.local_forge import LocalForge
from tools.local_tracker import LocalTracker
from tools.sandbox import make_sandbox
from tools.sentry_intake import SentryIntakeServer


def records_db(settings: Settings) -> Path:
    return settings.home / "records.db"


def open_repo(path: Path) -> GitRepo:
    if not (path / ".git").exists():
        raise ConfigError(f"{path} is not a git repository")
    return GitRepo(path.resolve())


def error_store(settings: Settings) -> LocalErrorStore:
    return LocalErrorStore(records_db(settings))


def tracker(settings: Settings) -> LocalTracker:
    return LocalTracker(records_db(settings))


def forge(settings: Settings, repo: GitRepo) -> LocalForge:
    base = settings.base_branch or repo.default_branch()
    return LocalForge(records_db(settings), repo, base)


ENGINE_NAMES = ("templates", "claude")


def engines(settings: Settings) -> tuple[RepairEngine, ...]:
    unknown = [name for name in settings.engines if name not in ENGINE_NAMES]
    if unknown:
        raise ConfigError(f"unknown repair engine(s) {unknown}; known: {sorted(ENGINE_NAMES)}")
    built: list[RepairEngine] = []
    for name in settings.engines:
        built.append(TemplateEngine() if name == "templates" else claude_engine(settings))
    return tuple(built)


def claude_engine(settings: Settings) -> ClaudeEngine:
    """The Claude engine, with its client built from `ANTHROPIC_API_KEY` and, when set,
    `ANTHROPIC_BASE_URL` (the two variables outside `FIXLOOP_*` that fixloop reads)."""
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
        model,
        tiers,
        budget,
        sandbox(settings),
        Policy.from_settings(settings),
        (settings.home / "worktrees" / "claude").resolve(),
    )


def sandbox(settings: Settings) -> Sandbox:
    return make_sandbox(
        settings.sandbox,
        settings.python,
        settings.pytest_args,
        settings.test_timeout,
        settings.memory_limit_mb,
        test_paths=settings.test_paths,
    )


def build_deps(settings: Settings, repo_path: Path, incident_id: str) -> Deps:
    repo = open_repo(repo_path)
    local_forge = forge(settings, repo)
    return Deps(
        settings=settings,
        repo=repo,
        code_index=TreeSitterIndex(
            repo, cache_path=index_db(settings), workers=settings.index_workers
        ),
        sandbox=sandbox(settings),
        tracker=tracker(settings),
        forge=local_forge,
        errors=error_store(settings),
        engines=engines(settings),
        policy=Policy.from_settings(settings),
        base_branch=local_forge.base,
        scratch=(settings.home / "worktrees" / incident_id).resolve(),
    )


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
    return SentryIntakeServer(
        error_store(settings),
        parse_payload,
        host=settings.intake_host,
        port=settings.intake_port if port is None else port,
    )

"""One settings model. Sources, strongest first: arguments, `FIXLOOP_*` environment, `fixloop.toml`.

Only variables with the `FIXLOOP_` prefix are read; nothing else in the environment is.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_FORBIDDEN_PATHS = [
    ".github/**",
    ".gitlab-ci.yml",
    ".ci/**",
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/secrets*",
    "**/*.lock",
    "**/poetry.lock",
    "**/package-lock.json",
    "**/requirements*.txt",
    "**/migrations/**",
    "**/alembic/**",
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIXLOOP_", toml_file="fixloop.toml", extra="forbid", validate_default=True
    )

    home: Path = Path(".fixloop")
    """State directory: checkpoints, tickets, PR records, the error store, worktrees."""

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

    sandbox: Literal["auto", "bwrap", "subprocess"] = "auto"
    """`auto` uses bubblewrap when it works here and a plain subprocess (with a warning) if not."""

    test_timeout: float = 300.0
    """Wall-time limit for one test run, in seconds."""

    memory_limit_mb: int = 4096
    """Address-space limit for one test run."""

    engines: list[str] = Field(default_factory=lambda: ["templates"])
    """Repair engines in the order they are tried."""

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
    """Guardrail: globs a candidate may never touch (CI config, secrets, lock files, migrations)."""

    index_workers: int = Field(default=0, ge=0)
    """Processes that parse source files when the code index reads a whole tree; 0 means one
    per core. A handful of files is always parsed in-process."""

    intake_host: str = "127.0.0.1"
    """Address the Sentry-protocol intake listens on."""

    intake_port: int = 8450
    """Port the Sentry-protocol intake listens on."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def resolved(self) -> dict[str, Any]:
        """The settings as recorded with every run."""
        return self.model_dump(mode="json")

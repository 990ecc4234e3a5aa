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
    """Repair engines in tier order (`templates`, `claude`): each round asks the next engine
    only when those before it have no new candidate."""

    max_fix_rounds: int = 3
    """How many fix -> test rounds before the incident is escalated."""

    candidates_per_round: int = 6
    """How many candidates one round sends to the test node."""

    max_diff_lines: int = 40
    """Guardrail: the largest diff (added + removed lines) a candidate may have."""

    allowed_paths: list[str] = Field(default_factory=lambda: ["**"])
    """Guardrail: globs a candidate may touch."""

    forbidden_paths: list[str] = Field(default_factory=lambda: list(DEFAULT_FORBIDDEN_PATHS))
    """Guardrail: globs a candidate may never touch (CI config, secrets, lock files, migrations)."""

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

"""The README is the front door: its commands are the ones CI and the CLI really have."""

from __future__ import annotations

import re
from pathlib import Path

from agent.service.cli import _parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TEST_COMMAND = ".venv/bin/python -m pytest -q"


def test_ci_runs_the_readmes_test_command_exactly() -> None:
    assert f"```bash\n{TEST_COMMAND}\n```" in README
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci_lines[-1] == TEST_COMMAND


def test_one_command_installs_and_runs_the_demo() -> None:
    quick_start = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/fixloop demo"
    )
    assert f"```bash\n{quick_start}\n```" in README
    assert "source .ci/setup" in (ROOT / ".ci" / "run").read_text()
    setup = (ROOT / ".ci" / "setup").read_text()
    assert "python3 -m venv .venv" in setup and ".venv/bin/pip install -q -e '.[dev]'" in setup


def test_every_cli_command_in_the_readme_exists() -> None:
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    commands = set(subparsers.choices or ())
    cli_block = README.split("## CLI", 1)[1].split("```")[1]
    mentioned = set(re.findall(r"^fixloop ([\w-]+)", cli_block, flags=re.MULTILINE))
    assert mentioned, "the README lists no CLI commands"
    assert mentioned <= commands
    assert commands <= mentioned, f"undocumented: {commands - mentioned}"


def test_every_setting_in_the_readme_exists() -> None:
    from agent.settings import Settings

    names = {m.lower() for m in re.findall(r"`FIXLOOP_(\w+)`", README)}
    assert names <= set(Settings.model_fields)

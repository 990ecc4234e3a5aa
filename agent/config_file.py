"""Where `fixloop.toml` is, and reading it: `--config PATH`, else `FIXLOOP_CONFIG`, else
`fixloop.toml` in the working directory.

A file named explicitly must exist, and the relative paths in it (`home`, each table's
`checkout`) are relative to its folder, so `fixloop status` answers the same from any directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, TomlConfigSettingsSource

from agent.errors import ConfigError

CONFIG_VARIABLE = "FIXLOOP_CONFIG"
DEFAULT_FILE = Path("fixloop.toml")

_CHOSEN: ContextVar[Path | None] = ContextVar("config_file", default=None)


@contextmanager
def config_file_chosen(path: Path | None) -> Iterator[None]:
    """Read settings from `path` (`--config`) inside the block; None keeps the default."""
    token = _CHOSEN.set(path)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def config_path() -> tuple[Path, bool]:
    """The configuration file, and whether it was named explicitly (then it must exist)."""
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen, True
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        return Path(named), True
    return DEFAULT_FILE, False


class ConfigFileSource(TomlConfigSettingsSource):
    """The TOML source of `Settings`: a missing named file or bad TOML is a `ConfigError`."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        path, named = config_path()
        if named and not path.is_file():
            where = "--config" if _CHOSEN.get() is not None else CONFIG_VARIABLE
            raise ConfigError(f"configuration file {path} ({where}) does not exist")
        self.folder = path.resolve().parent if named else None
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            data = super()._read_file(file_path)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{file_path} is not valid TOML: {error}") from None
        return data if self.folder is None else self._anchored(data, self.folder)

    def _anchored(self, data: dict[str, Any], folder: Path) -> dict[str, Any]:
        """`home` and the checkouts, made relative to the file's folder."""
        if isinstance(data.get("home"), str):
            data["home"] = str(_relative(data["home"], folder))
        repos = data.get("repos")
        if isinstance(repos, dict):
            for name, table in repos.items():
                if isinstance(table, str):
                    repos[name] = str(_relative(table, folder))
                elif isinstance(table, dict) and isinstance(table.get("checkout"), str):
                    table["checkout"] = str(_relative(table["checkout"], folder))
        return data


def _relative(value: str, folder: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path

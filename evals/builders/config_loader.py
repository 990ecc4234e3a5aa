"""svcconf: the billing services' configuration loader (TOML/INI, conf.d drop-ins, SVC_* overrides,
typed coercion, durations and sizes, scheduled feature flags, a config-service client, a CLI).

One shared base history (four commits, three authors, tagged v2.1.0); each case adds the commit
that introduced its bug (or, for escalations, nothing wrong in the code) and later unrelated work.
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

MARTA = "Marta Kowalski <marta.kowalski@ledgerly.dev>"
DEV = "Dev Okafor <dev.okafor@ledgerly.dev>"
JONAS = "Jonas Lind <jonas.lind@ledgerly.dev>"
PROJECT = "4507422"


def _sub(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (a guard against silent no-op edits)."""
    if text.count(old) != 1:
        raise ValueError(f"expected exactly one occurrence of {old!r}")
    return text.replace(old, new)


# --- base files -----------------------------------------------------------------------------

PYPROJECT = r"""[project]
name = "svcconf"
version = "2.1.0"
description = "Configuration loading for the Ledgerly billing services"
requires-python = ">=3.11"

[project.scripts]
svcconf = "svcconf.cli:main"

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools]
packages = ["svcconf"]

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

README = r"""# svcconf

Configuration loading for the billing services (billing-api, invoicer, dunning-worker).

```python
from svcconf.loader import load

settings = load("/srv/billing/deploy/production.toml")
settings.server.port, settings.cache.max_size
```

Layers, later ones winning key by key:

1. the file (`.toml` or `.ini`);
2. drop-ins in the file's `conf.d/` directory, in name order (ops manage these per host);
3. the config service, when `SVC_CONFIG_SERVICE=host:port` is set;
4. environment variables `SVC_<SECTION>__<KEY>`, e.g. `SVC_SERVER__WORKERS=12`.

Durations are written `"30s"`, `"5m"`, `"1h30m"`; sizes `"512MB"`, `"1.5GiB"`.
`svcconf check FILE`, `svcconf env FILE` and `svcconf flags FILE` are the deploy-time tools.
"""

INIT = r'''"""svcconf: configuration loading for the billing services."""

from svcconf.errors import ConfigError

__all__ = ["ConfigError"]
__version__ = "2.1.0"
'''

ERRORS = r'''"""The one error type operators see: what is wrong, and where."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem an operator can fix."""

    def __init__(self, reason: str, *, source: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        super().__init__(reason)

    def __str__(self) -> str:
        if self.source is None:
            return self.reason
        where = self.source if self.line is None else f"{self.source}, line {self.line}"
        return f"{where}: {self.reason}"
'''

COERCE = r'''"""Typed coercion of raw config values: INI files and the environment give strings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from svcconf.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"not a boolean: {value!r} (use true/false)")


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"not an integer: {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(f"not an integer: {value!r}") from None


def to_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"not a number: {value!r}") from None


_SIMPLE: dict[str, Callable[[Any], Any]] = {"str": str, "int": to_int, "bool": to_bool, "decimal": to_decimal}


def coercer(type_name: str) -> Callable[[Any], Any]:
    """The function turning a raw value into `type_name`."""
    if type_name in _SIMPLE:
        return _SIMPLE[type_name]
    if type_name in ("duration", "size"):
        # units imports to_decimal from here, so import it late rather than at the top.
        from svcconf import units

        return units.parse_duration if type_name == "duration" else units.parse_size
    raise ConfigError(f"unknown setting type {type_name!r}")


def coerce(value: Any, type_name: str, *, key: str) -> Any:
    try:
        return coercer(type_name)(value)
    except ConfigError as error:
        raise ConfigError(f"{key}: {error.reason}") from None
'''

UNITS = r'''"""Durations ("30s", "1h30m", "250ms") and sizes ("512MB", "1.5GiB") in config values."""

from __future__ import annotations

import re
from typing import Any

from svcconf.coerce import to_decimal
from svcconf.errors import ConfigError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}

_SIZE = re.compile(r"(\d+(?:\.\d+)?)([KMGT]i?B|B)?")
_BYTES = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_BYTES |= {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def parse_duration(value: Any) -> float:
    """Seconds: a number of seconds, or a string like "30s", "5m", "1h30m", "250ms"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    seconds, position = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        raise ConfigError(f"not a duration: {value!r} (try '30s', '5m' or '1h30m')")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes: a number of bytes, or a string like "512MB" (10**6) or "1.5GiB" (2**30)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ConfigError(f"not a size: {value!r} (try '512MB' or '1GiB')")
    number, unit = match.groups()
    return int(to_decimal(number) * _BYTES[unit or "B"])
'''

SCHEMA = r'''"""The settings every billing service understands, with their types and defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 4
    timeout: float = 30.0  # seconds; "30s" in files
    max_body: int = 10_000_000  # bytes; "10MB" in files

    @property
    def metrics_port(self) -> int:
        """Prometheus scrapes the port right after the app's."""
        return self.port + 1

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class DatabaseSettings:
    url: str = "postgresql://localhost/billing"
    pool_size: int = 5


@dataclass
class CacheSettings:
    backend: str = "memory"
    max_size: int = 64_000_000
    ttl: float = 300.0


@dataclass
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)  # for FlagSet.from_tables
    source: str | None = None


SCHEMA: dict[str, dict[str, str]] = {
    "server": {"host": "str", "port": "int", "workers": "int", "timeout": "duration", "max_body": "size"},
    "database": {"url": "str", "pool_size": "int"},
    "cache": {"backend": "str", "max_size": "size", "ttl": "duration"},
}
'''

LOADER = r'''"""Loading a service's settings. Later layers win key by key: the file, then `conf.d/*.toml|*.ini`
next to it in name order (ops put host-specific overrides there), then the config service when
SVC_CONFIG_SERVICE is set, then environment variables named SVC_<SECTION>__<KEY>.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from svcconf.coerce import coerce
from svcconf.errors import ConfigError
from svcconf.schema import SCHEMA, Settings

ENV_PREFIX = "SVC_"
REMOTE_VARIABLE = "SVC_CONFIG_SERVICE"
Raw = dict[str, dict[str, Any]]


def read_file(path: str | Path) -> Raw:
    """The sections of one TOML or INI file, with values as the file has them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", source=str(path)) from None
    if path.suffix == ".toml":
        return _read_toml(text, str(path))
    if path.suffix in (".ini", ".cfg"):
        return _read_ini(text, str(path))
    raise ConfigError(f"unsupported format {path.suffix!r} (use .toml or .ini)", source=str(path))


def _read_toml(text: str, source: str) -> Raw:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message, _, where = str(error).partition(" (at ")
        line = re.search(r"line (\d+)", where)
        raise ConfigError(message, source=source, line=int(line[1]) if line else None) from error


def _read_ini(text: str, source: str) -> Raw:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        message = re.sub(r"^While reading from .*?\]: ", "", error.message.splitlines()[0])
        raise ConfigError(message, source=source, line=getattr(error, "lineno", None)) from error
    return {name: dict(parser[name]) for name in parser.sections()}


def merge(base: Raw, layer: Mapping[str, Any]) -> Raw:
    """Fold `layer` over `base` key by key (tables one level deep, as flags are)."""
    for section, values in layer.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"{section!r} must be a section, got {values!r}")
        target = base.setdefault(section, {})
        for key, value in values.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), Mapping):
                target[key] = {**target[key], **value}
            else:
                target[key] = value
    return base


def drop_ins(path: Path) -> list[Path]:
    directory = path.parent / "conf.d"
    if not directory.is_dir():
        return []
    return sorted(entry for entry in directory.iterdir() if entry.suffix in (".toml", ".ini"))


def env_overrides(environ: Mapping[str, str]) -> Raw:
    """SVC_SERVER__WORKERS=12 -> {"server": {"workers": "12"}}."""
    overrides: Raw = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        overrides.setdefault(section, {})[key] = value
    return overrides


def build(raw: Raw, source: str | None = None) -> Settings:
    """Typed settings from raw sections; unknown sections and keys are errors."""
    settings = Settings(source=source)
    for section, values in raw.items():
        if section == "flags":
            settings.flags = dict(values)
            continue
        if section not in SCHEMA:
            raise ConfigError(f"unknown section [{section}]", source=source)
        target = getattr(settings, section)
        for key, value in values.items():
            if key not in SCHEMA[section]:
                raise ConfigError(f"unknown setting {section}.{key}", source=source)
            setattr(target, key, coerce(value, SCHEMA[section][key], key=f"{section}.{key}"))
    return settings


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path = Path(path)
    raw = read_file(path)
    for drop_in in drop_ins(path):
        merge(raw, read_file(drop_in))
    address = environ.get(REMOTE_VARIABLE)
    if address:
        from svcconf.remote import RemoteConfigClient

        service = environ.get("SVC_SERVICE", path.stem)
        merge(raw, RemoteConfigClient.from_address(address).fetch(service))
    merge(raw, env_overrides(environ))
    return build(raw, source=str(path))
'''

FLAGS = r'''"""Feature flags from `[flags.<name>]` tables: on unless `enabled = false`, optionally between
`start` and `end` (TOML date-times, or ISO 8601 strings in INI files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from svcconf.coerce import to_bool
from svcconf.errors import ConfigError

_KEYS = {"enabled", "start", "end"}


def _schedule_time(value: Any) -> datetime | None:
    """A schedule bound as an aware UTC datetime; times without an offset are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"not a date-time: {value!r}") from None
    if not isinstance(value, datetime):
        raise ConfigError(f"not a date-time: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Flag:
    name: str
    enabled: bool = True
    start: datetime | None = None
    end: datetime | None = None

    def active(self, now: datetime) -> bool:
        if not self.enabled:
            return False
        if self.start is not None and now < self.start:
            return False
        return self.end is None or now < self.end


class FlagSet:
    def __init__(self, flags: Mapping[str, Flag]) -> None:
        self.flags = dict(flags)

    @classmethod
    def from_tables(cls, tables: Mapping[str, Mapping[str, Any]]) -> FlagSet:
        flags = {}
        for name, table in tables.items():
            unknown = sorted(set(table) - _KEYS)
            if unknown:
                raise ConfigError(f"flags.{name}: unknown keys {unknown}")
            flags[name] = Flag(
                name,
                enabled=to_bool(table.get("enabled", True)),
                start=_schedule_time(table.get("start")),
                end=_schedule_time(table.get("end")),
            )
        return cls(flags)

    def names(self) -> list[str]:
        return sorted(self.flags)

    def is_enabled(self, name: str, *, now: datetime | None = None) -> bool:
        """Whether flag `name` is on at `now` (default: now); unknown flags are off."""
        flag = self.flags.get(name)
        if flag is None:
            return False
        return flag.active(now or datetime.now(timezone.utc))
'''

REMOTE = r'''"""Client for the config service (confd): GET /v1/services/<service>/settings -> JSON sections."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from svcconf.errors import ConfigError
from svcconf.units import parse_duration


class RemoteConfigClient:
    def __init__(self, host: str, port: int = 8411, *, timeout: str | float = "3s", retries: int = 2) -> None:
        self.host = host
        self.port = port
        self.timeout = parse_duration(timeout)
        self.retries = retries

    @classmethod
    def from_address(cls, address: str) -> RemoteConfigClient:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"SVC_CONFIG_SERVICE must be host:port, got {address!r}")
        return cls(host, int(port))

    def fetch(self, service: str) -> dict[str, dict[str, Any]]:
        """The service's settings; {} when the config service has none for it."""
        path = f"/v1/services/{service}/settings"
        last_error: OSError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.2 * attempt)
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                connection.request("GET", path, headers={"Accept": "application/json"})
                response = connection.getresponse()
                body = response.read()
            except OSError as error:
                last_error = error
                continue
            finally:
                connection.close()
            if response.status == 404:
                return {}
            if response.status != 200:
                raise ConfigError(f"config service answered {response.status} for {path}")
            try:
                return json.loads(body)
            except ValueError:
                raise ConfigError(f"config service sent invalid JSON for {path}") from None
        assert last_error is not None
        raise last_error
'''

CLI = r'''"""`svcconf`: check a service's configuration and render it for deploys and ops."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from svcconf.errors import ConfigError
from svcconf.flags import FlagSet
from svcconf.loader import load


def cmd_check(args: argparse.Namespace) -> None:
    settings = load(args.file)
    print(f"ok: {settings.source}")


def cmd_env(args: argparse.Namespace) -> None:
    """The service's environment file, for systemd's EnvironmentFile=."""
    settings = load(args.file)
    variables = {
        "BIND": settings.server.bind,
        "WORKERS": settings.server.workers,
        "METRICS_PORT": settings.server.metrics_port,
        "REQUEST_TIMEOUT": f"{settings.server.timeout:g}",
        "DATABASE_URL": settings.database.url,
        "DATABASE_POOL_SIZE": settings.database.pool_size,
    }
    for name, value in variables.items():
        print(f"{name}={value}")


def cmd_flags(args: argparse.Namespace) -> None:
    flags = FlagSet.from_tables(load(args.file).flags)
    for name in flags.names():
        state = "on" if flags.is_enabled(name) else "off"
        print(f"{name}\t{state}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="svcconf")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler, help_text in (
        ("check", cmd_check, "load a config file and report problems"),
        ("env", cmd_env, "print the systemd environment file"),
        ("flags", cmd_flags, "list feature flags and whether they are on now"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("file")
        command.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except ConfigError as error:
        print(f"svcconf: {error}", file=sys.stderr)
        return 2
    return 0
'''

PRODUCTION = r"""# billing-api, production. Host-specific overrides live in conf.d/ (managed by ops).

[server]
host = "0.0.0.0"
port = 8080
workers = 8
timeout = "45s"
max_body = "16MB"

[database]
url = "postgresql://billing@db-primary.internal:5432/billing"
pool_size = 20

[cache]
backend = "redis://cache.internal:6379/2"
max_size = "1.5GiB"
ttl = "10m"

[flags.new_checkout]
start = 2026-03-10T09:00:00+01:00
end = 2026-04-30T00:00:00+02:00

[flags.invoice_pdf_v2]
enabled = false
"""

STAGING = r"""# billing-api, staging
[server]
host = 0.0.0.0
port = 8080
workers = 2
timeout = 30s

[database]
url = postgresql://billing@db-staging.internal:5432/billing
pool_size = 5

[cache]
backend = memory
max_size = 256MB
"""

TEST_UNITS = r"""import pytest

from svcconf.errors import ConfigError
from svcconf.units import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("2d", 172800), ("45", 45), (12, 12)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_duration():
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("text", "size"),
    [("512MB", 512_000_000), ("1GiB", 1024**3), ("64KiB", 65536), ("100", 100), (2048, 2048)],
)
def test_sizes(text, size):
    assert parse_size(text) == size
"""

TEST_COERCE = r"""import pytest

from svcconf.coerce import coerce, to_bool, to_int
from svcconf.errors import ConfigError


def test_booleans_and_integers():
    assert to_bool("yes") is True
    assert to_bool("Off") is False
    assert to_int(" 12 ") == 12
    with pytest.raises(ConfigError):
        to_bool("maybe")


def test_coerce_names_the_key():
    with pytest.raises(ConfigError, match="server.port: not an integer"):
        coerce("eighty", "int", key="server.port")
"""

TEST_LOADER = r"""import pytest

from svcconf.errors import ConfigError
from svcconf.loader import load


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_toml_and_ini_with_defaults(tmp_path):
    toml = write(tmp_path / "api.toml", '[server]\nport = 9000\n[database]\nurl = "postgresql://db/x"\n')
    settings = load(toml, environ={})
    assert (settings.server.port, settings.server.workers) == (9000, 4)
    assert settings.database.url == "postgresql://db/x"
    ini = write(tmp_path / "api.ini", "[server]\nport = 9000\nworkers = 3\n")
    assert load(ini, environ={}).server.workers == 3


def test_drop_ins_override_in_name_order(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 4\n")
    write(tmp_path / "conf.d" / "10-host.toml", "[server]\nworkers = 6\n")
    write(tmp_path / "conf.d" / "20-incident.ini", "[server]\nworkers = 8\n")
    assert load(path, environ={}).server.workers == 8


def test_environment_wins(tmp_path):
    path = write(tmp_path / "api.toml", '[database]\nurl = "postgresql://db/x"\n')
    settings = load(path, environ={"SVC_DATABASE__URL": "postgresql://replica/x"})
    assert settings.database.url == "postgresql://replica/x"


def test_errors_name_the_place(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nprot = 80\n")
    with pytest.raises(ConfigError, match="unknown setting server.prot"):
        load(path, environ={})
    path = write(tmp_path / "api.toml", "[server]\nport = 80\nworkers = = 2\n")
    with pytest.raises(ConfigError) as raised:
        load(path, environ={})
    assert str(raised.value).startswith(f"{path}, line 3: ")
"""

TEST_FLAGS = r"""from datetime import datetime, timezone

import pytest

from svcconf.errors import ConfigError
from svcconf.flags import FlagSet


def test_scheduled_window():
    flags = FlagSet.from_tables(
        {"sale": {"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-20T00:00:00+00:00"}}
    )
    assert flags.is_enabled("sale", now=datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc))
    assert not flags.is_enabled("sale", now=datetime(2026, 3, 21, tzinfo=timezone.utc))
    assert not flags.is_enabled("sale", now=datetime(2026, 3, 9, tzinfo=timezone.utc))


def test_unscheduled_disabled_and_unknown_flags():
    flags = FlagSet.from_tables({"a": {}, "b": {"enabled": "false"}})
    assert flags.is_enabled("a")
    assert not flags.is_enabled("b")
    assert not flags.is_enabled("missing")
    with pytest.raises(ConfigError, match="unknown keys"):
        FlagSet.from_tables({"x": {"enable": True}})
"""

TEST_CLI = r"""from svcconf.cli import main


def test_check(tmp_path, capsys):
    good = tmp_path / "api.toml"
    good.write_text("[server]\nport = 9000\n")
    bad = tmp_path / "api.ini"
    bad.write_text("[server]\nport = eighty\n")
    assert main(["check", str(good)]) == 0
    assert main(["check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == f"ok: {good}\n"
    assert "server.port: not an integer" in captured.err


def test_env_file(tmp_path, capsys):
    path = tmp_path / "api.toml"
    path.write_text('[server]\nhost = "0.0.0.0"\nport = 9000\n')
    main(["env", str(path)])
    out = capsys.readouterr().out.splitlines()
    assert "BIND=0.0.0.0:9000" in out
    assert "METRICS_PORT=9001" in out
"""

BASE = (
    Commit(
        message="svcconf: typed settings from TOML/INI files with conf.d drop-ins and SVC_ overrides",
        author=MARTA,
        date="2025-11-04T10:12:00+01:00",
        files={
            "pyproject.toml": PYPROJECT,
            "README.md": README,
            ".gitignore": "__pycache__/\n*.egg-info/\n.pytest_cache/\n",
            "svcconf/__init__.py": INIT,
            "svcconf/errors.py": ERRORS,
            "svcconf/coerce.py": COERCE,
            "svcconf/units.py": UNITS,
            "svcconf/schema.py": SCHEMA,
            "svcconf/loader.py": LOADER,
            "tests/test_units.py": TEST_UNITS,
            "tests/test_coerce.py": TEST_COERCE,
            "tests/test_loader.py": TEST_LOADER,
        },
    ),
    Commit(
        message="flags: feature flags with start/end schedules",
        author=DEV,
        date="2025-11-18T16:40:00-05:00",
        files={"svcconf/flags.py": FLAGS, "tests/test_flags.py": TEST_FLAGS},
    ),
    Commit(
        message="confd client, svcconf CLI, and the deploy configs",
        author=MARTA,
        date="2025-12-02T09:05:00+01:00",
        files={
            "svcconf/remote.py": REMOTE,
            "svcconf/cli.py": CLI,
            "deploy/production.toml": PRODUCTION,
            "deploy/staging.ini": STAGING,
            "tests/test_cli.py": TEST_CLI,
        },
        tag="v2.1.0",
    ),
    Commit(
        message="deploy: production pool size 20 -> 30 for month-end invoicing",
        author=JONAS,
        date="2026-01-27T14:18:00+01:00",
        files={"deploy/production.toml": _sub(PRODUCTION, "pool_size = 20\n", "pool_size = 30\n")},
    ),
)
PRODUCTION_HEAD = _sub(PRODUCTION, "pool_size = 20\n", "pool_size = 30\n")

# --- unrelated later work --------------------------------------------------------------------------

LATER_STAGING = Commit(
    message="deploy: staging reads from the replica",
    author=JONAS,
    date="2026-03-02T11:40:00+01:00",
    files={
        "deploy/staging.ini": _sub(
            STAGING,
            "url = postgresql://billing@db-staging.internal:5432/billing\n",
            "url = postgresql://billing@db-staging-replica.internal:5432/billing\n",
        )
    },
)

LATER_README = Commit(
    message="README: how drop-ins and SVC_ variables combine",
    author=DEV,
    date="2026-03-03T09:25:00-05:00",
    files={
        "README.md": README
        + r"""
Example: `deploy/production.toml` says `workers = 8`, ops' `conf.d/50-host.ini` says
`workers = 16` on the big hosts, and an incident runbook may export `SVC_SERVER__WORKERS=4`;
the service then runs 4 workers.
"""
    },
)

LATER_CI = Commit(
    message="ci: lint and test on every push",
    author=JONAS,
    date="2026-03-04T16:02:00+01:00",
    files={
        ".gitlab-ci.yml": r"""stages: [test]

test:
  stage: test
  image: python:3.11-slim
  script:
    - pip install pytest
    - python -m pytest -q
"""
    },
)

# --- case: unhandled-parse-error (parse_size) -----------------------------------------------------

UNITS_SUFFIX_BUGGY = _sub(
    _sub(
        UNITS,
        """_SIZE = re.compile(r"(\\d+(?:\\.\\d+)?)([KMGT]i?B|B)?")
_BYTES = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_BYTES |= {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
""",
        """# Longest suffixes first, so "mib" is not read as "b".
_SIZE_SUFFIXES = (
    ("kib", 1024),
    ("mib", 1024**2),
    ("gib", 1024**3),
    ("tib", 1024**4),
    ("kb", 1000),
    ("mb", 1000**2),
    ("gb", 1000**3),
    ("tb", 1000**4),
    ("b", 1),
)
""",
    ),
    """    match = _SIZE.fullmatch(str(value).strip())
    if match is None:
        raise ConfigError(f"not a size: {value!r} (try '512MB' or '1GiB')")
    number, unit = match.groups()
    return int(to_decimal(number) * _BYTES[unit or "B"])
""",
    """    # Case and spacing as ops write them: "512MB", "512 mb", "2 GiB".
    text = str(value).strip().lower()
    for suffix, factor in _SIZE_SUFFIXES:
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)
""",
)
UNITS_SUFFIX_BUGGY = _sub(UNITS_SUFFIX_BUGGY, "from svcconf.coerce import to_decimal\n", "")
UNITS_SUFFIX_FIXED = _sub(
    _sub(
        UNITS_SUFFIX_BUGGY,
        """    for suffix, factor in _SIZE_SUFFIXES:
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)
""",
        """    number, factor = text, 1
    for suffix, suffix_factor in _SIZE_SUFFIXES:
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], suffix_factor
            break
    try:
        return int(Decimal(number.strip()) * factor)
    except InvalidOperation:
        raise ConfigError(f"not a size: {value!r} (try '512MB' or '1.5GiB')") from None
""",
    ),
    "import re\n",
    "import re\nfrom decimal import Decimal, InvalidOperation\n",
)
TEST_UNITS_SUFFIX = (
    TEST_UNITS
    + r"""

def test_sizes_as_ops_write_them():
    assert parse_size("512 mb") == 512_000_000
    assert parse_size("2 GiB") == 2 * 1024**3
"""
)
BUG_SIZES = "units: accept sizes with spaces and lower-case units ('512 mb', '2 GiB')"

HIDDEN_SIZES = r"""import pytest

from svcconf.errors import ConfigError
from svcconf.units import parse_size


def test_fractional_sizes():
    assert parse_size("1.5GiB") == 1610612736
    assert parse_size("0.5 MB") == 500_000
    assert parse_size("2.25kib") == 2304


def test_whole_sizes_still_parse():
    assert parse_size("512MB") == 512_000_000
    assert parse_size("512 mb") == 512_000_000
    assert parse_size("100") == 100
    assert parse_size(4096) == 4096


def test_garbage_is_a_config_error():
    with pytest.raises(ConfigError):
        parse_size("lots")
"""

# --- case: missing-key ([env.<name>] tables) -------------------------------------------------------

LOADER_ENV_TABLES_BUGGY = _sub(
    _sub(
        LOADER,
        """def env_overrides(environ: Mapping[str, str]) -> Raw:""",
        '''def select_environment(raw: Raw, environment: str | None) -> Raw:
    """Fold the `[env.<environment>.<section>]` tables over the base sections; drop them all."""
    tables = raw.pop("env", {})
    if environment:
        merge(raw, tables[environment])
    return raw


def env_overrides(environ: Mapping[str, str]) -> Raw:''',
    ),
    """    for drop_in in drop_ins(path):
        merge(raw, read_file(drop_in))
""",
    """    for drop_in in drop_ins(path):
        merge(raw, read_file(drop_in))
    select_environment(raw, environ.get("SVC_ENV"))
""",
)
LOADER_ENV_TABLES_BUGGY = _sub(
    LOADER_ENV_TABLES_BUGGY,
    """next to it in name order (ops put host-specific overrides there), then the config service when
SVC_CONFIG_SERVICE is set, then environment variables named SVC_<SECTION>__<KEY>.
""",
    """next to it in name order (ops put host-specific overrides there), then the `[env.<SVC_ENV>.*]`
tables, then the config service when SVC_CONFIG_SERVICE is set, then SVC_<SECTION>__<KEY> variables.
""",
)
LOADER_ENV_TABLES_FIXED = _sub(
    LOADER_ENV_TABLES_BUGGY,
    "        merge(raw, tables[environment])\n",
    "        merge(raw, tables.get(environment, {}))\n",
)
TEST_LOADER_ENV_TABLES = (
    TEST_LOADER
    + r"""

def test_environment_tables(tmp_path):
    path = write(
        tmp_path / "api.toml",
        "[server]\nworkers = 4\n"
        "[env.staging.server]\nworkers = 1\n"
        "[env.production.server]\nworkers = 16\n",
    )
    assert load(path, environ={"SVC_ENV": "production"}).server.workers == 16
    assert load(path, environ={"SVC_ENV": "staging"}).server.workers == 1
    assert load(path, environ={}).server.workers == 4
"""
)
BUG_ENV_TABLES = "loader: per-environment [env.<name>] tables selected by SVC_ENV"

HIDDEN_ENV_TABLES = r"""from svcconf.loader import load


def write(path, text):
    path.write_text(text)
    return path


def test_file_without_environment_tables(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[database]\npool_size = 30\n")
    settings = load(path, environ={"SVC_ENV": "production"})
    assert settings.server.workers == 8
    assert settings.database.pool_size == 30


def test_no_table_for_this_environment(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[env.staging.server]\nworkers = 1\n")
    assert load(path, environ={"SVC_ENV": "production"}).server.workers == 8


def test_table_for_this_environment_applies(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nworkers = 8\n[env.production.server]\nworkers = 16\n")
    assert load(path, environ={"SVC_ENV": "production"}).server.workers == 16
"""

# --- case: type-mixup (environment overrides skip coercion) ----------------------------------------

LOADER_ENV_AFTER_BUGGY = _sub(
    _sub(
        LOADER,
        '''def env_overrides(environ: Mapping[str, str]) -> Raw:
    """SVC_SERVER__WORKERS=12 -> {"server": {"workers": "12"}}."""
    overrides: Raw = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        overrides.setdefault(section, {})[key] = value
    return overrides
''',
        '''def apply_env_overrides(settings: Settings, environ: Mapping[str, str]) -> None:
    """SVC_SERVER__WORKERS=12 sets server.workers; errors name the variable, not a section."""
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if key not in SCHEMA.get(section, {}):
            raise ConfigError(f"{name} does not name a setting (no {section}.{key})", source="environment")
        setattr(getattr(settings, section), key, value)
''',
    ),
    """    merge(raw, env_overrides(environ))
    return build(raw, source=str(path))
""",
    """    settings = build(raw, source=str(path))
    apply_env_overrides(settings, environ)
    return settings
""",
)
LOADER_ENV_AFTER_FIXED = _sub(
    LOADER_ENV_AFTER_BUGGY,
    "        setattr(getattr(settings, section), key, value)\n",
    "        setattr(getattr(settings, section), key, coerce(value, SCHEMA[section][key], key=name))\n",
)
TEST_LOADER_ENV_AFTER = (
    TEST_LOADER
    + r"""

def test_unknown_environment_variable_is_named(tmp_path):
    path = write(tmp_path / "api.toml", "[server]\nport = 80\n")
    with pytest.raises(ConfigError, match="SVC_SERVER__PROT does not name a setting"):
        load(path, environ={"SVC_SERVER__PROT": "8080"})
"""
)
BUG_ENV_AFTER = "loader: name the offending SVC_* variable when an override is unknown"

HIDDEN_ENV_TYPES = r"""import pytest

from svcconf.errors import ConfigError
from svcconf.loader import load


def test_environment_overrides_are_typed(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    settings = load(path, environ={"SVC_SERVER__PORT": "9100", "SVC_SERVER__TIMEOUT": "1m"})
    assert settings.server.port == 9100
    assert settings.server.metrics_port == 9101
    assert settings.server.timeout == 60.0


def test_string_overrides_unchanged(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    settings = load(path, environ={"SVC_DATABASE__URL": "postgresql://replica/x"})
    assert settings.database.url == "postgresql://replica/x"
    assert settings.server.port == 80


def test_bad_override_is_a_config_error(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text("[server]\nport = 80\n")
    with pytest.raises(ConfigError, match="SVC_SERVER__WORKERS"):
        load(path, environ={"SVC_SERVER__WORKERS": "lots"})
"""

# --- case: naive-aware-datetime (flag schedules) ---------------------------------------------------

FLAGS_LOCAL_BUGGY = _sub(
    _sub(
        FLAGS,
        '''def _schedule_time(value: Any) -> datetime | None:
    """A schedule bound as an aware UTC datetime; times without an offset are UTC."""''',
        '''def _schedule_time(value: Any) -> datetime | None:
    """A schedule bound. Times without an offset are the host's local wall-clock time, which
    is what ops write in the change calendar."""''',
    ),
    """    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
""",
    "    return value\n",
)
FLAGS_LOCAL_BUGGY = _sub(
    _sub(
        FLAGS_LOCAL_BUGGY,
        "        return flag.active(now or datetime.now(timezone.utc))\n",
        "        return flag.active(now or datetime.now())\n",
    ),
    "from datetime import datetime, timezone\n",
    "from datetime import datetime\n",
)
FLAGS_LOCAL_FIXED = _sub(
    FLAGS_LOCAL_BUGGY,
    """        raise ConfigError(f"not a date-time: {value!r}")
    return value
""",
    """        raise ConfigError(f"not a date-time: {value!r}")
    if value.tzinfo is not None:
        # An explicit offset (TOML offset date-times): the same instant on the local clock.
        value = value.astimezone().replace(tzinfo=None)
    return value
""",
)
TEST_FLAGS_LOCAL = r"""from datetime import datetime

import pytest

from svcconf.errors import ConfigError
from svcconf.flags import FlagSet


def test_scheduled_window_in_local_time():
    flags = FlagSet.from_tables({"sale": {"start": "2026-03-10T00:00:00", "end": "2026-03-20T00:00:00"}})
    assert flags.is_enabled("sale", now=datetime(2026, 3, 15, 12, 0))
    assert not flags.is_enabled("sale", now=datetime(2026, 3, 21))
    assert not flags.is_enabled("sale", now=datetime(2026, 3, 9))


def test_start_is_inclusive_to_the_minute():
    flags = FlagSet.from_tables({"launch": {"start": datetime(2026, 3, 10, 9, 0)}})
    assert flags.is_enabled("launch", now=datetime(2026, 3, 10, 9, 0))
    assert not flags.is_enabled("launch", now=datetime(2026, 3, 10, 8, 59))


def test_unscheduled_disabled_and_unknown_flags():
    flags = FlagSet.from_tables({"a": {}, "b": {"enabled": "false"}})
    assert flags.is_enabled("a")
    assert not flags.is_enabled("b")
    assert not flags.is_enabled("missing")
    with pytest.raises(ConfigError, match="unknown keys"):
        FlagSet.from_tables({"x": {"enable": True}})
"""
BUG_FLAGS_LOCAL = "flags: schedule times are local wall-clock time, as ops write them"

HIDDEN_FLAGS_OFFSETS = r"""from datetime import datetime, timedelta, timezone

from svcconf.flags import FlagSet

CET = timezone(timedelta(hours=1))


def test_schedules_with_offsets_compare_with_local_now():
    flags = FlagSet.from_tables(
        {
            "past": {"start": datetime(2020, 1, 1, 9, 0, tzinfo=CET)},
            "future": {"start": "2099-01-01T09:00:00+01:00"},
            "window": {"start": datetime(2026, 3, 10, 9, 0, tzinfo=CET), "end": "2026-03-20T00:00:00Z"},
        }
    )
    assert flags.is_enabled("past")
    assert not flags.is_enabled("future")
    assert flags.is_enabled("window", now=datetime(2026, 3, 15, 12, 0))
    assert not flags.is_enabled("window", now=datetime(2026, 3, 8, 12, 0))
    assert not flags.is_enabled("window", now=datetime(2026, 3, 22, 12, 0))


def test_local_schedules_unchanged():
    flags = FlagSet.from_tables({"launch": {"start": "2026-03-10T09:00:00"}})
    assert flags.is_enabled("launch", now=datetime(2026, 3, 10, 9, 0))
    assert not flags.is_enabled("launch", now=datetime(2026, 3, 10, 8, 59))
"""

# --- case: broken-rename (units -> quantities) ----------------------------------------------------

QUANTITIES = _sub(
    UNITS,
    '''"""Durations ("30s", "1h30m", "250ms") and sizes ("512MB", "1.5GiB") in config values."""''',
    '''"""Quantities in config values: durations ("30s", "1h30m", "250ms") and sizes ("512MB",
"1.5GiB")."""''',
)
REMOTE_RENAMED = _sub(
    REMOTE,
    "from svcconf.units import parse_duration\n",
    "from svcconf.quantities import parse_duration\n",
)
TEST_QUANTITIES = _sub(
    TEST_UNITS,
    "from svcconf.units import parse_duration, parse_size\n",
    "from svcconf.quantities import parse_duration, parse_size\n",
)
COERCE_RENAMED_FIXED = _sub(
    COERCE,
    """        # units imports to_decimal from here, so import it late rather than at the top.
        from svcconf import units

        return units.parse_duration if type_name == "duration" else units.parse_size
""",
    """        # quantities imports to_decimal from here, so import it late rather than at the top.
        from svcconf import quantities

        return quantities.parse_duration if type_name == "duration" else quantities.parse_size
""",
)
BUG_RENAME = "rename svcconf.units to svcconf.quantities"

HIDDEN_RENAME = r"""from svcconf.coerce import coercer
from svcconf.loader import load


def test_duration_and_size_types_resolve():
    assert coercer("duration")("1h30m") == 5400
    assert coercer("size")("1KiB") == 1024
    assert coercer("int")("7") == 7


def test_files_with_durations_and_sizes_load(tmp_path):
    path = tmp_path / "api.toml"
    path.write_text('[server]\ntimeout = "45s"\nmax_body = "16MB"\n[cache]\nttl = "10m"\n')
    settings = load(path, environ={})
    assert settings.server.timeout == 45.0
    assert settings.server.max_body == 16_000_000
    assert settings.cache.ttl == 600.0
"""

# --- triggers -------------------------------------------------------------------------------------

BOOT = r'''#!/usr/bin/python3
"""billing-api start-up (gunicorn's config module): settings first, then the app."""
import os
from pathlib import Path

{prelude}
from svcconf.loader import load

CONFIG = Path.cwd() / "deploy" / "production.toml"

settings = load(CONFIG)
bind = settings.server.bind
workers = settings.server.workers
timeout = int(settings.server.timeout)
'''


def _boot(prelude: str = "") -> str:
    return BOOT.replace("{prelude}", prelude)


CLI_TRIGGER = r"""#!/usr/bin/python3
# ExecStartPre of billing-api.service: {comment}
import os
import sys
from pathlib import Path

from svcconf.cli import main

{prelude}
if __name__ == "__main__":
    sys.exit(main([{argv}, str(Path.cwd() / "deploy" / "production.toml")]))
"""


def _cli(comment: str, command: str, prelude: str = "") -> str:
    return (
        CLI_TRIGGER.replace("{comment}", comment)
        .replace("{argv}", repr(command))
        .replace("{prelude}", prelude)
    )


OPS_DROP_IN = r"""# Rendered by config management (salt: billing/api-host.sls) - do not edit by hand
[server]
workers = 16
timeout = 60s
# OPS-2291: more headroom on the big hosts
workers = 24
max_body = 32MB
"""

BAD_DATA_PRELUDE = (
    "# conf.d/ is ops' (salt renders it on each host before the service starts)\n"
    "drop_in = Path.cwd() / 'deploy' / 'conf.d' / '50-host.ini'\n"
    "drop_in.parent.mkdir(exist_ok=True)\n"
    f"drop_in.write_text({OPS_DROP_IN!r})\n"
    "\n\n\n\n\n\n"
)


def _gold(file: str, function: str, message: str) -> Gold:
    return Gold(file=file, function=function, commit_message=message)


CASES: list[CaseSpec] = [
    CaseSpec(
        id="svcconf-unhandled-parse-error",
        title="ValueError at start-up parsing cache.max_size = '1.5GiB'",
        app="config",
        bug_class="unhandled-parse-error",
        history=(
            *BASE,
            Commit(
                message=BUG_SIZES,
                author=DEV,
                date="2026-02-11T10:48:00-05:00",
                files={
                    "svcconf/units.py": UNITS_SUFFIX_BUGGY,
                    "tests/test_units.py": TEST_UNITS_SUFFIX,
                },
            ),
            LATER_STAGING,
        ),
        trigger=_boot(),
        gold=_gold("svcconf/units.py", "parse_size", BUG_SIZES),
        fix={"svcconf/units.py": UNITS_SUFFIX_FIXED},
        hidden={"tests/test_hidden_fractional_sizes.py": HIDDEN_SIZES},
        project=PROJECT,
        deploy_path="/srv/billing",
    ),
    CaseSpec(
        id="svcconf-missing-key",
        title="KeyError 'production' loading a config without [env.*] tables",
        app="config",
        bug_class="missing-key",
        history=(
            *BASE,
            Commit(
                message=BUG_ENV_TABLES,
                author=MARTA,
                date="2026-02-16T15:30:00+01:00",
                files={
                    "svcconf/loader.py": LOADER_ENV_TABLES_BUGGY,
                    "tests/test_loader.py": TEST_LOADER_ENV_TABLES,
                },
            ),
            LATER_README,
            LATER_CI,
        ),
        trigger=_boot('os.environ.setdefault("SVC_ENV", "production")  # from the unit file\n'),
        gold=_gold("svcconf/loader.py", "select_environment", BUG_ENV_TABLES),
        fix={"svcconf/loader.py": LOADER_ENV_TABLES_FIXED},
        hidden={"tests/test_hidden_environment_tables.py": HIDDEN_ENV_TABLES},
        shape="sentry_webhook",
        project=PROJECT,
        deploy_path="/app",
    ),
    CaseSpec(
        id="svcconf-type-mixup",
        title="TypeError computing the metrics port: SVC_SERVER__PORT stays a string",
        app="config",
        bug_class="type-mixup",
        history=(
            *BASE,
            Commit(
                message=BUG_ENV_AFTER,
                author=JONAS,
                date="2026-02-19T09:57:00+01:00",
                files={
                    "svcconf/loader.py": LOADER_ENV_AFTER_BUGGY,
                    "tests/test_loader.py": TEST_LOADER_ENV_AFTER,
                },
            ),
            LATER_STAGING,
        ),
        trigger=_cli(
            "render /run/billing-api/env",
            "env",
            'os.environ["SVC_SERVER__PORT"] = "8080"  # Environment= in the unit (blue/green slot)\n',
        ),
        gold=_gold("svcconf/loader.py", "apply_env_overrides", BUG_ENV_AFTER),
        fix={"svcconf/loader.py": LOADER_ENV_AFTER_FIXED},
        hidden={"tests/test_hidden_env_override_types.py": HIDDEN_ENV_TYPES},
        project=PROJECT,
        deploy_path="/opt/billing/current",
    ),
    CaseSpec(
        id="svcconf-naive-aware-datetime",
        title="TypeError comparing a flag's offset start time with naive local now",
        app="config",
        bug_class="naive-aware-datetime",
        history=(
            *BASE,
            Commit(
                message=BUG_FLAGS_LOCAL,
                author=DEV,
                date="2026-02-24T13:21:00-05:00",
                files={
                    "svcconf/flags.py": FLAGS_LOCAL_BUGGY,
                    "tests/test_flags.py": TEST_FLAGS_LOCAL,
                },
            ),
            LATER_CI,
        ),
        trigger=_cli("log which feature flags are on for this release", "flags"),
        gold=_gold("svcconf/flags.py", "_schedule_time", BUG_FLAGS_LOCAL),
        fix={"svcconf/flags.py": FLAGS_LOCAL_FIXED},
        hidden={"tests/test_hidden_flag_offsets.py": HIDDEN_FLAGS_OFFSETS},
        shape="sentry_api",
        project=PROJECT,
        deploy_path="/home/deploy/billing/releases/20260301",
    ),
    CaseSpec(
        id="svcconf-broken-rename",
        title="ImportError: cannot import name 'units' from 'svcconf' loading durations",
        app="config",
        bug_class="broken-rename",
        history=(
            *BASE,
            Commit(
                message=BUG_RENAME,
                author=MARTA,
                date="2026-03-02T17:05:00+01:00",
                files={
                    "svcconf/units.py": None,
                    "svcconf/quantities.py": QUANTITIES,
                    "svcconf/remote.py": REMOTE_RENAMED,
                    "tests/test_units.py": None,
                    "tests/test_quantities.py": TEST_QUANTITIES,
                },
            ),
            LATER_README,
        ),
        trigger=_boot(),
        gold=_gold("svcconf/coerce.py", "coercer", BUG_RENAME),
        fix={"svcconf/coerce.py": COERCE_RENAMED_FIXED},
        hidden={"tests/test_hidden_quantity_types.py": HIDDEN_RENAME},
        project=PROJECT,
        deploy_path="/srv/billing",
    ),
    CaseSpec(
        id="svcconf-bad-data",
        title="ConfigError at start-up: ops drop-in sets server.workers twice",
        app="config",
        bug_class="bad-data",
        expect="escalate",
        history=(*BASE, LATER_STAGING, LATER_CI),
        trigger=_boot(BAD_DATA_PRELUDE),
        gold=None,
        shape="sentry_webhook",
        project=PROJECT,
        deploy_path="/opt/billing/current",
    ),
    CaseSpec(
        id="svcconf-infrastructure",
        title="ConnectionRefusedError fetching settings from the config service",
        app="config",
        bug_class="infrastructure",
        expect="escalate",
        history=(*BASE, LATER_README),
        trigger=_boot(
            'os.environ.setdefault("SVC_CONFIG_SERVICE", "127.0.0.1:8411")  # confd agent on the host\n'
        ),
        gold=None,
        project=PROJECT,
        deploy_path="/app",
    ),
]

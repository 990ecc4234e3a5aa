"""New dependencies a file change introduces: for the guardrail "a fix adds no dependency".

Manifests are compared by their parsed dependency lists: `pyproject.toml` (PEP 621
`dependencies` and `optional-dependencies`, `build-system.requires`, Poetry's dependency
tables), `setup.cfg` (`install_requires`, `extras_require`), `package.json`. In Python files,
an `import` is new when its top-level module is not in the standard library, was not imported
by the file before, is not a relative import, and is not a folder on the file's own path (the
project's own package). A sibling module of a flat layout imported for the first time is
therefore reported too; the reviewer of a refused candidate sees that reason.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import sys
import tomllib
from typing import Any

from agent.domain import FileChange

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def new_dependencies(change: FileChange) -> list[str]:
    """Names of dependencies `change` adds (empty when it adds none or cannot be read)."""
    name = change.path.rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        reader = _pyproject
    elif name == "setup.cfg":
        reader = _setup_cfg
    elif name == "package.json":
        reader = _package_json
    elif name.endswith(".py"):
        return _new_imports(change)
    else:
        return []
    try:
        before = reader(change.before) if change.before.strip() else set()
        after = reader(change.after)
    except (ValueError, configparser.Error, tomllib.TOMLDecodeError):
        return []
    return sorted(after - before)


def _requirement(spec: str) -> str | None:
    match = _NAME.match(spec)
    return match.group(1).lower().replace("_", "-") if match else None


def _requirements(specs: Any) -> set[str]:
    if not isinstance(specs, list):
        return set()
    return {name for spec in specs if isinstance(spec, str) and (name := _requirement(spec))}


def _pyproject(text: str) -> set[str]:
    data = tomllib.loads(text)
    project = data.get("project", {})
    found = _requirements(project.get("dependencies"))
    for group in (project.get("optional-dependencies") or {}).values():
        found |= _requirements(group)
    found |= _requirements(data.get("build-system", {}).get("requires"))
    poetry = data.get("tool", {}).get("poetry", {})
    for table in ("dependencies", "dev-dependencies"):
        found |= {name.lower() for name in poetry.get(table, {}) if name.lower() != "python"}
    for group in poetry.get("group", {}).values():
        found |= {name.lower() for name in group.get("dependencies", {})}
    return found


def _setup_cfg(text: str) -> set[str]:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    found: set[str] = set()
    if parser.has_option("options", "install_requires"):
        found |= _requirements(parser.get("options", "install_requires").splitlines())
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            found |= _requirements(value.splitlines())
    return found


def _package_json(text: str) -> set[str]:
    data = json.loads(text)
    if not isinstance(data, dict):
        return set()
    tables = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
    return {name for table in tables for name in (data.get(table) or {})}


def _imports(text: str) -> set[str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _new_imports(change: FileChange) -> list[str]:
    before = _imports(change.before) or set()
    after = _imports(change.after)
    if after is None:
        return []
    own = set(change.path.split("/")[:-1])
    return sorted(
        name
        for name in after - before
        if name not in sys.stdlib_module_names and name not in own and name != "__future__"
    )

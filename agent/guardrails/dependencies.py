"""New dependencies a file change introduces: for the guardrail "a fix adds no dependency".

Manifests are compared by their parsed dependency lists: `pyproject.toml` (PEP 621
`dependencies` and `optional-dependencies`, `build-system.requires`, Poetry's dependency
tables), `setup.cfg` (`install_requires`, `extras_require`), `package.json`. In Python files,
an `import` is new when its top-level module is not in the standard library, was not imported
by the file before, is not a relative import, and is not a folder on the file's own path (the
project's own package). `__import__("x")` and `importlib.import_module("x")` with a constant
name count as imports of `x`. A sibling module of a flat layout imported for the first time is
therefore reported too; the reviewer of a refused candidate sees that reason.

`runtime_installs` finds what installs packages while the code runs: a string, or the strings
of one call or list, naming pip, ensurepip, easy_install or an installer's install command
(`subprocess.run([sys.executable, "-m", "pip", "install", ...])`, `os.system("pip ...")`),
a use of the `pip` or `ensurepip` modules, and `__import__` of a computed name.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
import sys
import tomllib
from collections import Counter
from typing import Any

from agent.domain import FileChange

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_INSTALLER = re.compile(
    r"(?<![\w.-])(?:pip[\d.]*|ensurepip|easy_install|get-pip(?:\.py)?)(?![\w-])"
    r"|(?<![\w-])(?:uv|poetry|pdm|pipenv|pipx|conda|mamba|micromamba|npm|yarn|pnpm|gem|apt|"
    r"apt-get|apk|yum|dnf|brew|cargo)\s+(?:pip\s+)?(?:install|add|sync)\b"
    r"|(?<![\w-])go\s+(?:get|install)\b",
    re.IGNORECASE,
)
_INSTALLER_MODULES = frozenset({"pip", "ensurepip", "easy_install", "setuptools.command"})
_PROSE = (".md", ".rst", ".txt", ".adoc", ".html")
_DYNAMIC_IMPORTS = frozenset({"__import__", "import_module"})


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
        if (name := _dynamic_import(node)) is not None:
            found.add(name.split(".")[0])
        elif isinstance(node, ast.Import):
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


def _dynamic_import(node: ast.AST) -> str | None:
    """`x` of `__import__("x")` or `importlib.import_module("x")`, `"?"` for a computed name."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in _DYNAMIC_IMPORTS:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value if not first.value.startswith(".") else None
    return "?"


def runtime_installs(change: FileChange) -> list[str]:
    """What the change adds that installs packages or, in Python, imports a computed name at
    run time (empty when nothing, when the file is prose, or when Python cannot be parsed)."""
    if change.path.lower().endswith(_PROSE):
        return []
    if not change.path.endswith(".py"):
        return sorted(_install_lines(change.after) - _install_lines(change.before))
    after = _installs(change.after)
    if after is None:
        return []
    before = _installs(change.before) or Counter()
    return sorted(after - before)


def _install_lines(text: str) -> Counter[str]:
    """Installer commands in a file that is not Python (a shell script, a config file)."""
    return Counter(
        f"a package install `{line.strip()[:60]}`"
        for line in text.splitlines()
        if _INSTALLER.search(line)
    )


def _installs(text: str) -> Counter[str] | None:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    found: Counter[str] = Counter()
    for node in ast.walk(tree):
        if _dynamic_import(node) == "?":
            found["an import of a computed module name"] += 1
        strings: list[str] = []
        if isinstance(node, ast.Call | ast.List | ast.Tuple | ast.JoinedStr):
            strings = [
                child.value
                for child in ast.walk(node)
                if isinstance(child, ast.Constant) and isinstance(child.value, str)
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings = [node.value]
        text_of = " ".join(strings)
        if strings and _INSTALLER.search(text_of):
            found[f"a package install `{text_of[:60]}`"] += 1
        for module in _modules_of(node):
            if any(module == name or module.startswith(name + ".") for name in _INSTALLER_MODULES):
                found[f"the installer module {module}"] += 1
    return found


def _modules_of(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    name = _dynamic_import(node)
    return [name] if name not in (None, "?") else []

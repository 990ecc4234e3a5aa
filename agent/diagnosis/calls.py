"""Which definition a Python call runs, resolved through the caller's scopes and imports.

The code index records a call by its name only (`append` for `rows.append(x)`); matched by name
across a large repository, that name finds definitions that never ran (a `Plot.append` far
away). Here a call is resolved the way Python would, as far as the source says:

* `f(...)`: a function of the caller's file, or a name the file imports
  (`from shop.rates import f`, `from .rates import f as g`);
* `module.f(...)`: a function of a module the file imports (`import shop.rates as module`,
  `from shop import rates`);
* `Class.f(...)`, `self.f(...)`, `cls.f(...)`: a method of an imported or local class, or of the
  class around the caller.

Anything else (a method of an object whose type the source does not say, a builtin, a star
import) resolves to nothing: no suspect rather than a guess. Pure: it reads what it is given.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.domain import Reference, Symbol

ModuleFile = Callable[[str], str | None]
"""The repository file of a dotted module name, or None when the repository has none."""


@dataclass(frozen=True)
class Imports:
    """What a file's names refer to: module names, and (module, name) pairs."""

    modules: dict[str, str]
    """Local name -> dotted module (`import a.b as m`, `from a import b` when b is a module)."""
    names: dict[str, tuple[str, str]]
    """Local name -> (dotted module, name in it) (`from a.b import f as g`)."""


_IMPORT_LINE = re.compile(r"^\s*(?:import|from)\s+[\w.]")


def imports_of(source: str, path: str) -> Imports:
    """The imports of a Python file, at any depth. Only the import statements are parsed (a
    large module's whole tree is not needed for them); one that does not parse is skipped."""
    modules: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    package = path.rsplit("/", 1)[0].split("/") if "/" in path else []
    for node in _import_statements(source):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules.setdefault(top, top)
                    modules[alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if base is None:
                continue
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = (base, alias.name)
    return Imports(modules, names)


def _import_statements(source: str) -> list[ast.stmt]:
    lines = source.splitlines()
    statements: list[ast.stmt] = []
    i = 0
    while i < len(lines):
        if not _IMPORT_LINE.match(lines[i]):
            i += 1
            continue
        text = lines[i].split("#", 1)[0].strip()
        i += 1
        while (text.count("(") > text.count(")") or text.endswith("\\")) and i < len(lines):
            text = text.rstrip("\\") + " " + lines[i].split("#", 1)[0].strip()
            i += 1
        try:
            statements += ast.parse(text).body
        except SyntaxError:
            continue
    return statements


def _absolute(module: str | None, level: int, package: list[str]) -> str | None:
    if level == 0:
        return module
    if level - 1 > len(package):
        return None
    parts = package[: len(package) - (level - 1)]
    # A relative import names files: the dotted form keeps the folders as they are.
    return ".".join([*parts, *([module] if module else [])]) or None


def resolve(
    call: Reference,
    text: list[str],
    imports: Imports,
    symbols_of: Callable[[str], list[Symbol]],
    module_file: ModuleFile,
) -> list[Symbol]:
    """The definitions `call` (on a line of `text`, its file's lines) may run, as the caller's
    source says; [] when it does not say."""
    found: list[Symbol] = []
    for qualifier in _qualifiers(text[call.line - 1], call.name):
        qualifier = _constructed(qualifier, call, text, symbols_of(call.path)) or qualifier
        for symbol in _resolve_one(call, qualifier, imports, symbols_of, module_file):
            if symbol not in found:
                found.append(symbol)
    return found


def _constructed(
    variable: str, call: Reference, text: list[str], symbols: list[Symbol]
) -> str | None:
    """The class a local variable was made from earlier in the caller (`cart = Cart(items)`
    makes `cart.total()` a call of `Cart.total`), or None."""
    if not variable.isidentifier() or variable in ("self", "cls") or call.scope is None:
        return None
    scope = next((s for s in symbols if s.qualname == call.scope), None)
    if scope is None:
        return None
    assigned = re.compile(rf"^\s*{re.escape(variable)}\s*=\s*((?:[A-Za-z_]\w*\.)*[A-Z]\w*)\s*\(")
    for number in range(call.line - 1, scope.start_line - 1, -1):
        match = assigned.match(text[number - 1])
        if match:
            return match.group(1)
    return None


def _qualifiers(line_text: str, name: str) -> list[str]:
    """How `name` is called on the line: "" for `name(`, "self" for `self.name(`, ..."""
    pattern = re.compile(rf"(?<![\w.])((?:[A-Za-z_]\w*\.)*){re.escape(name)}\s*\(")
    return list(dict.fromkeys(match.group(1).rstrip(".") for match in pattern.finditer(line_text)))


def _resolve_one(
    call: Reference,
    qualifier: str,
    imports: Imports,
    symbols_of: Callable[[str], list[Symbol]],
    module_file: ModuleFile,
) -> list[Symbol]:
    name = call.name
    here = symbols_of(call.path)
    if qualifier == "":
        local = [s for s in here if s.qualname == name]
        if local:
            return local
        if name in imports.names:
            module, imported = imports.names[name]
            return _in_module(module, imported, symbols_of, module_file)
        return []
    if qualifier in ("self", "cls") and call.scope:
        owner = _enclosing_class(call.scope, here)
        return [s for s in here if owner and s.qualname == f"{owner}.{name}"]
    if qualifier in imports.modules:
        return _in_module(imports.modules[qualifier], name, symbols_of, module_file)
    head, _, rest = qualifier.partition(".")
    if not rest:
        local_class = [s for s in here if s.kind == "class" and s.qualname == qualifier]
        if local_class:
            return [s for s in here if s.qualname == f"{qualifier}.{name}"]
        if qualifier in imports.names:
            module, imported = imports.names[qualifier]
            submodule = _in_module(f"{module}.{imported}", name, symbols_of, module_file)
            return submodule or _in_module(module, f"{imported}.{name}", symbols_of, module_file)
    elif head in imports.modules and "." not in rest:
        # `module.Class.f(...)`: a method of a class of an imported module.
        return _in_module(imports.modules[head], f"{rest}.{name}", symbols_of, module_file)
    return []


def _in_module(
    module: str, qualname: str, symbols_of: Callable[[str], list[Symbol]], module_file: ModuleFile
) -> list[Symbol]:
    path = module_file(module)
    if path is None:
        return []
    return [s for s in symbols_of(path) if s.qualname == qualname]


def _enclosing_class(scope: str, symbols: list[Symbol]) -> str | None:
    classes = {s.qualname for s in symbols if s.kind == "class"}
    parts = scope.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in classes:
            return candidate
    return None

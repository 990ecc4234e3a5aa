"""A name that no longer exists: `module.old` after `old` was renamed in `module`.

The module's file is read at the same commit; its top-level functions and classes that take
as many positional arguments as the failing call passes are the candidates, most similar name
first. Every use of `alias.old` in the file is renamed, not only the crash line.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from agent.repair.pysource import FUNCTIONS
from agent.repair.rules import Fix, Site

_MODULE_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")
MAX_RENAMES = 4


def renamed_attribute(site: Site) -> Iterator[Fix]:
    """`alias.old(...)` -> `alias.new(...)` everywhere in the file."""
    match = _MODULE_ATTRIBUTE.search(site.error.value)
    if match is None:
        return
    module, old = match.groups()
    source = _module_source(site, module)
    if source is None:
        return
    uses = [
        node
        for node in ast.walk(site.code.tree)
        if isinstance(node, ast.Attribute) and node.attr == old and isinstance(node.value, ast.Name)
    ]
    crash_uses = [u for u in site.nodes(ast.Attribute) if u in uses]
    if not crash_uses:
        return
    call = site.code.parents.get(crash_uses[0])
    arity = len(call.args) if isinstance(call, ast.Call) else None
    passed = _argument_names(call) if isinstance(call, ast.Call) else []
    alias = crash_uses[0].value
    assert isinstance(alias, ast.Name)
    same_alias = [u for u in uses if isinstance(u.value, ast.Name) and u.value.id == alias.id]
    for number, new in enumerate(_candidates(source, old, arity, passed)[:MAX_RENAMES]):
        text = site.code.replace(*((u, f"{alias.id}.{new}") for u in same_alias))
        yield Fix(
            text,
            f"Use {module}.{new}, the new name of {old}",
            f"`{module}` has no `{old}` any more; `{new}` is the function there whose "
            f"parameters best match the arguments of the failing call. Every use of "
            f"`{alias.id}.{old}` in {site.path} now calls `{alias.id}.{new}`.",
            0.8 - 0.05 * number,
            anywhere=True,
        )


def _module_source(site: Site, module: str) -> ast.Module | None:
    base = module.replace(".", "/")
    for path in (f"{base}.py", f"{base}/__init__.py", f"src/{base}.py", f"src/{base}/__init__.py"):
        text = site.read(path)
        if text is not None:
            try:
                return ast.parse(text)
            except SyntaxError:
                return None
    return None


def _argument_names(call: ast.Call) -> list[str]:
    """What each argument is called at the call site: `order.country` -> country."""
    names = []
    for arg in call.args:
        match arg:
            case ast.Name(id=name) | ast.Attribute(attr=name):
                names.append(name)
            case ast.BoolOp(values=[ast.Name(id=name) | ast.Attribute(attr=name), *_]):
                names.append(name)
            case _:
                names.append("")
    return names + [k.arg for k in call.keywords if k.arg]


def _candidates(tree: ast.Module, old: str, arity: int | None, passed: list[str]) -> list[str]:
    """Public functions and classes that accept the call, those whose parameter names match
    the arguments' names best first, then by similarity to the old name."""
    scored = []
    for node in tree.body:
        if isinstance(node, FUNCTIONS) and not node.name.startswith("_"):
            positional = [*node.args.posonlyargs, *node.args.args]
            required = len(positional) - len(node.args.defaults)
            if arity is None or required <= arity <= len(positional) or node.args.vararg:
                params = {a.arg for a in (*positional, *node.args.kwonlyargs)}
                scored.append((len(params & set(passed)), node.name))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            scored.append((0, node.name))
    return [
        name
        for _, name in sorted(
            (item for item in scored if item[1] != old),
            key=lambda item: (-item[0], -difflib.SequenceMatcher(None, old, item[1]).ratio()),
        )
    ]


_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def renamed_module(site: Site) -> Iterator[Fix]:
    """`from pkg import old` after the module `pkg/old.py` was renamed: the module of `pkg`
    that defines every `old.<name>` the file uses is imported, and used, in its place."""
    match = _CANNOT_IMPORT.search(site.error.value)
    if match is None:
        return
    old, package = match.groups()
    imports = [
        node
        for node in site.nodes(ast.ImportFrom)
        if isinstance(node, ast.ImportFrom)
        and node.module == package
        and [(a.name, a.asname) for a in node.names] == [(old, None)]
    ]
    if not imports:
        return
    statement = imports[0]
    scope = site.code.function_of(statement) or site.code.tree
    uses = [
        node
        for node in ast.walk(scope)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == old
        and isinstance(node.ctx, ast.Load)
    ]
    wanted = {use.attr for use in uses}
    if not wanted:
        return
    for new in _modules_defining(site, package, wanted, old)[:MAX_RENAMES]:
        edits: list[tuple[ast.AST, str]] = [(statement, f"from {package} import {new}")]
        edits += [(use, f"{new}.{use.attr}") for use in uses]
        yield Fix(
            site.code.replace(*edits),
            f"Import {package}.{new}, the new name of {old}",
            f"`{package}` has no `{old}` any more; `{package}.{new}` defines every name the code "
            f"uses from it ({', '.join(sorted(wanted))}), so it is imported and used instead.",
            0.8,
            anywhere=scope is site.code.tree,
        )


def _modules_defining(site: Site, package: str, names: set[str], old: str) -> list[str]:
    base = package.replace(".", "/")
    found = []
    for prefix in (f"{base}/", f"src/{base}/"):
        for path in site.files():
            rest = path.removeprefix(prefix)
            if rest == path or "/" in rest or not rest.endswith(".py"):
                continue
            module = rest.removesuffix(".py")
            if module in (old, "__init__"):
                continue
            text = site.read(path)
            try:
                tree = ast.parse(text or "")
            except SyntaxError:
                continue
            if names <= _top_level_names(tree):
                found.append(module)
    return sorted(found, key=lambda m: -difflib.SequenceMatcher(None, old, m).ratio())


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names

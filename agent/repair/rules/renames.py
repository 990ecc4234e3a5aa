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
    alias = crash_uses[0].value
    assert isinstance(alias, ast.Name)
    same_alias = [u for u in uses if isinstance(u.value, ast.Name) and u.value.id == alias.id]
    for number, new in enumerate(_candidates(source, old, arity)[:MAX_RENAMES]):
        text = site.code.replace(*((u, f"{alias.id}.{new}") for u in same_alias))
        yield Fix(
            text,
            f"Use {module}.{new}, the new name of {old}",
            f"`{module}` has no `{old}` any more; `{new}` is the function there that takes the "
            f"same arguments with the closest name. Every use of `{alias.id}.{old}` in "
            f"{site.path} now calls `{alias.id}.{new}`.",
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


def _candidates(tree: ast.Module, old: str, arity: int | None) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, FUNCTIONS) and not node.name.startswith("_"):
            positional = [*node.args.posonlyargs, *node.args.args]
            required = len(positional) - len(node.args.defaults)
            fits = arity is None or required <= arity <= len(positional) or node.args.vararg
            if fits:
                names.append(node.name)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            names.append(node.name)
    return sorted(
        (name for name in names if name != old),
        key=lambda name: -difflib.SequenceMatcher(None, old, name).ratio(),
    )

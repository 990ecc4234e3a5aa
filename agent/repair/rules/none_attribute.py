"""AttributeError on None: a guard before the use, a conditional in place, a guard at the origin."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from agent.repair.pysource import is_pure
from agent.repair.rules import (
    Fix,
    Site,
    bonus,
    conditional,
    enclosing_function,
    is_none,
    none_guards,
    origin_guards,
    seen,
)

_NONE_ATTRIBUTE = re.compile(r"'NoneType' object has no attribute '(\w+)'")


def _none_attributes(site: Site) -> Iterator[tuple[ast.Attribute, bool | None]]:
    match = _NONE_ATTRIBUTE.search(site.error.value)
    if match is None:
        return
    for node in site.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if node.attr == match.group(1) and (evidence := is_none(site, node.value)) is not False:
            yield node, evidence


def guard_none_before_use(site: Site) -> Iterator[Fix]:
    """`if <expr> is None: return/continue` before the statement that reads `<expr>.x`."""
    for node, evidence in _none_attributes(site):
        stmt = site.code.statement_of(node)
        func = enclosing_function(site, node)
        if stmt is None or func is None or not site.code.guardable(node.value, node, stmt):
            continue
        obj = site.code.expr(node.value)
        why = f"`{func.name}` reads `{obj}.{node.attr}`, but `{obj}` can be None."
        yield from none_guards(
            site,
            stmt,
            obj,
            why=why + seen(evidence, f"`{obj}` was None"),
            confidence=0.75 + bonus(evidence),
        )


def conditional_attribute(site: Site) -> Iterator[Fix]:
    """`(<expr>.x if <expr> is not None else None)` in place (the call too, for a method)."""
    for node, evidence in _none_attributes(site):
        func = enclosing_function(site, node)
        if func is None or not isinstance(node.ctx, ast.Load) or not is_pure(node.value):
            continue
        parent = site.code.parents.get(node)
        use = parent if isinstance(parent, ast.Call) and parent.func is node else node
        obj = site.code.expr(node.value)
        why = (
            f"`{func.name}` reads `{obj}.{node.attr}`, but `{obj}` can be None. "
            f"The expression now gives None in that case."
        )
        yield Fix(
            conditional(site, use, f"{obj} is not None", "None"),
            f"Allow None `{obj}` in {func.name}",
            why + seen(evidence, f"`{obj}` was None"),
            0.6 + bonus(evidence),
        )


def guard_none_at_origin(site: Site) -> Iterator[Fix]:
    """A None guard at the top of the function (parameter) or after the lookup that made it."""
    for node, evidence in _none_attributes(site):
        if isinstance(node.value, ast.Name):
            yield from origin_guards(site, node.value.id, node, evidence)

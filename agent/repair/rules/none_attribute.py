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


def none_to_other_branch(site: Site) -> Iterator[Fix]:
    """`if c: x = a  else: x = <e>` where `<e>` gave None: `if c or (<e>) is None:`, so that a
    None value takes the branch that already makes `x` another way (and the converse for `x`
    made in the `if` branch)."""
    for node, evidence in _none_attributes(site):
        if not isinstance(node.value, ast.Name):
            continue
        name = node.value.id
        func = enclosing_function(site, node)
        if func is None:
            continue
        for branch in ast.walk(func):
            if not isinstance(branch, ast.If) or branch.lineno >= node.lineno:
                continue
            fix = _route_none(site, branch, name, node.lineno)
            if fix is None:
                continue
            text, made = fix
            why = (
                f"`{func.name}` makes `{name}` from `{made}`, which can be None, while the other "
                f"branch of `if {site.code.expr(branch.test)}:` makes `{name}` another way. A "
                f"None `{made}` now takes that branch."
            )
            yield Fix(
                text,
                f"Send None `{made}` to the other branch in {func.name}",
                why + seen(evidence, f"`{name}` was None"),
                0.85 + bonus(evidence),
            )


def _route_none(site: Site, branch: ast.If, name: str, used: int) -> tuple[str, str] | None:
    in_body, in_else = _assigns(branch.body, name, used), _assigns(branch.orelse, name, used)
    if in_body is None or in_else is None:
        return None
    if len(branch.orelse) == 1 and isinstance(branch.orelse[0], ast.If):
        return None
    test = site.code.expr(branch.test)
    if not isinstance(branch.test, ast.Name | ast.Attribute | ast.Call | ast.Compare):
        test = f"({test})"
    for made, joiner, check in ((in_else, "or", "is None"), (in_body, "and", "is not None")):
        if not isinstance(made, ast.Assign) or not _pure(made.value):
            continue
        if not (len(made.targets) == 1 and isinstance(made.targets[0], ast.Name)):
            continue
        value = site.code.expr(made.value)
        if not isinstance(made.value, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
            value = f"({value})"
        return site.code.replace((branch.test, f"{test} {joiner} {value} {check}")), value
    return None


def _assigns(block: list[ast.stmt], name: str, before: int) -> ast.stmt | None:
    """The statement of `block` (top level) that assigns `name`, before line `before`."""
    for stmt in block:
        if stmt.lineno >= before or not isinstance(stmt, ast.Assign):
            continue
        for target in stmt.targets:
            names = target.elts if isinstance(target, ast.Tuple) else [target]
            if any(isinstance(t, ast.Name) and t.id == name for t in names):
                return stmt
    return None


def _pure(node: ast.expr) -> bool:
    if isinstance(node, ast.BoolOp):
        return all(is_pure(value) for value in node.values)
    return is_pure(node)

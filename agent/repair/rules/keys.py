"""KeyError: `.get` with a default chosen by usage, plain `.get`, or a membership guard."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from agent.repair.fallbacks import UNKNOWN, annotation_fallback, captured, usage_default
from agent.repair.pysource import is_pure
from agent.repair.rules import (
    Fix,
    Site,
    bonus,
    enclosing_function,
    guards,
    names_in,
    seen,
)


def _missing_keys(site: Site) -> Iterator[tuple[ast.Subscript, bool | None]]:
    key = captured({"key": site.error.value}, "key")
    for node in site.nodes(ast.Subscript):
        assert isinstance(node, ast.Subscript)
        if not isinstance(node.ctx, ast.Load) or isinstance(node.slice, ast.Slice):
            continue
        index = site.value(node.slice)
        evidence: bool | None = None
        if key is not UNKNOWN and index is not UNKNOWN:
            if type(index) is not type(key) or index != key:
                continue
            evidence = True
        container = site.value(node.value)
        if isinstance(container, dict) and _hashable(index) and index in container:
            continue
        yield node, evidence


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return value is not UNKNOWN


def get_with_default(site: Site) -> Iterator[Fix]:
    """`d.get(k, <default by usage>)` in place of `d[k]`; a plain `d.get(k)` when the usage
    suggests no default (where the value is used as a number or text, None would fail again)."""
    for node, evidence in _missing_keys(site):
        func = enclosing_function(site, node)
        if func is None:
            continue
        mapping, key = site.code.atom(node.value), site.code.expr(node.slice)
        why = f"`{func.name}` reads `{mapping}[{key}]`, and the key can be missing."
        confirmed = seen(evidence, "the missing key is the one read here")
        reasoned = _reasoned_default(site, node, func)
        if reasoned is not None:
            suggested, reason = reasoned
            yield Fix(
                site.code.replace((node, f"{mapping}.get({key}, {suggested})")),
                f"Default missing key {key} to {suggested} in {func.name}",
                f"{why} A missing key now reads as `{suggested}`: {reason}.{confirmed}",
                0.8 + bonus(evidence),
            )
        default = usage_default(node, site.code.parents.get(node))
        if reasoned is not None and reasoned[0] == default:
            continue
        if default is not None:
            yield Fix(
                site.code.replace((node, f"{mapping}.get({key}, {default})")),
                f"Default missing key {key} to {default} in {func.name}",
                f"{why} A missing key now reads as `{default}`, which suits how the value is "
                f"used.{confirmed}",
                0.75 + bonus(evidence),
            )
        else:
            yield Fix(
                site.code.replace((node, f"{mapping}.get({key})")),
                f"Use .get for key {key} in {func.name}",
                f"{why} A missing key now reads as None.{confirmed}",
                0.65 + bonus(evidence),
            )


def _reasoned_default(
    site: Site, node: ast.Subscript, func: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[str, str] | None:
    """A default for `d[k]` that the code itself suggests, with the reason: the default the file
    already gives the same key, the smallest value the check right after the read accepts, or
    the empty value of the parameter the value is passed to."""
    if isinstance(node.slice, ast.Constant):
        for call in ast.walk(site.code.tree):
            match call:
                case ast.Call(
                    func=ast.Attribute(attr="get" | "pop" | "setdefault"),
                    args=[ast.Constant(value=other), ast.Constant() as given],
                ) if other == node.slice.value and type(other) is type(node.slice.value):
                    return site.code.expr(given), "the default this file gives the same key"
    minimum = _checked_minimum(site, node)
    if minimum is not None:
        return minimum, "the smallest value the check that follows accepts"
    parent = site.code.parents.get(node)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and node in parent.args:
        callee = _module_function(site.code.tree, parent.func.id)
        if callee is not None:
            params = [*callee.args.posonlyargs, *callee.args.args]
            position = parent.args.index(node)
            if position < len(params):
                empty = annotation_fallback(params[position].annotation)
                if empty is not None and empty != "None":
                    name = params[position].arg
                    return empty, f"the empty value of `{name}`, the parameter of `{callee.name}`"
    return None


def _checked_minimum(site: Site, node: ast.Subscript) -> str | None:
    """N when the value read is assigned to a name that the next statements reject below N
    (`if q < N: raise ...`)."""
    holder: ast.AST = node
    parent = site.code.parents.get(holder)
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
        if parent.func.id not in ("int", "float", "Decimal") or parent.args != [node]:
            return None
        holder, parent = parent, site.code.parents.get(parent)
    match parent:
        case ast.Assign(targets=[ast.Name(id=name)], value=value) if value is holder:
            pass
        case _:
            return None
    block = _block_of(site, parent)
    if block is None:
        return None
    for stmt in block[block.index(parent) + 1 : block.index(parent) + 3]:
        match stmt:
            case ast.If(
                test=ast.Compare(
                    left=ast.Name(id=checked), ops=[ast.Lt()], comparators=[ast.Constant() as low]
                ),
                body=[ast.Raise(), *_],
            ) if checked == name and type(low.value) in (int, float):
                return site.code.expr(low)
    return None


def _block_of(site: Site, stmt: ast.stmt) -> list[ast.stmt] | None:
    parent = site.code.parents.get(stmt)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and stmt in block:
            return block
    return None


def _module_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def guard_missing_key(site: Site) -> Iterator[Fix]:
    """`if <k> not in <d>: continue/return` before the statement."""
    for node, evidence in _missing_keys(site):
        stmt = site.code.statement_of(node)
        func = enclosing_function(site, node)
        if stmt is None or func is None:
            continue
        if not (site.code.guardable(node.value, node, stmt) and is_pure(node.slice)):
            continue
        if site.code.bound_inside(node, stmt) & names_in(node.slice):
            continue
        mapping, key = site.code.expr(node.value), site.code.expr(node.slice)
        why = f"`{func.name}` reads `{mapping}[{key}]`, and the key can be missing."
        yield from guards(
            site,
            stmt,
            f"{key} not in {mapping}",
            title=f"Skip missing key {key} in {func.name}",
            why=why + seen(evidence, "the missing key is the one read here"),
            confidence=0.6 + bonus(evidence),
        )

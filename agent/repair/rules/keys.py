"""KeyError: `.get` with a default chosen by usage, plain `.get`, or a membership guard."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from agent.repair.fallbacks import UNKNOWN, captured, usage_default
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
        default = usage_default(node, site.code.parents.get(node))
        why = f"`{func.name}` reads `{mapping}[{key}]`, and the key can be missing."
        confirmed = seen(evidence, "the missing key is the one read here")
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

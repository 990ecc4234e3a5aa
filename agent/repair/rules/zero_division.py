"""ZeroDivisionError: a guard before the statement, or a conditional division in place."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from agent.repair.fallbacks import is_text
from agent.repair.pysource import is_pure
from agent.repair.rules import (
    Fix,
    Site,
    bonus,
    conditional,
    enclosing_function,
    guards,
    seen,
)

_DIVISION_OPS: dict[type[ast.operator], str] = {ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%"}


@dataclass(frozen=True)
class _Division:
    node: ast.AST
    numerator: ast.expr
    divisor: ast.expr
    op: str


def _divisions(site: Site) -> Iterator[tuple[_Division, bool | None]]:
    """Divisions on the crash line whose divisor can be zero, with what the incident shows."""
    for node in site.nodes(ast.BinOp, ast.AugAssign, ast.Call):
        match node:
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _DIVISION_OPS:
                if is_text(left):
                    continue
                division = _Division(node, left, right, _DIVISION_OPS[type(op)])
            case ast.AugAssign(target=target, op=op, value=value) if type(op) in _DIVISION_OPS:
                division = _Division(node, target, value, _DIVISION_OPS[type(op)] + "=")
            case ast.Call(func=ast.Name(id="divmod"), args=[left, right], keywords=[]):
                division = _Division(node, left, right, "divmod")
            case _:
                continue
        value = site.value(division.divisor)
        if isinstance(value, int | float | Decimal):
            if value != 0:
                continue
            yield division, True
        else:
            yield division, None


def _zero_test(site: Site, divisor: ast.expr) -> tuple[str, str, str]:
    """(condition that the divisor is zero, condition that it is not, plain words)."""
    match divisor:
        case ast.Call(func=ast.Name(id="len"), args=[collection], keywords=[]):
            name = site.code.expr(collection)
            return f"not {name}", name, f"zero when `{name}` is empty"
    text = site.code.expr(divisor)
    return f"{text} == 0", text, "zero"


def _division_fallback(site: Site, division: _Division) -> str:
    if division.op == "divmod":
        return "(0, 0)"
    numerator = site.value(division.numerator)
    if isinstance(numerator, Decimal) and "Decimal" in _module_names(site.code.tree):
        return "Decimal(0)"
    if division.op.startswith("/") and division.op != "//":
        return "0.0"
    return "0.0" if isinstance(numerator, float) else "0"


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def guard_zero_division(site: Site) -> Iterator[Fix]:
    """`if not <collection>: return <fallback>` (or `if <divisor> == 0:`) before the statement."""
    for division, evidence in _divisions(site):
        stmt = site.code.statement_of(division.node)
        func = enclosing_function(site, division.node)
        if stmt is None or func is None:
            continue
        if not site.code.guardable(division.divisor, division.node, stmt):
            continue
        zero, _, words = _zero_test(site, division.divisor)
        divisor = site.code.expr(division.divisor)
        why = f"`{func.name}` divides by `{divisor}`, which is {words}."
        value = _division_fallback(site, division) if isinstance(stmt, ast.Return) else None
        yield from guards(
            site,
            stmt,
            zero,
            title=f"Guard division by zero in {func.name}",
            why=why + seen(evidence, f"`{divisor}` was zero at the crash"),
            confidence=0.8 + bonus(evidence),
            value_fallback=value,
        )


def conditional_division(site: Site) -> Iterator[Fix]:
    """`(<a> / <b> if <b> else <fallback>)` in place of the division."""
    for division, evidence in _divisions(site):
        func = enclosing_function(site, division.node)
        if func is None or division.op.endswith("=") or not is_pure(division.divisor):
            continue
        _, nonzero, words = _zero_test(site, division.divisor)
        fallback = _division_fallback(site, division)
        divisor = site.code.expr(division.divisor)
        why = (
            f"`{func.name}` divides by `{divisor}`, which is {words}. The division now gives "
            f"`{fallback}` in that case and is unchanged otherwise."
        )
        yield Fix(
            conditional(site, division.node, nonzero, fallback),
            f"Fall back to {fallback} when dividing by zero in {func.name}",
            why + seen(evidence, f"`{divisor}` was zero at the crash"),
            0.7 + bonus(evidence),
        )

"""TypeError: None where a value is indexed, iterated or added; operands of mismatched types."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from agent.repair.fallbacks import UNKNOWN, is_text
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

_NOT_SUBSCRIPTABLE = "'NoneType' object is not subscriptable"
_NOT_ITERABLE = re.compile(
    r"'NoneType' object is not iterable|argument of type 'NoneType' is not iterable"
    r"|object of type 'NoneType' has no len\(\)"
)
_OPERANDS = re.compile(r"unsupported operand type\(s\) for (\S+?): '(\w+)' and '(\w+)'")
_CONCATENATE = re.compile(r'can only concatenate (\w+) \(not "(\w+)"\) to \w+')
_COMPARE = re.compile(r"'([<>=!]+)' not supported between instances of '(\w+)' and '(\w+)'")
_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_ITERATING_CALLS = frozenset(
    {
        "len",
        "list",
        "tuple",
        "set",
        "sorted",
        "sum",
        "any",
        "all",
        "enumerate",
        "zip",
        "dict",
        "max",
        "min",
        "frozenset",
        "reversed",
    }
)
_ZERO_FOR_OTHER = {"str": '""', "float": "0.0", "list": "[]", "tuple": "()"}


def none_subscript(site: Site) -> Iterator[Fix]:
    """`(<x> or {}).get('k')` or a conditional in place of `<x>[...]` on None, or a guard."""
    if _NOT_SUBSCRIPTABLE not in site.error.value:
        return
    for node in site.nodes(ast.Subscript):
        assert isinstance(node, ast.Subscript)
        func, stmt = enclosing_function(site, node), site.code.statement_of(node)
        evidence = is_none(site, node.value)
        if func is None or stmt is None or evidence is False:
            continue
        obj = site.code.expr(node.value)
        why = f"`{func.name}` indexes `{obj}`, which can be None." + seen(
            evidence, f"`{obj}` was None"
        )
        title = f"Allow None `{obj}` in {func.name}"
        if isinstance(node.ctx, ast.Load) and is_pure(node.value):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                new = f"({obj} or {{}}).get({site.code.expr(key)})"
                after = site.code.replace((node, new))
                confidence = 0.7
            else:
                after = conditional(site, node, f"{obj} is not None", "None")
                confidence = 0.65
            rationale = f"{why} The lookup now gives None when `{obj}` is None."
            yield Fix(after, title, rationale, confidence + bonus(evidence))
        if site.code.guardable(node.value, node, stmt):
            yield from none_guards(
                site,
                stmt,
                obj,
                why=why,
                confidence=0.65 + bonus(evidence),
            )
        if isinstance(node.value, ast.Name):
            yield from origin_guards(site, node.value.id, node, evidence)


def _iterated(node: ast.AST, parent: ast.AST | None) -> str | None:
    """The empty value to iterate instead when `node` is iterated by `parent`, else None."""
    match parent:
        case ast.For(iter=iterable) | ast.comprehension(iter=iterable) if iterable is node:
            return "[]"
        case ast.Call(func=ast.Name(id=name), args=args) if node in args:
            return ("{}" if name == "dict" else "[]") if name in _ITERATING_CALLS else None
        case ast.Call(func=ast.Attribute(attr=attr), args=[arg]) if arg is node:
            return {"join": "[]", "extend": "[]", "update": "{}"}.get(attr)
        case ast.Compare(ops=ops, comparators=comparators) if node in comparators:
            position = comparators.index(node)
            return "[]" if isinstance(ops[position], ast.In | ast.NotIn) else None
    return None


def none_iterable(site: Site) -> Iterator[Fix]:
    """`(<x> or [])` where None is iterated, or a guard on it."""
    if not _NOT_ITERABLE.search(site.error.value):
        return
    for node in site.nodes(ast.expr):
        empty = _iterated(node, site.code.parents.get(node))
        func, stmt = enclosing_function(site, node), site.code.statement_of(node)
        evidence = is_none(site, node)
        if empty is None or func is None or stmt is None or evidence is False:
            continue
        obj = site.code.expr(node)
        why = f"`{func.name}` iterates over `{obj}`, which can be None." + seen(
            evidence, f"`{obj}` was None"
        )
        yield Fix(
            site.code.replace((node, f"({obj} or {empty})")),
            f"Treat None `{obj}` as empty in {func.name}",
            f"{why} None now counts as empty.",
            0.75 + bonus(evidence),
        )
        if isinstance(node, ast.expr) and site.code.guardable(node, node, stmt):
            yield from none_guards(
                site,
                stmt,
                obj,
                why=why,
                confidence=0.6 + bonus(evidence),
            )
        if isinstance(node, ast.Name):
            yield from origin_guards(site, node.id, node, evidence)


def _operand_pairs(site: Site) -> Iterator[tuple[ast.AST, ast.expr, ast.expr, str, str]]:
    """(operation, left, right, left type, right type) for the operation the message names."""
    message = site.error.value
    if match := _OPERANDS.search(message):
        op, left_type, right_type = match.groups()
    elif match := _CONCATENATE.search(message):
        op, (left_type, right_type) = "+", match.groups()
    elif match := _COMPARE.search(message):
        op, left_type, right_type = match.groups()
    else:
        return
    for node in site.nodes(ast.BinOp, ast.AugAssign, ast.Compare):
        match node:
            case ast.BinOp(left=left, op=operator, right=right):
                if _OPERATORS.get(type(operator)) == op:
                    yield node, left, right, left_type, right_type
            case ast.AugAssign(target=target, op=operator, value=value):
                if f"{_OPERATORS.get(type(operator))}=" == op:
                    yield node, target, value, left_type, right_type
            case ast.Compare(left=first, ops=ops, comparators=rest):
                operands = [first, *rest]
                for position, comparison in enumerate(ops):
                    if _OPERATORS.get(type(comparison)) == op:
                        pair = operands[position], operands[position + 1]
                        yield node, *pair, left_type, right_type


def _type_name(site: Site, node: ast.AST) -> str | None:
    if isinstance(node, ast.JoinedStr):
        return "str"
    value = site.value(node)
    return None if value is UNKNOWN else type(value).__name__


def _typed_operands(site: Site) -> Iterator[tuple[ast.AST, list[tuple[ast.expr, str]], bool]]:
    """Operations whose operand types do not contradict the message, with the evidence."""
    for node, left, right, left_type, right_type in _operand_pairs(site):
        known = [(_type_name(site, left), left_type), (_type_name(site, right), right_type)]
        if any(seen is not None and seen != said for seen, said in known):
            continue
        evidence = any(seen is not None for seen, _ in known)
        yield node, [(left, left_type), (right, right_type)], evidence


def none_operand(site: Site) -> Iterator[Fix]:
    """`(<x> or 0)` (or `""`, `0.0`) for a None operand of an arithmetic operation."""
    for node, operands, evidence in _typed_operands(site):
        func = enclosing_function(site, node)
        for number, (operand, kind) in enumerate(operands):
            other = operands[1 - number][1]
            if func is None or kind != "NoneType" or other == "NoneType":
                continue
            if isinstance(node, ast.AugAssign) and operand is node.target:
                continue
            zero, text = _ZERO_FOR_OTHER.get(other, "0"), site.code.expr(operand)
            yield Fix(
                site.code.replace((operand, f"({text} or {zero})")),
                f"Treat None `{text}` as {zero} in {func.name}",
                f"`{func.name}` combines `{text}` with a {other}, but `{text}` can be None; "
                f"None now counts as `{zero}`." + seen(evidence, "the operand types match"),
                0.7 + bonus(evidence),
            )


def coerce_operand(site: Site) -> Iterator[Fix]:
    """`int(x)` / `float(x)` / `str(x)` for the operand whose type does not fit the other."""
    for node, operands, evidence in _typed_operands(site):
        func = enclosing_function(site, node)
        kinds = {kind for _, kind in operands}
        if func is None or "str" not in kinds or not kinds & {"int", "float"} or len(kinds) != 2:
            continue
        text_side = next(o for o, kind in operands if kind == "str")
        number_side, number_kind = next((o, k) for o, k in operands if k != "str")
        if is_text(text_side):
            choices = [(number_side, "str", 0.75)]
        else:
            choices = [(text_side, _number_type(site, text_side, number_kind), 0.7)]
            if isinstance(node, ast.BinOp):
                choices.append((number_side, "str", 0.4))
        for operand, target, confidence in choices:
            if isinstance(node, ast.AugAssign) and operand is node.target:
                continue
            if _declared_as(site, operand, target) or _returns_number(func, target):
                continue
            text = site.code.expr(operand)
            yield Fix(
                site.code.replace((operand, f"{target}({text})")),
                f"Convert `{text}` to {target} in {func.name}",
                f"`{func.name}` combines a str with a {number_kind}; `{text}` is converted to "
                f"{target} so both sides have the same type."
                + seen(evidence, "the operand types match"),
                confidence + bonus(evidence),
            )


def _declared_as(site: Site, operand: ast.expr, target: str) -> bool:
    """Whether `operand` is `self.<field>` and the class declares `<field>: <target>`: then the
    value is wrong where it was stored, and converting it at one use would hide that."""
    match operand:
        case ast.Attribute(value=ast.Name(id="self"), attr=field):
            pass
        case _:
            return False
    owner = next((a for a in site.code.ancestors(operand) if isinstance(a, ast.ClassDef)), None)
    if owner is None:
        return False
    return any(
        isinstance(stmt, ast.AnnAssign)
        and isinstance(stmt.target, ast.Name)
        and stmt.target.id == field
        and isinstance(stmt.annotation, ast.Name)
        and stmt.annotation.id == target
        for stmt in owner.body
    )


def _returns_number(func: ast.FunctionDef | ast.AsyncFunctionDef, target: str) -> bool:
    """Whether converting to str would contradict the function's declared number result."""
    returns = func.returns
    return target == "str" and isinstance(returns, ast.Name) and returns.id in ("int", "float")


def _number_type(site: Site, node: ast.expr, other: str) -> str:
    """int or float for a str operand: float when the other side is a float or the captured
    text is a decimal number."""
    value = site.value(node)
    if other == "float" or (isinstance(value, str) and re.fullmatch(r"\s*-?\d*\.\d+\s*", value)):
        return "float"
    return "int"

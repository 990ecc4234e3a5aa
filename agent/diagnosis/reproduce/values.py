"""Captured values rebuilt as checked expressions, never evaluated: literals, containers, and
constructor calls of classes a frame's module knows (see `Namespace`)."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

from agent.diagnosis.reproduce.named import UnknownName, replace_named

_TRUNCATION_MARKS = ("...", "[Filtered]")
_STDLIB_TYPES = {
    "Decimal": ("decimal", "Decimal"),
    "Fraction": ("fractions", "Fraction"),
    "UUID": ("uuid", "UUID"),
    "Namespace": ("argparse", "Namespace"),
    "PosixPath": ("pathlib", "PosixPath"),
    "PurePosixPath": ("pathlib", "PurePosixPath"),
    "datetime.date": ("datetime", None),
    "datetime.datetime": ("datetime", None),
    "datetime.time": ("datetime", None),
    "datetime.timedelta": ("datetime", None),
    "datetime.timezone": ("datetime", None),
}
"""Standard-library value types whose repr is a constructor call: repr callee -> import."""
_STDLIB_CONSTANTS = {"datetime.timezone.utc": "datetime"}
_BUILTIN_CALLS = {"set", "frozenset"}
_MAX_REPR = 20_000


class NotRebuildable(Exception):
    """A captured value, frame or function that cannot be turned into a reproduction."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def rebuild_value(value: object) -> object:
    """Rebuild one captured literal from its Sentry (JSON of reprs) or fixloop (repr) form."""
    if isinstance(value, str):
        if value.endswith(_TRUNCATION_MARKS):
            raise NotRebuildable(f"value looks truncated or filtered: {clip(value)}")
        try:
            rebuilt = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
            raise NotRebuildable(f"not a Python literal: {clip(value)}") from error
        _check_round_trip(rebuilt)
        return rebuilt
    if isinstance(value, list):
        return [rebuild_value(item) for item in value]
    if isinstance(value, dict):
        # Sentry writes mapping keys as plain strings, not reprs.
        return {str(key): rebuild_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float):
        _check_round_trip(value)
        return value
    raise NotRebuildable(f"unsupported captured value of type {type(value).__name__}")


@dataclass
class Namespace:
    """The classes a captured repr may construct: name as the repr spells it -> its module."""

    classes: dict[str, str] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    """Functions a `<function f at 0x…>` repr may name: name -> its module."""
    used: set[tuple[str, str | None]] = field(default_factory=set)
    """(module, name) imports the rebuilt values need; name None means `import module`."""
    named: list[ast.expr] = field(default_factory=list)
    """Expressions that stand for named things in the reprs rebuilt so far (already checked)."""

    def resolve(self, callee: str) -> tuple[str, str | None] | None:
        if callee in self.classes:
            return self.classes[callee], callee
        return _STDLIB_TYPES.get(callee)


def rebuild_expression(value: object, namespace: Namespace) -> ast.expr:
    """One captured value as a checked expression: literals, containers and constructor calls
    of classes in `namespace`. Records the imports it needs in `namespace.used`."""
    if isinstance(value, str):
        if value.endswith(_TRUNCATION_MARKS):
            raise NotRebuildable(f"value looks truncated or filtered: {clip(value)}")
        if len(value) > _MAX_REPR:
            raise NotRebuildable(f"value is too long to rebuild ({len(value)} characters)")
        try:
            text, named = replace_named(value.strip(), namespace)
        except UnknownName as unknown:
            raise NotRebuildable(f"{unknown}: {clip(value)}") from unknown
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
            raise NotRebuildable(f"not a Python literal or constructor: {clip(value)}") from error
        body = _Substitute(named).visit(tree.body) if named else tree.body
        namespace.named.extend(named.values())
        check_expression(body, namespace, value)
        return body
    if isinstance(value, list):
        return ast.List(elts=[rebuild_expression(item, namespace) for item in value])
    if isinstance(value, dict):
        # Sentry writes mapping keys as plain strings, not reprs.
        return ast.Dict(
            keys=[ast.Constant(str(key)) for key in value],
            values=[rebuild_expression(item, namespace) for item in value.values()],
        )
    if value is None or isinstance(value, bool | int | float):
        _check_round_trip(value)
        return ast.Constant(value)
    raise NotRebuildable(f"unsupported captured value of type {type(value).__name__}")


class _Substitute(ast.NodeTransformer):
    """Puts back the names `replace_named` stood placeholders for."""

    def __init__(self, named: dict[str, ast.expr]) -> None:
        self.named = named

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.named.get(node.id, node)


def check_expression(node: ast.expr, namespace: Namespace, text: str) -> None:
    if any(node is named for named in namespace.named):
        return
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis:
            raise NotRebuildable(f"value looks truncated: {clip(text)}")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise NotRebuildable(f"{node.value!r} cannot be written as a literal")
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float):
            return check_expression(node.operand, namespace, text)
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            check_expression(element, namespace, text)
        return
    elif isinstance(node, ast.Dict):
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:
                break
            check_expression(key, namespace, text)
            check_expression(item, namespace, text)
        else:
            return
    elif isinstance(node, ast.Call):
        _check_callee(node.func, namespace, text)
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                break
            check_expression(argument, namespace, text)
        else:
            for keyword in node.keywords:
                if keyword.arg is None:
                    break
                check_expression(keyword.value, namespace, text)
            else:
                return
    elif isinstance(node, ast.Attribute) and dotted(node) in _STDLIB_CONSTANTS:
        namespace.used.add((_STDLIB_CONSTANTS[dotted(node)], None))
        return
    raise NotRebuildable(f"not a literal or a constructor of a known class: {clip(text)}")


def _check_callee(callee: ast.expr, namespace: Namespace, text: str) -> None:
    name = dotted(callee)
    if name in _BUILTIN_CALLS:
        return
    resolved = namespace.resolve(name) if name else None
    if resolved is None:
        raise NotRebuildable(
            f"{name or ast.unparse(callee)} is not a class the frame's module defines or "
            f"imports from the repository: {clip(text)}"
        )
    namespace.used.add(resolved)


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _check_round_trip(value: object) -> None:
    """Only values whose repr reads back as the same literal can be written into a test."""
    if isinstance(value, float) and not math.isfinite(value):
        raise NotRebuildable(f"{value!r} cannot be written as a literal")
    try:
        same = ast.literal_eval(repr(value)) == value
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        same = False
    if not same:
        raise NotRebuildable(f"{clip(repr(value))} does not read back as a literal")


def clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

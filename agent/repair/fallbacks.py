"""Values a fix falls back to, and what the incident's captured variables say.

Captured variables are untrusted text from the incident (usually `repr` strings). They are read
with `ast.literal_eval` at most, never evaluated. Fallbacks are Python source text.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
"""A captured value that is missing or cannot be read as a literal."""

_DECIMAL = re.compile(r"Decimal\('(-?[0-9.eE+-]+)'\)")
_MAX_REPR = 10_000

_ZERO_BY_TYPE = {
    "float": "0.0",
    "int": "0",
    "str": '""',
    "bytes": 'b""',
    "bool": "False",
    "list": "[]",
    "List": "[]",
    "Sequence": "[]",
    "MutableSequence": "[]",
    "Iterable": "[]",
    "Collection": "[]",
    "dict": "{}",
    "Dict": "{}",
    "Mapping": "{}",
    "MutableMapping": "{}",
    "set": "set()",
    "Set": "set()",
    "frozenset": "frozenset()",
    "tuple": "()",
    "Tuple": "()",
    "None": "None",
    "Optional": "None",
    "Any": "None",
    "object": "None",
}
_ZERO_CONSTRUCTED = frozenset({"Decimal", "Fraction"})

STR_METHODS = frozenset(
    {
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "startswith",
        "endswith",
        "replace",
        "format",
        "encode",
        "title",
        "casefold",
        "join",
        "splitlines",
        "isdigit",
    }
)
DICT_METHODS = frozenset({"items", "keys", "values", "get", "setdefault", "update", "pop"})
LIST_METHODS = frozenset({"append", "extend", "insert", "sort", "remove", "reverse"})
_NUMBER_CALLS = frozenset({"sum", "int", "float", "round", "abs", "min", "max", "divmod"})
_SEQUENCE_CALLS = frozenset(
    {"len", "sorted", "list", "tuple", "set", "enumerate", "reversed", "any", "all", "zip"}
)


def captured(variables: Mapping[str, Any], name: str) -> Any:
    """The value of a captured variable, or UNKNOWN. Strings are read as reprs (`'0'` is 0,
    `"'abc'"` is the string abc); anything that is not a literal is UNKNOWN."""
    if name not in variables:
        return UNKNOWN
    raw = variables[name]
    if not isinstance(raw, str):
        return raw
    if len(raw) > _MAX_REPR:
        return UNKNOWN
    if match := _DECIMAL.fullmatch(raw):
        try:
            return Decimal(match.group(1))
        except InvalidOperation:
            return UNKNOWN
    try:
        return ast.literal_eval(raw)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def annotation_fallback(annotation: ast.expr | None) -> str | None:
    """The zero value of a return annotation (`float` -> `0.0`, `Optional[X]` -> `None`,
    `list[int]` -> `[]`, `Decimal` -> `Decimal(0)`), or None when the annotation says nothing
    this module knows."""
    match annotation:
        case None:
            return None
        case ast.Constant(value=str() as text):
            try:
                return annotation_fallback(ast.parse(text, mode="eval").body)
            except SyntaxError:
                return None
        case ast.Constant(value=None):
            return "None"
        case ast.BinOp(op=ast.BitOr(), left=left, right=right):
            parts = (annotation_fallback(left), annotation_fallback(right))
            return "None" if "None" in parts else None
        case ast.Subscript(value=base):
            name = _last_name(base)
            if name == "Union":
                return "None"
            return _ZERO_BY_TYPE.get(name) if name not in _ZERO_CONSTRUCTED else None
        case ast.Name() | ast.Attribute():
            name = _last_name(annotation)
            if name in _ZERO_CONSTRUCTED:
                return f"{ast.unparse(annotation)}(0)"
            return _ZERO_BY_TYPE.get(name)
    return None


def returns_value(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the function has a `return <value>` of its own (nested functions aside)."""
    return any(isinstance(n, ast.Return) and n.value is not None for n in own_nodes(func))


def is_generator(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own_nodes(func))


def own_nodes(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, without those of functions or classes nested in it."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return found


def return_statement(
    func: ast.FunctionDef | ast.AsyncFunctionDef, value_fallback: str | None = None
) -> str:
    """How a guard leaves this function: `return 0.0` for `-> float`, a bare `return` in a
    generator or a function that returns nothing, else `return <value_fallback or None>`."""
    if is_generator(func):
        return "return"
    if func.returns is not None:
        return f"return {annotation_fallback(func.returns) or 'None'}"
    if not returns_value(func):
        return "return"
    return f"return {value_fallback or 'None'}"


def usage_default(node: ast.AST, parent: ast.AST | None) -> str | None:
    """A default for a missing value, judged by how the expression is used: 0 in arithmetic,
    "" for string methods and f-strings, [] for iteration and list methods, {} for dict use."""
    match parent:
        case ast.BinOp(left=left, right=right):
            other = right if left is node else left
            return '""' if is_text(other) else "0"
        case ast.AugAssign() | ast.UnaryOp(op=ast.USub() | ast.UAdd()):
            return "0"
        case ast.Compare(left=left, comparators=comparators):
            numbers = [c for c in [left, *comparators] if _is_number(c)]
            return "0" if numbers else None
        case ast.Call(func=ast.Name(id=name), args=args) if node in args:
            if name in _NUMBER_CALLS:
                return "0"
            return "[]" if name in _SEQUENCE_CALLS else None
        case ast.Attribute(attr=attr):
            if attr in STR_METHODS:
                return '""'
            if attr in DICT_METHODS:
                return "{}"
            return "[]" if attr in LIST_METHODS else None
        case ast.For(iter=iterable) | ast.comprehension(iter=iterable) if iterable is node:
            return "[]"
        case ast.Subscript(value=value, slice=index) if value is node:
            keyed = isinstance(index, ast.Constant) and isinstance(index.value, str)
            return "{}" if keyed else "[]"
        case ast.FormattedValue():
            return '""'
    return None


def is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""

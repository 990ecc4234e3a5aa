"""Reprs that name a thing rather than spell a value: `<class 'int'>`, `<function parse at 0x…>`,
`<built-in function len>`, enum members such as `<Color.RED: 1>`.

Each is replaced, outside the repr's string literals, by a placeholder name standing for the
expression that names the same thing in the frame's module (`int`, `parse`, `Color.RED`) before
the repr is parsed; a name that module does not know is refused.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.diagnosis.reproduce.values import Namespace

PLACEHOLDER = "_fixloop_named_"
_NAMED = re.compile(
    r"<class '(?P<cls>[A-Za-z_][\w.]*)'>"
    r"|<function (?P<func>[A-Za-z_][\w.]*) at 0x[0-9a-fA-F]+>"
    r"|<built-in function (?P<builtin>[A-Za-z_]\w*)>"
    r"|<(?P<enum>[A-Za-z_]\w*)\.(?P<member>[A-Za-z_]\w*): "
    r"(?:'[^'\\]*'|\"[^\"\\]*\"|[^<>'\"])*>"
)


class UnknownName(Exception):
    """A named thing the frame's module cannot name."""


def replace_named(text: str, namespace: Namespace) -> tuple[str, dict[str, ast.expr]]:
    """`text` with each named thing replaced by a placeholder, and what each placeholder names.
    Raises `UnknownName` for a thing the namespace cannot name."""
    if PLACEHOLDER in text:
        raise UnknownName(f"the repr spells {PLACEHOLDER}")
    parts: list[str] = []
    named: dict[str, ast.expr] = {}
    position = 0
    while position < len(text):
        char = text[position]
        if char in "'\"":
            end = _string_end(text, position)
            parts.append(text[position:end])
            position = end
            continue
        match = _NAMED.match(text, position) if char == "<" else None
        if match is None:
            parts.append(char)
            position += 1
            continue
        placeholder = f"{PLACEHOLDER}{len(named)}"
        named[placeholder] = _resolve(match, namespace)
        parts.append(placeholder)
        position = match.end()
    return "".join(parts), named


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    position = start + 1
    while position < len(text):
        if text[position] == "\\":
            position += 2
            continue
        if text[position] == quote:
            return position + 1
        position += 1
    return len(text)


def _resolve(match: re.Match[str], namespace: Namespace) -> ast.expr:
    if match.group("cls"):
        return _class(match.group("cls"), namespace)
    if match.group("func"):
        return _function(match.group("func"), namespace)
    if match.group("builtin"):
        return _builtin(match.group("builtin"), callable)
    owner, member = match.group("enum"), match.group("member")
    if owner not in namespace.classes:
        raise UnknownName(f"{owner} is not a class the frame's module knows")
    namespace.used.add((namespace.classes[owner], owner))
    return ast.Attribute(value=ast.Name(owner), attr=member)


def _class(dotted: str, namespace: Namespace) -> ast.expr:
    module, _, name = dotted.rpartition(".")
    if not module:
        return _builtin(name, lambda value: isinstance(value, type))
    if namespace.classes.get(name) == module:
        namespace.used.add((module, name))
        return ast.Name(name)
    if module.split(".")[0] in sys.stdlib_module_names and module != "builtins":
        namespace.used.add((module, None))
        return ast.parse(dotted, mode="eval").body
    raise UnknownName(f"class {dotted} is not one the frame's module knows")


def _function(qualname: str, namespace: Namespace) -> ast.expr:
    owner, _, name = qualname.rpartition(".")
    if not owner and name in namespace.functions:
        namespace.used.add((namespace.functions[name], name))
        return ast.Name(name)
    if owner and "." not in owner and owner in namespace.classes:
        namespace.used.add((namespace.classes[owner], owner))
        return ast.Attribute(value=ast.Name(owner), attr=name)
    raise UnknownName(f"function {qualname} is not one the frame's module defines or imports")


def _builtin(name: str, kind: Callable[[object], bool]) -> ast.expr:
    value = getattr(builtins, name, None)
    if value is None or not kind(value) or name.startswith("_"):
        raise UnknownName(f"{name} is not a builtin")
    return ast.Name(name)

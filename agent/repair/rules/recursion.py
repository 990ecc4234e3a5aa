"""RecursionError: a recursive call that makes no progress, given the base case it lacks.

Two patterns, both read from the branch that guards the recursive call:
* the branch tests `isinstance(x, Sequence)` (or another collection ABC) and recurses into `x`:
  a string is a sequence of strings, so it recurses forever; strings are excluded.
* the branch looks ahead (`if self.peek() == "-":`) and recurses with the same state: the token
  seen is never consumed. The class consumes it elsewhere after the same look-ahead
  (`if self.peek() == ",": self.take(",")`), so the branch now does too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from agent.repair.rules import Fix, Function, Site, enclosing_function

_TEXT_IS_A = frozenset({"Sequence", "Iterable", "Collection", "Container", "Reversible"})


def _recursive_calls(site: Site) -> Iterator[tuple[Function, ast.Call, ast.If]]:
    """Calls of the crashing function to itself, each with the `if` that guards it."""
    statements = site.nodes(ast.stmt)
    func = enclosing_function(site, statements[0]) if statements else None
    if func is None:
        return
    for node in ast.walk(func):
        if not isinstance(node, ast.Call) or not _calls(node, func.name):
            continue
        guard = next((a for a in site.code.ancestors(node) if isinstance(a, ast.If)), None)
        if guard is not None and site.code.function_of(guard) is func:
            yield func, node, guard


def _calls(call: ast.Call, name: str) -> bool:
    match call.func:
        case ast.Name(id=called) | ast.Attribute(value=ast.Name(id="self" | "cls"), attr=called):
            return called == name
    return False


def exclude_text(site: Site) -> Iterator[Fix]:
    """`isinstance(x, Sequence)` -> `... and not isinstance(x, (str, bytes))` where the branch
    recurses into `x`."""
    for func, call, guard in _recursive_calls(site):
        for test in ast.walk(guard.test):
            match test:
                case ast.Call(
                    func=ast.Name(id="isinstance"),
                    args=[
                        ast.Name(id=name) as subject,
                        ast.Name(id=kind) | ast.Attribute(attr=kind),
                    ],
                ) if kind in _TEXT_IS_A and _recurses_into(call, name):
                    pass
                case _:
                    continue
            checked = site.code.expr(test)
            text = site.code.replace(
                (test, f"{checked} and not isinstance({subject.id}, (str, bytes))")
            )
            yield Fix(
                text,
                f"Do not recurse into strings in {func.name}",
                f"`{func.name}` recurses into every `{kind}`, and a string is a `{kind}` of "
                f"one-character strings, each of them a `{kind}` again: the recursion never "
                f"ends. Strings (and bytes) are now taken as items, not recursed into.",
                0.85,
            )


def _recurses_into(call: ast.Call, name: str) -> bool:
    return any(isinstance(arg, ast.Name) and arg.id == name for arg in call.args)


def consume_lookahead(site: Site) -> Iterator[Fix]:
    """`if self.peek() == "-": return -self.unary()` -> consume the `-` before recursing, with
    the method the class calls after the same look-ahead elsewhere."""
    for func, call, guard in _recursive_calls(site):
        match guard.test:
            case ast.Compare(
                left=ast.Call(func=ast.Attribute(value=ast.Name(id="self"), attr=peek), args=[]),
                ops=[ast.Eq()],
                comparators=[ast.Constant(value=str() as token)],
            ) if not call.args:
                pass
            case _:
                continue
        statement = site.code.statement_of(call)
        consume = _consumer(site, func, peek)
        if statement is None or consume is None or statement not in guard.body:
            continue
        if any(_calls_method(node, consume) for stmt in guard.body for node in ast.walk(stmt)):
            continue
        unit = site.code.indent_unit(func)
        text = site.code.insert_before(statement, [(0, f"self.{consume}({token!r})")], unit)
        if text is None:
            continue
        yield Fix(
            text,
            f"Consume {token!r} before recursing in {func.name}",
            f"`{func.name}` sees {token!r} with `self.{peek}()` and calls itself without "
            f"consuming it, so it sees the same token again and never ends. The branch now "
            f"calls `self.{consume}({token!r})` first, as the class does after the same "
            f"look-ahead elsewhere.",
            0.85,
        )


def _consumer(site: Site, func: Function, peek: str) -> str | None:
    """The method that the class calls first in a branch or loop that tests `self.<peek>()`."""
    owner = next((a for a in site.code.ancestors(func) if isinstance(a, ast.ClassDef)), None)
    if owner is None:
        return None
    for node in ast.walk(owner):
        if not isinstance(node, ast.If | ast.While) or not node.body:
            continue
        match node.test:
            case ast.Compare(
                left=ast.Call(func=ast.Attribute(value=ast.Name(id="self"), attr=seen))
            ) if seen == peek:
                pass
            case _:
                continue
        first = node.body[0]
        value = first.value if isinstance(first, ast.Expr | ast.Assign) else None
        match value:
            case ast.Call(func=ast.Attribute(value=ast.Name(id="self"), attr=method)) if (
                method != peek
            ):
                return method
    return None


def _calls_method(node: ast.AST, method: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    )

"""The templates of the template engine, one module per family of crash, and what they share.

A template is a small function `(Site) -> Iterator[Fix]`: it finds the failing expression on the
crash line with `ast` and proposes new texts of the file. It does not validate them; the engine
checks that each one parses and changes only lines of the suspect symbol. Exception messages and
captured variables are untrusted: templates match them with regular expressions and read them
with `ast.literal_eval` at most, and only names from the source reach a title or rationale.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from agent.domain import ExceptionInfo
from agent.repair.fallbacks import (
    UNKNOWN,
    annotation_fallback,
    captured,
    is_generator,
    return_statement,
)
from agent.repair.pysource import FUNCTIONS, Block, PySource

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Site:
    """One crash line of one suspect, with the variables the incident captured there."""

    path: str
    code: PySource
    line: int
    error: ExceptionInfo
    variables: Mapping[str, Any]
    read: Callable[[str], str | None] = lambda path: None
    """The text of another file of the repository at the same commit, or None."""
    files: Callable[[], list[str]] = lambda: []
    """The paths of the repository's files at the same commit."""

    def nodes(self, *kinds: type[ast.AST]) -> list[ast.AST]:
        return self.code.nodes_on_line(self.line, *kinds)

    def value(self, node: ast.AST) -> Any:
        """What the captured variables say `node` evaluated to, or UNKNOWN."""
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                return captured(self.variables, name)
            case ast.Call(func=ast.Name(id="len"), args=[arg], keywords=[]):
                value = self.value(arg)
                return len(value) if isinstance(value, list | tuple | dict | str | set) else UNKNOWN
            case ast.BinOp(left=left, op=ast.Add() | ast.Sub() as op, right=right):
                a, b = self.value(left), self.value(right)
                if is_int(a) and is_int(b):
                    return a + b if isinstance(op, ast.Add) else a - b
        return UNKNOWN


@dataclass(frozen=True)
class Fix:
    """One proposed new text of the suspect file."""

    after: str
    title: str
    rationale: str
    confidence: float
    anywhere: bool = False
    """The edit may change lines outside the suspect symbol (a rename fixes every use)."""


Template = Callable[[Site], Iterator[Fix]]


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_none(site: Site, node: ast.AST) -> bool | None:
    """True when the incident shows `node` was None, False when it shows it was not."""
    value = site.value(node)
    return None if value is UNKNOWN else value is None


def bonus(evidence: bool | None) -> float:
    return 0.1 if evidence else 0.0


def seen(evidence: bool | None, fact: str) -> str:
    return f" The incident's captured variables confirm that {fact}." if evidence else ""


def enclosing_function(site: Site, node: ast.AST) -> Function | None:
    return site.code.function_of(node)


def _exit_words(exit_code: str, func: Function) -> str:
    if exit_code == "continue":
        return "skips to the next iteration of the loop"
    if exit_code == "break":
        return "stops the loop"
    if exit_code == "return":
        return "returns early"
    value = exit_code.removeprefix("return ")
    if func.returns is not None and annotation_fallback(func.returns) == value:
        declared = ast.unparse(func.returns)
        return f"returns `{value}`, the empty value of the declared return type `{declared}`"
    return f"returns `{value}`"


def none_guards(
    site: Site, anchor: ast.stmt, name: str, *, why: str, confidence: float, after: bool = False
) -> Iterator[Fix]:
    """`if <name> is None: <exit>` before (or after) `anchor`, titled for the function."""
    func = enclosing_function(site, anchor)
    if func is None:
        return
    yield from guards(
        site,
        anchor,
        f"{name} is None",
        title=f"Guard None `{name}` in {func.name}",
        why=why,
        confidence=confidence,
        after=after,
        passthrough=passes_none_through(func, name),
    )


def _optional_of(annotation: ast.expr | None) -> ast.expr | None:
    """`X` for an annotation `X | None`, `None | X` or `Optional[X]`, else None."""
    match annotation:
        case ast.BinOp(op=ast.BitOr(), left=inner, right=ast.Constant(value=None)):
            return inner
        case ast.BinOp(op=ast.BitOr(), left=ast.Constant(value=None), right=inner):
            return inner
        case ast.Subscript(value=ast.Name(id="Optional") | ast.Attribute(attr="Optional")):
            return annotation.slice
    return None


def passes_none_through(func: Function, name: str) -> bool:
    """Whether `func` maps its parameter `name: X | None` to an `X`: a transformation of an
    optional value, which should give None back for None rather than invent an empty `X`."""
    if func.returns is None or is_generator(func):
        return False
    for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs):
        if arg.arg == name:
            inner = _optional_of(arg.annotation)
            return inner is not None and ast.dump(inner) == ast.dump(func.returns)
    return False


def _optional_return(text: str, func: Function) -> str | None:
    """`text` with the return annotation of the function at `func`'s line widened to `X | None`."""
    try:
        code = PySource(text)
    except SyntaxError:
        return None
    for node in ast.walk(code.tree):
        if isinstance(node, FUNCTIONS) and node.lineno == func.lineno and node.returns is not None:
            return code.replace((node.returns, f"{code.expr(node.returns)} | None"))
    return None


def guards(
    site: Site,
    anchor: ast.stmt,
    condition: str,
    *,
    title: str,
    why: str,
    confidence: float,
    after: bool = False,
    loop_exit: str = "continue",
    value_fallback: str | None = None,
    loop_only: bool = False,
    passthrough: bool = False,
) -> Iterator[Fix]:
    """`if <condition>: <exit>` on new lines before (or after) `anchor`: `loop_exit` first when
    the anchor is in a loop body, then a return of the function's empty value (not with
    `loop_only`: inside a loop, returning a made-up value would hide the bug). With
    `passthrough` (the function transforms an optional value) `return None` comes first, and the
    declared return type becomes optional too."""
    func = enclosing_function(site, anchor)
    if func is None:
        return
    exits = [return_statement(func, value_fallback)]
    if site.code.loop_of(anchor) is not None:
        exits = [loop_exit] if loop_only else [loop_exit, *exits]
    if passthrough and site.code.loop_of(anchor) is None and "return None" not in exits:
        exits = ["return None", *exits]
    unit = site.code.indent_unit(func)
    for number, exit_code in enumerate(exits):
        block: Block = [(0, f"if {condition}:"), (1, exit_code)]
        text = (site.code.insert_after if after else site.code.insert_before)(anchor, block, unit)
        words = _exit_words(exit_code, func)
        if text is not None and passthrough and exit_code == "return None":
            text = _optional_return(text, func)
            words = "gives None back for None, as a transformation of an optional value should"
        if text is not None:
            rationale = f"{why} The new guard `if {condition}:` {words}."
            yield Fix(text, title, rationale, confidence - 0.05 * number)


def origin_guards(site: Site, name: str, use: ast.AST, evidence: bool | None) -> Iterator[Fix]:
    """A None guard where `name` comes from: at the top of the function when it is a parameter,
    or right after it is assigned from a call or a lookup."""
    func = enclosing_function(site, use)
    stmt = site.code.statement_of(use)
    if func is None or stmt is None:
        return
    params = [a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)]
    if name in params:
        why = f"`{func.name}` uses its parameter `{name}` without checking for None."
        yield from none_guards(
            site,
            site.code.first_statement(func),
            name,
            why=why + seen(evidence, f"`{name}` was None"),
            confidence=0.7 + bonus(evidence),
        )
        return
    origin = _last_assignment(func, name, stmt.lineno)
    if origin is not None and isinstance(origin.value, ast.Call | ast.Subscript):
        source = site.code.expr(origin.value)
        why = f"`{name}` is assigned from `{source}`, which can give None, and used unchecked."
        yield from none_guards(
            site,
            origin,
            name,
            after=True,
            why=why + seen(evidence, f"`{name}` was None"),
            confidence=0.65 + bonus(evidence),
        )


def _last_assignment(func: Function, name: str, before_line: int) -> ast.Assign | None:
    found = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == name
        and (node.end_lineno or node.lineno) < before_line
    ]
    return max(found, key=lambda n: n.lineno, default=None)


def conditional(site: Site, use: ast.AST, test: str, fallback: str) -> str:
    return site.code.replace((use, f"({site.code.expr(use)} if {test} else {fallback})"))


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

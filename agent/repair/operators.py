"""Mutation operators for wrong-value bugs: small edits of one function, byte-minimal.

Each operator walks the function's own nodes (nested functions and classes aside) and yields
`Mutant`s: the new file text, the line it changes, a short title and a prior (how often this
kind of slip is the bug; higher first). Operators do not validate; the engine drops mutants
that do not parse or that are equivalent to the original or to another mutant.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agent.repair.fallbacks import own_nodes, returns_value
from agent.repair.pysource import FUNCTIONS, PySource

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Mutant:
    after: str
    line: int
    title: str
    prior: float


Operator = Callable[[PySource, Function], Iterator[Mutant]]

_COMPARE_SWAPS: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}
_BINOP_SWAPS: dict[type[ast.operator], list[type[ast.operator]]] = {
    ast.Add: [ast.Sub, ast.Mult],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Div, ast.Add],
    ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div, ast.Mod],
    ast.Mod: [ast.FloorDiv],
}
_SYMBOLS: dict[type[ast.AST], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.And: "and",
    ast.Or: "or",
}
_TOKEN = {
    "<": r"<(?![<=])",
    "<=": r"<=",
    ">": r"(?<!-)>(?![>=])",
    ">=": r">=",
    "==": r"==",
    "!=": r"!=",
    "in": r"(?<![\w.])in(?!\w)",
    "not in": r"not\s+in(?!\w)",
    "is": r"(?<![\w.])is(?!\w)(?!\s+not\b)",
    "is not": r"is\s+not(?!\w)",
    "+": r"(?<![+*/=])\+(?!=)",
    "-": r"(?<![-=])-(?![=>])",
    "*": r"(?<!\*)\*(?![*=])",
    "/": r"(?<!/)/(?![/=])",
    "//": r"//(?!=)",
    "%": r"%(?!=)",
    "and": r"(?<!\w)and(?!\w)",
    "or": r"(?<!\w)or(?!\w)",
}


def _swap_token(code: PySource, left: ast.AST, right: ast.AST, old: str, new: str) -> str | None:
    """Replace the operator `old` between two operands with `new`; the rest stays byte-equal."""
    start, end = code.span(left)[1], code.span(right)[0]
    gap = code.text[start:end]
    found = list(re.finditer(_TOKEN[old], gap))
    if len(found) != 1 or "#" in gap:
        return None
    match = found[0]
    return code.text[: start + match.start()] + new + code.text[start + match.end() :]


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def compare_operators(code: PySource, func: Function) -> Iterator[Mutant]:
    """`<` <-> `<=`, `<` <-> `>`, `==` <-> `!=`, `in` <-> `not in`, `is` <-> `is not`."""
    for node in own_nodes(func):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for index, op in enumerate(node.ops):
            old = _SYMBOLS[type(op)]
            for number, swap in enumerate(_COMPARE_SWAPS.get(type(op), [])):
                new = _SYMBOLS[swap]
                text = _swap_token(code, operands[index], operands[index + 1], old, new)
                if text is not None:
                    title = f"`{old}` -> `{new}` in {func.name}"
                    yield Mutant(text, _line(node), title, 0.9 - 0.15 * number)


def arithmetic_operators(code: PySource, func: Function) -> Iterator[Mutant]:
    """`+` <-> `-`, `*` <-> `/`, `/` <-> `//`, and the same in augmented assignments."""
    for node in own_nodes(func):
        if isinstance(node, ast.BinOp):
            old = _SYMBOLS.get(type(node.op))
            for number, swap in enumerate(_BINOP_SWAPS.get(type(node.op), [])):
                new = _SYMBOLS[swap]
                text = old and _swap_token(code, node.left, node.right, old, new)
                if text:
                    title = f"`{old}` -> `{new}` in {func.name}"
                    yield Mutant(text, _line(node), title, 0.75 - 0.2 * number)
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            old = _SYMBOLS[type(node.op)]
            new = "or" if old == "and" else "and"
            text = _swap_token(code, node.values[0], node.values[1], old, new)
            if text:
                yield Mutant(text, _line(node), f"`{old}` -> `{new}` in {func.name}", 0.6)
        elif isinstance(node, ast.AugAssign) and type(node.op) in (ast.Add, ast.Sub):
            old = "+=" if isinstance(node.op, ast.Add) else "-="
            new = "-=" if old == "+=" else "+="
            start, end = code.span(node.target)[1], code.span(node.value)[0]
            gap = code.text[start:end]
            if gap.count(old) == 1:
                at = start + gap.index(old)
                text = code.text[:at] + new + code.text[at + 2 :]
                yield Mutant(text, _line(node), f"`{old}` -> `{new}` in {func.name}", 0.6)


def _bounds(func: Function) -> Iterator[ast.expr]:
    """Expressions that bound a range, a slice or an index, and sides of order comparisons."""
    for node in own_nodes(func):
        match node:
            case ast.Call(func=ast.Name(id="range"), args=args):
                yield from args
            case ast.Slice(lower=lower, upper=upper):
                yield from (bound for bound in (lower, upper) if bound is not None)
            case ast.Subscript(slice=index) if not isinstance(index, ast.Slice | ast.Tuple):
                if not (isinstance(index, ast.Constant) and isinstance(index.value, str)):
                    yield index
            case ast.Compare(ops=[ast.Lt() | ast.LtE() | ast.Gt() | ast.GtE()]):
                yield from (node.left, *node.comparators)


def off_by_one(code: PySource, func: Function) -> Iterator[Mutant]:
    """Range bounds, slice bounds, indices and compared values one up or one down."""
    seen: set[int] = set()
    for bound in _bounds(func):
        if id(bound) in seen:
            continue
        seen.add(id(bound))
        text = code.expr(bound)
        match bound:
            case ast.Constant(value=int(value)) if not isinstance(value, bool):
                options = [str(value + 1), str(value - 1)]
            case ast.BinOp(op=ast.Add() | ast.Sub(), right=ast.Constant(value=1)):
                options = [code.expr(bound.left)]
            case ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=int(value))):
                options = [str(-value + 1), str(-value - 1)]
            case _:
                options = [f"{text} + 1", f"{text} - 1"] if _simple(bound) else []
        for option in options:
            if isinstance(code.parents.get(bound), ast.BinOp) and " " in option:
                option = f"({option})"
            yield Mutant(
                code.replace((bound, option)),
                _line(bound),
                f"`{text}` -> `{option}` in {func.name}",
                0.7,
            )


def _simple(node: ast.AST) -> bool:
    match node:
        case ast.Name() | ast.Attribute():
            return True
        case ast.Call(func=ast.Name(id="len")):
            return True
    return False


def boolean_negation(code: PySource, func: Function) -> Iterator[Mutant]:
    """`if x:` -> `if not x:`, and `not x` -> `x`."""
    for node in own_nodes(func):
        if isinstance(node, ast.If | ast.While | ast.IfExp) and not isinstance(
            node.test, ast.UnaryOp
        ):
            test = code.expr(node.test)
            negated = f"not {code.atom(node.test)}" if _simple(node.test) else f"not ({test})"
            yield Mutant(
                code.replace((node.test, negated)),
                _line(node.test),
                f"negate `{test}` in {func.name}",
                0.55,
            )
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield Mutant(
                code.replace((node, code.atom(node.operand))),
                _line(node),
                f"drop `not` from `{code.expr(node)}` in {func.name}",
                0.55,
            )


def _locals(func: Function) -> dict[str, tuple[int, str | None]]:
    """Parameters and plainly assigned names: the line they are first bound on, and their kind
    (a parameter's annotation; None when unknown)."""
    found: dict[str, tuple[int, str | None]] = {}
    for arg in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs):
        if arg.arg not in ("self", "cls"):
            kind = ast.unparse(arg.annotation) if arg.annotation is not None else None
            found.setdefault(arg.arg, (func.lineno, kind))
    for node in own_nodes(func):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.NamedExpr):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id not in found:
                    found[name.id] = (_line(node), None)
    return found


def _same_kind(a: str | None, b: str | None) -> bool:
    return a == b or (a is None and b in _NUMBERS) or (b is None and a in _NUMBERS)


_ARITHMETIC_PARTS = (
    ast.Name,
    ast.Constant,
    ast.BinOp,
    ast.operator,
    ast.Attribute,
    ast.expr_context,
)
_NUMBERS = ("int", "float", "Decimal", "Fraction", "complex", None)


def _expressions(code: PySource, func: Function) -> list[tuple[str, int]]:
    """Arithmetic over locals written elsewhere in the function (`list_total - discount`)."""
    found: dict[str, int] = {}
    for node in own_nodes(func):
        if isinstance(node, ast.BinOp) and all(
            isinstance(n, _ARITHMETIC_PARTS) for n in ast.walk(node)
        ):
            text = code.expr(node)
            if len(text) <= 40:
                found.setdefault(text, _line(node))
    return list(found.items())


def other_variable(code: PySource, func: Function) -> Iterator[Mutant]:
    """A local read where another local of the same kind, bound earlier, was meant; or where
    arithmetic written elsewhere in the function was meant."""
    scope = _locals(func)
    expressions = _expressions(code, func)
    for node in own_nodes(func):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        parent = code.parents.get(node)
        if node.id not in scope or (isinstance(parent, ast.Call) and parent.func is node):
            continue
        line, kind = _line(node), scope[node.id][1]
        for other, (bound_at, other_kind) in scope.items():
            if other == node.id or not _same_kind(kind, other_kind):
                continue
            if bound_at >= line and bound_at != func.lineno:
                continue
            yield Mutant(
                code.replace((node, other)), line, f"`{node.id}` -> `{other}` in {func.name}", 0.5
            )
        if kind not in _NUMBERS:
            continue
        for text, _ in expressions:
            if node.id not in text.split() or len(text.split()) < 3:
                continue
            new = f"({text})" if isinstance(parent, ast.BinOp | ast.Attribute) else text
            yield Mutant(
                code.replace((node, new)), line, f"`{node.id}` -> `{text}` in {func.name}", 0.45
            )


def dropped_value(code: PySource, func: Function) -> Iterator[Mutant]:
    """A value computed and thrown away, or a function that falls off its end:
    `expr` -> `return expr`; `x = ...` at the end of a branch -> `return x` after it."""
    if not returns_value(func) and func.returns is None:
        return
    for node in own_nodes(func):
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant | ast.Await):
            if isinstance(node.value, ast.Call) and _mutating_call(node.value):
                continue
            yield Mutant(
                code.replace((node, f"return {code.segment(node)}")),
                _line(node),
                f"return the value of `{code.expr(node.value)[:40]}` in {func.name}",
                0.8,
            )
    for block in _blocks(func):
        last = block[-1]
        if isinstance(last, ast.Assign) and len(last.targets) == 1:
            target = last.targets[0]
            if isinstance(target, ast.Name):
                unit = code.indent_unit(func)
                text = code.insert_after(last, [(0, f"return {target.id}")], unit)
                if text is not None:
                    title = f"return `{target.id}` after it is computed in {func.name}"
                    yield Mutant(text, _line(last), title, 0.7)


def missing_return(code: PySource, func: Function) -> Iterator[Mutant]:
    """A function that returns values elsewhere (or declares a return type) but can fall off
    its end: `return <local>` appended, for the locals assigned in it, last assigned first."""
    last = func.body[-1]
    if isinstance(last, ast.Return | ast.Raise) or not (returns_value(func) or func.returns):
        return
    if func.returns is not None and ast.unparse(func.returns) == "None":
        return
    assigned = sorted(
        (
            (_line(node), target.id)
            for node in own_nodes(func)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        ),
        reverse=True,
    )
    unit = code.indent_unit(func)
    for number, name in enumerate(dict.fromkeys(name for _, name in assigned)):
        text = code.insert_after(last, [(0, f"return {name}")], unit)
        if text is not None and last.col_offset == func.body[0].col_offset:
            yield Mutant(
                text,
                _line(last),
                f"return `{name}` at the end of {func.name}",
                0.85 - 0.05 * number,
            )


def _mutating_call(call: ast.Call) -> bool:
    """A call made for its effect: a mutation, output, or a log record (its value is None)."""
    verbs = ("append", "extend", "insert", "update", "add", "write", "sort", "remove", "pop")
    logs = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
    if isinstance(call.func, ast.Attribute):
        return call.func.attr.startswith(verbs) or call.func.attr in logs
    return isinstance(call.func, ast.Name) and call.func.id in ("print", "setattr", "delattr")


def _blocks(func: Function) -> Iterator[list[ast.stmt]]:
    """Statement lists of the function and of its compound statements (not nested defs)."""
    yield func.body
    for node in own_nodes(func):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt) and not nested:
                yield block


def swapped_arguments(code: PySource, func: Function) -> Iterator[Mutant]:
    """`f(a, b)` -> `f(b, a)` for neighbouring positional arguments."""
    for node in own_nodes(func):
        if not isinstance(node, ast.Call):
            continue
        args = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(node.args):
            continue
        for first, second in itertools.pairwise(args):
            if ast.dump(first) == ast.dump(second):
                continue
            text = code.replace((first, code.segment(second)), (second, code.segment(first)))
            name = code.expr(node.func)[:30]
            yield Mutant(text, _line(node), f"swap arguments of `{name}` in {func.name}", 0.45)


def sibling_statement(code: PySource, func: Function) -> Iterator[Mutant]:
    """A statement that one branch of an `if` has and its sibling branch lacks, added to it."""
    for node in own_nodes(func):
        if not (isinstance(node, ast.If) and node.orelse):
            continue
        for have, lack in ((node.body, node.orelse), (node.orelse, node.body)):
            if len(lack) == 1 and isinstance(lack[0], ast.If):
                continue
            present = {ast.dump(s) for s in lack}
            for stmt in have:
                if isinstance(stmt, ast.Return | ast.Raise | ast.If) or ast.dump(stmt) in present:
                    continue
                segment = code.segment(stmt)
                if "\n" in segment:
                    continue
                unit = code.indent_unit(func)
                anchor = lack[-1] if isinstance(lack[-1], ast.Return | ast.Raise) else None
                if anchor is not None:
                    text = code.insert_before(anchor, [(0, segment)], unit)
                else:
                    text = code.insert_after(lack[-1], [(0, segment)], unit)
                if text is not None:
                    title = f"add `{segment[:40]}` to the other branch in {func.name}"
                    yield Mutant(text, _line(lack[-1]), title, 0.4)


_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "add",
        "discard",
        "update",
        "setdefault",
        "sort",
        "reverse",
        "popitem",
    }
)


def mutable_default(code: PySource, func: Function) -> Iterator[Mutant]:
    """`def f(x=[])` -> `def f(x=None)` and `if x is None: x = []` first thing in the body: a
    mutable default is shared by every call. When the function changes `x` in place, a copy
    (`x = [] if x is None else list(x)`) ranks first: the caller's own list is not changed
    either. An annotation `T` becomes `T | None`."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    with_default = positional[len(positional) - len(args.defaults) :]
    pairs = list(zip(with_default, args.defaults, strict=True))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
    for arg, default in pairs:
        kind = _mutable_kind(default)
        if kind is None:
            continue
        fresh = code.expr(default)
        edits: list[tuple[ast.AST, str]] = [(default, "None")]
        if arg.annotation is not None and "None" not in code.expr(arg.annotation):
            edits.append((arg.annotation, f"{code.expr(arg.annotation)} | None"))
        changed = PySource(code.replace(*edits))
        inner = next(
            (
                node
                for node in ast.walk(changed.tree)
                if isinstance(node, FUNCTIONS) and node.lineno == func.lineno
            ),
            None,
        )
        if inner is None:
            continue
        first, unit = changed.first_statement(inner), changed.indent_unit(inner)
        name = arg.arg
        if _changes_in_place(func, name):
            copy = [(0, f"{name} = {fresh} if {name} is None else {kind}({name})")]
            text = changed.insert_before(first, copy, unit)
            if text is not None:
                title = f"a copy of `{name}` per call in {func.name}, never the shared default"
                yield Mutant(text, _line(default), title, 0.85)
        block = [(0, f"if {name} is None:"), (1, f"{name} = {fresh}")]
        text = changed.insert_before(first, block, unit)
        if text is not None:
            title = f"a fresh `{fresh}` per call for `{name}` in {func.name}"
            yield Mutant(text, _line(default), title, 0.8)


def _mutable_kind(default: ast.expr) -> str | None:
    """`list`, `dict` or `set` for an empty-or-literal mutable default, else None."""
    if isinstance(default, ast.List):
        return "list"
    if isinstance(default, ast.Dict):
        return "dict"
    if isinstance(default, ast.Set):
        return "set"
    if (
        isinstance(default, ast.Call)
        and isinstance(default.func, ast.Name)
        and default.func.id in ("list", "dict", "set")
        and not default.args
    ):
        return default.func.id
    return None


def _changes_in_place(func: Function, name: str) -> bool:
    """The function calls a mutating method on `name`, or assigns or deletes an item of it."""
    for node in ast.walk(func):
        match node:
            case ast.Call(func=ast.Attribute(value=ast.Name(id=owner), attr=method)) if (
                owner == name and method in _MUTATORS
            ):
                return True
            case ast.Assign(targets=targets) | ast.Delete(targets=targets) if any(
                isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id == name
                for t in targets
            ):
                return True
            case ast.AugAssign(target=ast.Subscript(value=ast.Name(id=owner))) if owner == name:
                return True
    return False


OPERATORS: tuple[Operator, ...] = (
    mutable_default,
    compare_operators,
    missing_return,
    dropped_value,
    arithmetic_operators,
    off_by_one,
    boolean_negation,
    other_variable,
    swapped_arguments,
    sibling_statement,
)

CRASH_OPERATORS: tuple[Operator, ...] = (missing_return, dropped_value)
"""For a crash: a value that never came back (None flowing on) is a slip a mutant can fix
without hiding the crash; the other operators would only move it."""

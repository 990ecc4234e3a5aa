"""Single-statement bugs of the simple-stupid-bug patterns (ManySStuBs4J, PySStuBs), as edits.

`candidates(path, source, seed)` lists, per pattern, every edit of one line inside a function
body that makes one of these bugs; each is a `Mutation` that knows the function it is in and the
text it replaces. Choices a pattern makes (which other name, which other condition) are drawn
from a generator seeded by the edit's place, so the list is the same on every machine.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

PATTERNS = (
    "binary-operator",
    "unary-operator",
    "numeric-literal",
    "identifier",
    "swap-arguments",
    "function-name",
    "more-specific-if",
    "less-specific-if",
    "caller",
    "negation",
)
"""The patterns, in build order: change a binary operator (arithmetic, comparison, boolean),
change a unary operator, change a numeric literal, use another variable, swap two arguments,
call another function, make an if-condition more or less specific, call a method on another
object, and a missing or extra `not`."""

BINARY = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
    ast.FloorDiv: ("//", "/"),
    ast.Mod: ("%", "//"),
    ast.Pow: ("**", "*"),
    ast.LShift: ("<<", ">>"),
    ast.RShift: (">>", "<<"),
    ast.BitOr: ("|", "&"),
    ast.BitAnd: ("&", "|"),
    ast.BitXor: ("^", "|"),
}
COMPARE = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
}
UNARY = {ast.USub: ("-", ""), ast.UAdd: ("+", "-"), ast.Invert: ("~", "-")}
NOT_A_VARIABLE = {"self", "cls"}
Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Mutation:
    pattern: str
    file: str
    function: str
    """The qualified name of the function the edit is in (`Class.method`): the gold."""
    line: int
    start: int
    end: int
    """Character offsets of the replaced text in its line."""
    original: str
    replacement: str

    @property
    def key(self) -> str:
        text = f"{self.pattern}:{self.file}:{self.line}:{self.start}:{self.end}:{self.replacement}"
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        text = lines[self.line - 1]
        if text[self.start : self.end] != self.original:
            raise ValueError(f"{self.file}:{self.line}: the text to replace is not there")
        lines[self.line - 1] = text[: self.start] + self.replacement + text[self.end :]
        return "".join(lines)

    def changes(self, source: str) -> bool:
        """Whether the edit parses, to another tree than `source`'s."""
        try:
            return ast.dump(ast.parse(self.apply(source))) != ast.dump(ast.parse(source))
        except (SyntaxError, ValueError):
            return False

    def statement(self, source: str) -> tuple[str, str]:
        """The line before and after the edit."""
        text = source.splitlines()[self.line - 1]
        return text.strip(), (text[: self.start] + self.replacement + text[self.end :]).strip()


def candidates(path: str, source: str, seed: int) -> dict[str, list[Mutation]]:
    """Every mutation of `source` (the file at `path`) per pattern, in a stable order. Parsing
    each result costs a parse of the file, so it is left to `Mutation.changes` on the few
    that are tried."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    finder = _Finder(path, source, seed)
    for function, qualified in _functions(tree):
        finder.function(function, qualified)
    found: dict[str, list[Mutation]] = defaultdict(list)
    for mutation in dict.fromkeys(finder.found):
        found[mutation.pattern].append(mutation)
    return {pattern: found[pattern] for pattern in PATTERNS if found[pattern]}


def _functions(tree: ast.Module) -> Iterator[tuple[Function, str]]:
    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[Function, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, Function):
                name = f"{prefix}{child.name}"
                yield child, name
                yield from visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")

    yield from visit(tree, "")


def _body_nodes(function: Function) -> Iterator[ast.AST]:
    """The nodes of the function's own body: nested functions and classes are their own."""
    stack: list[ast.AST] = list(reversed(function.body))
    if (
        function.body
        and isinstance(function.body[0], ast.Expr)
        and isinstance(function.body[0].value, ast.Constant)
    ):
        stack.pop()  # the docstring
    while stack:
        node = stack.pop()
        if isinstance(node, Function | ast.ClassDef):
            continue
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


class _Finder:
    def __init__(self, path: str, source: str, seed: int) -> None:
        self.path = path
        self.lines = source.splitlines()
        self.seed = seed
        self.found: list[Mutation] = []
        self.calls: dict[tuple[str, int], set[str]] = defaultdict(set)
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                kind = "name" if isinstance(node.func, ast.Name) else "attribute"
                name = _call_name(node)
                if name:
                    self.calls[(kind, len(node.args))].add(name)

    def function(self, function: Function, qualified: str) -> None:
        self.qualified = qualified
        nodes = list(_body_nodes(function))
        arguments = function.args
        params = [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]
        stored = [n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        self.variables = sorted(set(params + stored) - NOT_A_VARIABLE)
        conditions = [n.test for n in nodes if isinstance(n, ast.If | ast.While)]
        self.conditions = [text for text in map(self._text, conditions) if text]
        self.receivers = {
            id(n.func.value)
            for n in nodes
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        for node in nodes:
            self.node(node)

    def node(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp):
            self._operator(node.left, node.right, BINARY.get(type(node.op)))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            self._operator(node.left, node.comparators[0], COMPARE.get(type(node.ops[0])))
        elif isinstance(node, ast.BoolOp) and len(node.values) == 2:
            pair = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            self._operator(node.values[0], node.values[1], pair)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            symbol, replacement = UNARY[type(node.op)]
            self._span("unary-operator", node, node.operand, symbol, replacement)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            self._literal(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self._identifier(node)
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.If | ast.While):
            self._condition(node.test)

    def _operator(self, left: ast.expr, right: ast.expr, pair: tuple[str, str] | None) -> None:
        if pair is None or left.end_lineno != right.lineno:
            return
        symbol, replacement = pair
        line = right.lineno
        start, end = self._offset(line, left.end_col_offset), self._offset(line, right.col_offset)
        between = self.lines[line - 1][start:end]
        if between.strip() != symbol:
            return
        lead = len(between) - len(between.lstrip())
        start += lead
        self._add("binary-operator", line, start, start + len(symbol), replacement)

    def _span(
        self, pattern: str, node: ast.expr, operand: ast.expr, symbol: str, replacement: str
    ) -> None:
        if node.lineno != operand.lineno:
            return
        start = self._offset(node.lineno, node.col_offset)
        end = self._offset(node.lineno, operand.col_offset)
        if self.lines[node.lineno - 1][start:end].strip() != symbol:
            return
        self._add(pattern, node.lineno, start, end, replacement)

    def _literal(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        if isinstance(value, int):
            replacement = "1" if value == 0 else "0" if value == 1 else str(value + 1)
        else:
            replacement = repr(value * 2 if value else 1.0)
        self._replace("numeric-literal", node, replacement)

    def _identifier(self, node: ast.Name) -> None:
        if node.id not in self.variables or id(node) in self.receivers:
            return  # a method's receiver is the caller pattern's
        others = [name for name in self.variables if name != node.id]
        if others:
            self._replace("identifier", node, self._choice(node, others))

    def _call(self, node: ast.Call) -> None:
        name = _call_name(node)
        kind = "name" if isinstance(node.func, ast.Name) else "attribute"
        others = sorted(self.calls[(kind, len(node.args))] - {name}) if name else []
        if others and isinstance(node.func, ast.Name):
            self._replace("function-name", node.func, self._choice(node, others))
        elif others and isinstance(node.func, ast.Attribute):
            line = node.func.end_lineno or node.func.lineno
            end = self._offset(line, node.func.end_col_offset)
            start = end - len(node.func.attr)
            if self.lines[line - 1][start:end] == node.func.attr:
                self._add("function-name", line, start, end, self._choice(node, others))
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            receiver = node.func.value
            others = [v for v in [*self.variables, "self"] if v != receiver.id]
            if receiver.id in self.variables or receiver.id == "self":
                choices = [v for v in others if v in self.variables]
                if choices:
                    self._replace("caller", receiver, self._choice(receiver, choices))
        positional = [arg for arg in node.args if not isinstance(arg, ast.Starred)]
        if len(positional) == len(node.args):
            for first, second in zip(node.args, node.args[1:], strict=False):
                self._swap(first, second)

    def _swap(self, first: ast.expr, second: ast.expr) -> None:
        if first.lineno != first.end_lineno or second.lineno != first.lineno:
            return
        if second.end_lineno != first.lineno:
            return
        line = first.lineno
        a_start, a_end = self._bounds(first)
        b_start, b_end = self._bounds(second)
        text = self.lines[line - 1]
        a, between, b = text[a_start:a_end], text[a_end:b_start], text[b_start:b_end]
        if a == b or between.strip() != ",":
            return
        self._add("swap-arguments", line, a_start, b_end, b + between + a)

    def _condition(self, test: ast.expr) -> None:
        text = self._text(test)
        if text is None:
            return
        others = [c for c in self.conditions if c != text]
        if isinstance(test, ast.BoolOp) and len(test.values) == 2:
            pattern = "more-specific-if" if isinstance(test.op, ast.Or) else "less-specific-if"
            for keep in test.values:
                kept = self._text(keep)
                if kept is not None:
                    self._replace(pattern, test, kept)
        if others:
            other = self._choice(test, others)
            self._replace("more-specific-if", test, f"{_wrapped(test, text)} and ({other})")
            self._replace("less-specific-if", test, f"{_wrapped(test, text)} or ({other})")
        operands = test.values if isinstance(test, ast.BoolOp) else [test]
        for operand in operands:
            inner = self._text(operand)
            if inner is None:
                continue
            if isinstance(operand, ast.UnaryOp) and isinstance(operand.op, ast.Not):
                negated = self._text(operand.operand)
                if negated is not None:
                    self._replace("negation", operand, _wrapped(operand.operand, negated))
            elif isinstance(operand, ast.Compare) and len(operand.ops) == 1:
                continue  # `not a < b` is the binary operator's `a >= b`
            else:
                self._replace("negation", operand, f"not {_wrapped(operand, inner)}")

    def _replace(self, pattern: str, node: ast.expr, replacement: str) -> None:
        if node.lineno != node.end_lineno:
            return
        start, end = self._bounds(node)
        self._add(pattern, node.lineno, start, end, replacement)

    def _add(self, pattern: str, line: int, start: int, end: int, replacement: str) -> None:
        original = self.lines[line - 1][start:end]
        if original == replacement:
            return
        self.found.append(
            Mutation(pattern, self.path, self.qualified, line, start, end, original, replacement)
        )

    def _text(self, node: ast.expr) -> str | None:
        if node.lineno != node.end_lineno:
            return None
        start, end = self._bounds(node)
        return self.lines[node.lineno - 1][start:end]

    def _bounds(self, node: ast.expr) -> tuple[int, int]:
        line = node.lineno
        return self._offset(line, node.col_offset), self._offset(line, node.end_col_offset)

    def _offset(self, line: int, byte_offset: int | None) -> int:
        """ast counts UTF-8 bytes; the edit counts characters."""
        encoded = self.lines[line - 1].encode("utf-8")
        return len(encoded[: byte_offset or 0].decode("utf-8", errors="ignore"))

    def _choice(self, node: ast.AST, options: list[str]) -> str:
        place = f"{self.seed}:{self.path}:{getattr(node, 'lineno', 0)}"
        place += f":{getattr(node, 'col_offset', 0)}:{type(node).__name__}"
        return random.Random(place).choice(options)


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _wrapped(node: ast.expr, text: str) -> str:
    loose = ast.BoolOp | ast.IfExp | ast.NamedExpr | ast.Lambda | ast.Compare | ast.UnaryOp
    return f"({text})" if isinstance(node, loose) else text

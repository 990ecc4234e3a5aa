"""Locate expressions in Python source with `ast` and edit the text around them.

Every edit returns the whole new file text in which only the edited span changed: indentation,
comments, line endings and everything else stay byte-identical. An edit that cannot be made
cleanly (a statement that shares its line with another one) returns None instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_PURE_CALLS = frozenset({"len", "abs", "int", "float", "str", "round", "min", "max"})

Block = list[tuple[int, str]]
"""Lines to insert, each with its nesting level below the insertion point."""


class PySource:
    """One Python file: its text, its syntax tree, and edits that keep the rest byte-identical."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = ast.parse(text)
        self.lines: list[str] = _LINE.findall(text)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.parents: dict[ast.AST, ast.AST] = {
            child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)
        }
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))

    # -- positions -------------------------------------------------------------------------

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of an `ast` position (1-based line, UTF-8 byte column)."""
        line = self.lines[lineno - 1] if lineno <= len(self.lines) else ""
        return self._starts[lineno - 1] + len(line.encode()[:col].decode(errors="replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def expr(self, node: ast.AST) -> str:
        """Source text of an expression on one line, as written when it fits on one line."""
        text = self.segment(node)
        return text if "\n" not in text and "\r" not in text else ast.unparse(node)

    def atom(self, node: ast.AST) -> str:
        """Source text safe to put before `.attr`, `[...]` or `(...)`."""
        text = self.expr(node)
        if isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call | ast.Constant):
            return text
        return f"({text})"

    def nodes_on_line(self, line: int, *kinds: type[ast.AST]) -> list[ast.AST]:
        """Nodes of these kinds that cover `line`: those that start on it first, then smallest."""
        found = [
            node
            for node in ast.walk(self.tree)
            if isinstance(node, kinds) and node.lineno <= line <= (node.end_lineno or 0)  # type: ignore[attr-defined]
        ]
        return sorted(found, key=lambda n: (n.lineno != line, len(self.segment(n)), n.col_offset))  # type: ignore[attr-defined]

    # -- structure -------------------------------------------------------------------------

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parents:
            node = self.parents[node]
            yield node

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        if isinstance(node, ast.stmt):
            return node
        return next((a for a in self.ancestors(node) if isinstance(a, ast.stmt)), None)

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The innermost function whose body holds `node`."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, FUNCTIONS):
                return ancestor
            if isinstance(ancestor, ast.ClassDef | ast.Lambda):
                return None
        return None

    def loop_of(self, stmt: ast.stmt) -> ast.For | ast.AsyncFor | ast.While | None:
        """The innermost loop whose body holds `stmt`, within the same function."""
        child: ast.AST = stmt
        for ancestor in self.ancestors(stmt):
            if isinstance(ancestor, _SCOPES):
                return None
            if isinstance(ancestor, LOOPS) and child in ancestor.body:
                return ancestor
            child = ancestor
        return None

    def enclosing_fors(self, node: ast.AST) -> Iterator[ast.For]:
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, _SCOPES):
                return
            if isinstance(ancestor, ast.For):
                yield ancestor

    def bound_inside(self, node: ast.AST, stmt: ast.stmt) -> set[str]:
        """Names bound between `stmt` and `node` (comprehension targets, lambda arguments,
        walrus targets): a guard before `stmt` cannot see their values."""
        names = {
            target.id
            for sub in ast.walk(stmt)
            if isinstance(sub, ast.NamedExpr) and isinstance(target := sub.target, ast.Name)
        }
        for ancestor in self.ancestors(node):
            if ancestor is stmt:
                break
            if isinstance(ancestor, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
                for comp in ancestor.generators:
                    names |= {n.id for n in ast.walk(comp.target) if isinstance(n, ast.Name)}
            if isinstance(ancestor, ast.Lambda):
                names |= {a.arg for a in ast.walk(ancestor.args) if isinstance(a, ast.arg)}
        return names

    def guardable(self, expr: ast.expr, at: ast.AST, stmt: ast.stmt) -> bool:
        """Whether `expr` (found at node `at`) can be tested in a new statement before `stmt`."""
        if not is_pure(expr) or not self.starts_line(stmt):
            return False
        if isinstance(stmt, ast.While) and _within(at, stmt.test, self):
            return False
        used = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        return not used & self.bound_inside(at, stmt)

    def starts_line(self, stmt: ast.stmt) -> bool:
        start = self._starts[stmt.lineno - 1]
        return self.text[start : self.offset(stmt.lineno, stmt.col_offset)].strip() == ""

    def ends_line(self, stmt: ast.stmt) -> bool:
        end_line = stmt.end_lineno or stmt.lineno
        rest = self.text[self.span(stmt)[1] : self._starts[end_line]].strip()
        return rest == "" or rest.startswith("#")

    def indent_of(self, stmt: ast.stmt) -> str:
        line = self.lines[stmt.lineno - 1]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def indent_unit(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """One level of indentation as this function writes it."""
        body = self.indent_of(func.body[0])
        outer = self.indent_of(func)
        if self.starts_line(func.body[0]) and body.startswith(outer) and len(body) > len(outer):
            return body[len(outer) :]
        return "    "

    def first_statement(self, func: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt:
        """The first statement of a function's body after its docstring."""
        body = func.body
        if len(body) > 1 and ast.get_docstring(func, clean=False) is not None:
            return body[1]
        return body[0]

    # -- edits -----------------------------------------------------------------------------

    def replace(self, *edits: tuple[ast.AST, str]) -> str:
        """The file with each node's text replaced."""
        text = self.text
        for start, end, new in sorted(((*self.span(n), new) for n, new in edits), reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def insert_before(self, stmt: ast.stmt, block: Block, unit: str) -> str | None:
        """The file with `block` inserted on new lines right before `stmt`, at its indentation."""
        if not self.starts_line(stmt):
            return None
        return self._insert(stmt.lineno - 1, self.indent_of(stmt), block, unit)

    def insert_after(self, stmt: ast.stmt, block: Block, unit: str) -> str | None:
        """The file with `block` inserted on new lines right after `stmt`, at its indentation."""
        if not self.starts_line(stmt) or not self.ends_line(stmt):
            return None
        return self._insert(stmt.end_lineno or stmt.lineno, self.indent_of(stmt), block, unit)

    def _insert(self, index: int, indent: str, block: Block, unit: str) -> str:
        new = "".join(f"{indent}{unit * level}{code}{self.newline}" for level, code in block)
        lines = list(self.lines)
        if index == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += self.newline
        lines.insert(index, new)
        return "".join(lines)


def is_pure(node: ast.AST) -> bool:
    """An expression that is cheap and safe to evaluate twice: names, constants, attributes,
    constant-index subscripts, arithmetic on those and calls to a few builtins like `len`."""
    match node:
        case ast.Name() | ast.Constant():
            return True
        case ast.Attribute(value=value):
            return is_pure(value)
        case ast.Subscript(value=value, slice=index):
            return is_pure(value) and is_pure(index)
        case ast.BinOp(left=left, right=right):
            return is_pure(left) and is_pure(right)
        case ast.UnaryOp(operand=operand):
            return is_pure(operand)
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]):
            return name in _PURE_CALLS and all(is_pure(a) for a in args)
    return False


def same(a: ast.AST, b: ast.AST) -> bool:
    """Whether two expressions are written the same (ignoring positions)."""
    return ast.dump(a) == ast.dump(b)


def _within(node: ast.AST, root: ast.AST, source: PySource) -> bool:
    return node is root or any(a is root for a in source.ancestors(node))

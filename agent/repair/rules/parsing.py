"""ValueError from parsing outside text: `int(...)` or `float(...)` of a value that is no number.

The statement that parses is wrapped in `try`/`except ValueError`. When the file already turns
a ValueError into an error of its own (`except ValueError: raise HTTPError(400, ...) from None`)
or answers bad requests with one (`raise HTTPError(400, ...)`), the new handler raises it,
naming the value (bad input gets a clear error); when the parsed value comes from
`.get(key, default)`, the handler falls back to that default.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from agent.repair.pysource import FUNCTIONS, PySource
from agent.repair.rules import Fix, Site, enclosing_function

_PARSE_ERROR = re.compile(
    r"invalid literal for int\(\) with base \d+|could not convert string to float"
)
_PARSERS = frozenset({"int", "float"})


def _parse_sites(site: Site) -> Iterator[tuple[ast.Call, ast.stmt, str]]:
    """(the parsing call, its statement, the name it assigns) on the crash line."""
    if _PARSE_ERROR.search(site.error.value) is None:
        return
    for node in site.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if not (isinstance(node.func, ast.Name) and node.func.id in _PARSERS):
            continue
        stmt = site.code.statement_of(node)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name) and site.code.starts_line(stmt):
                yield node, stmt, target.id


def _wrap(code: PySource, stmt: ast.stmt, handler: list[str], unit: str) -> str | None:
    indent = code.indent_of(stmt)
    start = code.offset(stmt.lineno, 0)
    end_line = stmt.end_lineno or stmt.lineno
    end = code.offset(end_line + 1, 0) if end_line < len(code.lines) else len(code.text)
    body = code.text[start:end]
    if not body.endswith(("\n", "\r")):
        body += code.newline
    nl = code.newline
    inner = "".join(unit + line for line in body.splitlines(keepends=True))
    tail = "".join(f"{indent}{unit}{line}{nl}" for line in handler)
    return (
        code.text[:start]
        + f"{indent}try:{nl}{inner}{indent}except ValueError:{nl}{tail}"
        + (code.text[end:])
    )


def raise_like_siblings(site: Site) -> Iterator[Fix]:
    """`except ValueError: raise <the file's own error>(...) from None`, as elsewhere in it."""
    raised = _own_error(site.code.tree)
    if raised is None:
        return
    for call, stmt, name in _parse_sites(site):
        func = enclosing_function(site, call)
        if func is None:
            continue
        cls, status = raised
        args = f'{status}, "{name} must be a number"' if status else f'"{name} must be a number"'
        text = _wrap(
            site.code, stmt, [f"raise {cls}({args}) from None"], site.code.indent_unit(func)
        )
        if text is not None:
            yield Fix(
                text,
                f"Reject a non-numeric {name} in {func.name} with {cls}",
                f"`{func.name}` parses `{site.code.expr(call)}` without handling a value that is "
                f"no number, so bad input crashes it. The file already answers a ValueError with "
                f"`{cls}`; this parse now does the same.",
                0.75,
            )


def default_on_bad_value(site: Site) -> Iterator[Fix]:
    """`except ValueError: <name> = <the .get default>`."""
    for call, stmt, name in _parse_sites(site):
        func = enclosing_function(site, call)
        default = _get_default(call)
        if func is None or default is None:
            continue
        fallback = site.code.expr(default)
        text = _wrap(site.code, stmt, [f"{name} = {fallback}"], site.code.indent_unit(func))
        if text is not None:
            yield Fix(
                text,
                f"Fall back to {fallback} for a non-numeric {name} in {func.name}",
                f"`{func.name}` parses `{site.code.expr(call)}`, which fails on a value that is "
                f"no number; such a value now counts as missing and `{name}` falls back to "
                f"`{fallback}`, the default the code already uses.",
                0.65,
            )


def _get_default(call: ast.Call) -> ast.expr | None:
    match call.args:
        case [ast.Call(func=ast.Attribute(attr="get"), args=[_, default])]:
            return default
    return None


def _own_error(tree: ast.Module) -> tuple[str, str | None] | None:
    """`(class, status)` of the first `except ValueError: raise Cls(status?, ...)` in the file,
    else the class the file raises for a bad request (`raise Cls(400, ...)`)."""
    return _value_error_handler(tree) or _bad_request(tree)


def _bad_request(tree: ast.Module) -> tuple[str, str | None] | None:
    for node in ast.walk(tree):
        match node:
            case ast.Raise(exc=ast.Call(func=ast.Name(id=cls), args=[ast.Constant(value=400), *_])):
                return cls, "400"
    return None


def _value_error_handler(tree: ast.Module) -> tuple[str, str | None] | None:
    for node in ast.walk(tree):
        if not isinstance(node, ast.ExceptHandler) or not isinstance(node.type, ast.Name):
            continue
        if node.type.id != "ValueError":
            continue
        for stmt in node.body:
            match stmt:
                case ast.Raise(exc=ast.Call(func=ast.Name(id=cls), args=args)):
                    first = args[0] if args else None
                    is_status = isinstance(first, ast.Constant) and isinstance(first.value, int)
                    return cls, str(first.value) if is_status else None  # type: ignore[union-attr]
    return None


_FRACTION = re.compile(r"invalid literal for int\(\) with base 10: '\s*[-+]?\d*\.\d+\s*'")


def parse_fractions(site: Site) -> Iterator[Fix]:
    """`int(<text>)` that met a fraction ('1.5'): every `int(<text>)` of the function parses the
    text as a float and rounds the scaled result (`round(float(t) * factor)`, so that the float
    error of 0.29 * 100 does not cut a unit off); when the file raises an error of its own for
    bad values, text that is still no number raises it."""
    if _FRACTION.search(site.error.value) is None:
        return
    statements = site.nodes(ast.stmt)
    func = enclosing_function(site, statements[0]) if statements else None
    if func is None:
        return
    parses = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "int"
        and len(node.args) == 1
        and not node.keywords
        and not isinstance(node.args[0], ast.Constant)
    ]
    edits: list[tuple[ast.AST, str]] = []
    for call in parses:
        text = f"float({site.code.expr(call.args[0])})"
        parent = site.code.parents.get(call)
        if (
            isinstance(parent, ast.BinOp)
            and isinstance(parent.op, ast.Mult)
            and parent.left is call
        ):
            edits.append((parent, f"round({text} * {site.code.expr(parent.right)})"))
        else:
            edits.append((call, f"int({text})"))
    if not edits:
        return
    converted = PySource(site.code.replace(*edits))
    error = _message_error(site.code.tree)
    param = next((a.arg for a in func.args.args if a.arg not in ("self", "cls")), None)
    if error is not None and param is not None:
        wrapped = _wrap_parses(converted, func.lineno, error, param)
        if wrapped is not None:
            yield Fix(
                wrapped,
                f"Read fractions in {func.name}; reject other text with {error}",
                f"`{func.name}` parses with `int()`, which refuses a fraction such as '1.5' "
                f"though the unit makes it a whole number. The number is now read as a float "
                f"and the scaled result rounded to a whole number; text that is no number "
                f"raises `{error}`, as the file does for other bad values.",
                0.8,
            )
    yield Fix(
        converted.text,
        f"Read fractions in {func.name}",
        f"`{func.name}` parses with `int()`, which refuses a fraction such as '1.5'. The number "
        f"is now read as a float and the scaled result rounded to a whole number.",
        0.7,
    )


def _message_error(tree: ast.Module) -> str | None:
    """The class the file raises with a message alone (`raise ConfigError(f"...")`)."""
    for node in ast.walk(tree):
        match node:
            case ast.Raise(
                exc=ast.Call(
                    func=ast.Name(id=cls), args=[ast.JoinedStr() | ast.Constant()], keywords=[]
                )
            ) if cls not in ("ValueError", "TypeError", "Exception"):
                return cls
    return None


def _wrap_parses(code: PySource, line: int, error: str, param: str) -> str | None:
    """Each statement of the function at `line` that calls `float()` wrapped in `try`/`except
    ValueError: raise <error>(...) from None`, last first so earlier offsets hold."""
    func = next(
        (n for n in ast.walk(code.tree) if isinstance(n, FUNCTIONS) and n.lineno == line), None
    )
    if func is None:
        return None
    statements = sorted(
        {
            code.statement_of(node)
            for node in ast.walk(func)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        }
        - {None},
        key=lambda s: -s.lineno,  # type: ignore[union-attr]
    )
    unit = code.indent_unit(func)
    message = f'raise {error}(f"not a number: {{{param}!r}}") from None'
    text: str | None = code.text
    for stmt in statements:
        assert stmt is not None and text is not None
        if not code.starts_line(stmt):
            return None
        text = _wrap(PySource(text), _same(PySource(text), stmt), [message], unit)
    return text


def _same(code: PySource, stmt: ast.stmt) -> ast.stmt:
    return next(
        n
        for n in ast.walk(code.tree)
        if isinstance(n, ast.stmt) and n.lineno == stmt.lineno and type(n) is type(stmt)
    )

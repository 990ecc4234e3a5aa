"""UnboundLocalError: a variable assigned in some branches of an `if` chain but read after it.

Two candidates for the last `if`/`elif` chain before the crash line that assigns the name and
has no `else`: its last `elif` becomes `else` (the chain was meant to cover every case), or an
`else` that assigns what the last branch assigns is added.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from agent.repair.rules import Fix, Site, enclosing_function

_UNBOUND = re.compile(
    r"local variable '(\w+)' referenced before assignment"
    r"|cannot access local variable '(\w+)' where it is not associated with a value"
)


def _chain(top: ast.If) -> list[ast.If]:
    chain = [top]
    while len(chain[-1].orelse) == 1 and isinstance(chain[-1].orelse[0], ast.If):
        chain.append(chain[-1].orelse[0])
    return chain


def _assigned(body: list[ast.stmt], name: str) -> ast.Assign | None:
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in stmt.targets
        ):
            return stmt
    return None


def _open_chains(site: Site, name: str) -> Iterator[tuple[list[ast.If], ast.Assign]]:
    """If-chains before the crash line, nearest first, that assign `name` and lack an `else`."""
    func = enclosing_function(site, site.nodes(ast.stmt)[0]) if site.nodes(ast.stmt) else None
    if func is None:
        return
    tops = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.If)
        and not any(
            node in _chain(other)[1:] for other in ast.walk(func) if isinstance(other, ast.If)
        )
        and (node.end_lineno or node.lineno) < site.line
    ]
    for top in sorted(tops, key=lambda n: -n.lineno):
        chain = _chain(top)
        last = _assigned(chain[-1].body, name)
        if chain[-1].orelse or last is None:
            continue
        yield chain, last


def unbound_local(site: Site) -> Iterator[Fix]:
    match = _UNBOUND.search(site.error.value)
    if match is None:
        return
    name = match.group(1) or match.group(2)
    for chain, last in _open_chains(site, name):
        func = enclosing_function(site, chain[0])
        if func is None:
            continue
        final = chain[-1]
        text = _elif_to_else(site, final) if len(chain) > 1 else None
        if text is not None:
            condition = site.code.expr(final.test)
            yield Fix(
                text,
                f"Make the last branch for {name} an else in {func.name}",
                f"`{func.name}` assigns `{name}` only in the branches of an if/elif chain, so a "
                f"value that no branch matches leaves it unbound. The last branch "
                f"(`elif {condition}:`) now takes every remaining case.",
                0.7,
            )
        value = site.code.expr(last.value)
        unit = site.code.indent_unit(func)
        text = site.code.insert_after(chain[0], [(0, "else:"), (1, f"{name} = {value}")], unit)
        if text is not None:
            yield Fix(
                text,
                f"Give {name} a value when no branch matches in {func.name}",
                f"`{func.name}` assigns `{name}` only in the branches of an if/elif chain, so a "
                f"value that no branch matches leaves it unbound. An `else` now assigns "
                f"`{value}`, as the last branch does.",
                0.6,
            )
        return


def _elif_to_else(site: Site, final: ast.If) -> str | None:
    """The file with `elif <test>:` (on one line) written as `else:`."""
    if final.test.end_lineno != final.lineno:
        return None
    line = site.code.lines[final.lineno - 1]
    stripped = line.lstrip(" \t")
    if not stripped.startswith("elif "):
        return None
    encoded = line.encode()
    rest = encoded[final.test.end_col_offset or 0 :].decode(errors="replace")
    if not rest.lstrip(" )").startswith(":"):
        return None
    after_colon = rest[rest.index(":") + 1 :]
    lines = list(site.code.lines)
    lines[final.lineno - 1] = line[: len(line) - len(stripped)] + "else:" + after_colon
    return "".join(lines)


def unbound_after_handler(site: Site) -> Iterator[Fix]:
    """`try: x = TABLE[k]  except KeyError: log(...)` then `x` read: the handler gives `x` the
    table's entry for the fallback the handler names (in its message or comments), else for the
    default the file gives the same parameter elsewhere."""
    match = _UNBOUND.search(site.error.value)
    if match is None:
        return
    name = match.group(1) or match.group(2)
    statements = site.nodes(ast.stmt)
    func = enclosing_function(site, statements[0]) if statements else None
    if func is None:
        return
    for node in ast.walk(func):
        if not isinstance(node, ast.Try) or (node.end_lineno or node.lineno) >= site.line:
            continue
        lookup = _assigned(node.body, name)
        if lookup is None or not isinstance(lookup.value, ast.Subscript):
            continue
        table = _literal_table(site, lookup.value.value)
        if table is None:
            continue
        for handler in node.handlers:
            if _assigned(handler.body, name) is not None or _leaves(handler.body):
                continue
            for key, reason in _fallback_keys(site, handler, lookup.value.slice, table):
                value = f"{site.code.expr(lookup.value.value)}[{_quoted(key)}]"
                unit = site.code.indent_unit(func)
                text = site.code.insert_after(handler.body[-1], [(0, f"{name} = {value}")], unit)
                if text is None:
                    continue
                yield Fix(
                    text,
                    f"Fall back to {value} for {name} in {func.name}",
                    f"`{func.name}` handles a failed lookup of `{name}` but leaves it unbound, "
                    f"and reads it right after. The handler now sets `{name} = {value}`: "
                    f"{reason}.",
                    0.8,
                )
                break


def _leaves(body: list[ast.stmt]) -> bool:
    return any(isinstance(stmt, ast.Raise | ast.Return | ast.Continue | ast.Break) for stmt in body)


def _literal_table(site: Site, node: ast.expr) -> dict[str, ast.expr] | None:
    """The string-keyed dict literal a module-level name is bound to."""
    if not isinstance(node, ast.Name):
        return None
    for stmt in site.code.tree.body:
        if (
            isinstance(stmt, ast.Assign | ast.AnnAssign)
            and isinstance(stmt.value, ast.Dict)
            and any(
                isinstance(t, ast.Name) and t.id == node.id
                for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
            )
        ):
            keys = stmt.value.keys
            return {
                k.value: v
                for k, v in zip(keys, stmt.value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return None


def _fallback_keys(
    site: Site, handler: ast.ExceptHandler, key: ast.expr, table: dict[str, ast.expr]
) -> Iterator[tuple[str, str]]:
    first, last = handler.lineno, handler.end_lineno or handler.lineno
    words = set(re.findall(r"\w+", "".join(site.code.lines[first - 1 : last])))
    named = [k for k in table if k in words]
    if len(named) == 1:
        yield named[0], "the fallback the handler names"
    if isinstance(key, ast.Name):
        for node in ast.walk(site.code.tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            positional = [*node.args.posonlyargs, *node.args.args]
            with_defaults = positional[len(positional) - len(node.args.defaults) :]
            for arg, default in zip(with_defaults, node.args.defaults, strict=True):
                if arg.arg != key.id or not isinstance(default, ast.Constant):
                    continue
                if default.value in table:
                    yield default.value, f"the default of `{key.id}` in `{node.name}`"
                    return


def _quoted(key: str) -> str:
    return f'"{key}"' if '"' not in key and "\\" not in key else repr(key)

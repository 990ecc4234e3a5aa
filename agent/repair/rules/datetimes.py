"""TypeError between naive and aware datetimes: make the naive one aware (as UTC) where it is made.

For each plain name compared with or subtracted from another datetime on the crash line, the
guard goes right after the name's last assignment in the function. Captured variables that
show a timezone rule a name out. `timezone` is imported from `datetime` the way the file
already imports from it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from agent.repair.fallbacks import UNKNOWN, captured
from agent.repair.rules import Fix, Site, enclosing_function

_NAIVE_AWARE = re.compile(r"can't (compare|subtract) offset-naive and offset-aware datetimes")


def naive_as_utc(site: Site) -> Iterator[Fix]:
    """`if x.tzinfo is None: x = x.replace(tzinfo=timezone.utc)` after `x` is assigned."""
    if _NAIVE_AWARE.search(site.error.value) is None:
        return
    utc, imports = _utc(site)
    if utc is None:
        return
    done: set[str] = set()
    for node in site.nodes(ast.Compare, ast.BinOp):
        operands = [node.left, *node.comparators] if isinstance(node, ast.Compare) else []
        if isinstance(node, ast.BinOp):
            operands = [node.left, node.right]
        for operand in operands:
            if not isinstance(operand, ast.Name) or operand.id in done:
                continue
            value = captured(site.variables, operand.id)
            if value is not UNKNOWN or "tzinfo=" in str(site.variables.get(operand.id, "")):
                continue
            func = enclosing_function(site, node)
            line = getattr(node, "lineno", site.line)
            origin = _last_assignment(func, operand.id, line) if func else None
            if func is None or origin is None:
                continue
            done.add(operand.id)
            name = operand.id
            block = [
                (0, f"if {name}.tzinfo is None:"),
                (1, f"{name} = {name}.replace(tzinfo={utc})"),
            ]
            text = site.code.insert_after(origin, block, site.code.indent_unit(func))
            if text is None:
                continue
            if imports is not None:
                text = _with_timezone_import(text, imports)
            yield Fix(
                text,
                f"Read a naive {name} as UTC in {func.name}",
                f"`{func.name}` compares `{name}` with a timezone-aware datetime, but `{name}` "
                f"can be naive (no UTC offset given), which raises TypeError. A naive `{name}` "
                "is now taken as UTC right where it is made.",
                0.7,
                anywhere=True,
            )


def _utc(site: Site) -> tuple[str | None, ast.ImportFrom | None]:
    """How to spell UTC in this file, and the import to extend with `timezone` (if any)."""
    for node in site.code.tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "datetime" and node.level == 0:
            names = {alias.asname or alias.name for alias in node.names}
            if "timezone" in names:
                return "timezone.utc", None
            if "UTC" in names:
                return "UTC", None
            return "timezone.utc", node
        if isinstance(node, ast.Import) and any(
            a.name == "datetime" and not a.asname for a in node.names
        ):
            return "datetime.timezone.utc", None
    return None, None


def _with_timezone_import(text: str, imports: ast.ImportFrom) -> str:
    lines = text.splitlines(keepends=True)
    index = imports.lineno - 1
    if imports.end_lineno != imports.lineno or imports.lineno > len(lines):
        return text
    line = lines[index]
    body = line.rstrip("\r\n")
    if "(" in body or "#" in body:
        return text
    lines[index] = body + ", timezone" + line[len(body) :]
    return "".join(lines)


def _last_assignment(
    func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, before: int
) -> ast.Assign | None:
    found = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        and (node.end_lineno or node.lineno) < before
    ]
    return max(found, key=lambda n: n.lineno, default=None)

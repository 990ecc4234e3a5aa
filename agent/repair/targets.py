"""Which functions a wrong-value fix may be in: beyond the crash frame, into the code under test.

A failing test crashes with an AssertionError in the test file, while the code at fault is in
the application functions the test calls. The targets are, in order: the diagnosis's suspects
in application code, then the functions the failing test (or a suspect) calls, resolved through
the module's imports, then the functions those call, breadth first to `depth`. Test code is
never a target. Each target carries, per line, the date of the commit that last wrote it, so
that recently changed lines are mutated first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from agent.diagnosis.frames import is_test_path
from agent.errors import RepoError
from agent.repair import RepairContext
from agent.repair.pysource import FUNCTIONS, PySource

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Target:
    path: str
    code: PySource
    func: Function
    qualname: str
    distance: int
    """0 for a suspect of the diagnosis, 1 for a function it calls, and so on."""
    changed: dict[int, datetime] = field(default_factory=dict)
    """Line -> date of the commit that last wrote it (lines of the root commit left out)."""


class _Modules:
    """Parsed files of the repository at one commit, read on demand."""

    def __init__(self, ctx: RepairContext) -> None:
        self.ctx = ctx
        self.cache: dict[str, PySource | None] = {}

    def get(self, path: str) -> PySource | None:
        if path not in self.cache:
            text = self.ctx.repo.read(self.ctx.rev, path) if path.endswith(".py") else None
            try:
                self.cache[path] = PySource(text) if text is not None else None
            except (SyntaxError, ValueError):
                self.cache[path] = None
        return self.cache[path]

    def module_path(self, dotted: str) -> str | None:
        base = dotted.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py", f"src/{base}.py"):
            if self.get(candidate) is not None:
                return candidate
        return None


def find_targets(ctx: RepairContext, depth: int = 2, limit: int = 40) -> list[Target]:
    modules = _Modules(ctx)
    found: dict[tuple[str, str], Target] = {}
    queue: list[tuple[str, Function, str, int]] = []
    for suspect in ctx.diagnosis.suspects:
        code = modules.get(suspect.file)
        if code is None:
            continue
        for line in suspect.lines:
            func = _function_at(code, line)
            if func is not None:
                queue.append((suspect.file, func, _qualname(code, func), 0))
    for test in ctx.incident.failing_tests:
        path, _, name = test.partition("::")
        code = modules.get(path)
        func = _named_function(code, name.split("::")[-1].split("[")[0]) if code else None
        if code is not None and func is not None:
            queue.append((path, func, _qualname(code, func), 0))
    while queue and len(found) < limit:
        path, func, qualname, distance = queue.pop(0)
        key = (path, qualname)
        if key in found:
            continue
        code = modules.get(path)
        assert code is not None
        if not is_test_path(path):
            found[key] = Target(path, code, func, qualname, distance)
        if distance >= depth:
            continue
        for callee_path, callee in _callees(modules, path, code, func):
            callee_code = modules.get(callee_path)
            assert callee_code is not None
            step = distance if is_test_path(path) else distance + 1
            queue.append((callee_path, callee, _qualname(callee_code, callee), step))
    targets = list(found.values())
    for target in targets:
        target.changed = _changed_lines(ctx, target)
    return targets


def _function_at(code: PySource, line: int) -> Function | None:
    around = [
        node
        for node in ast.walk(code.tree)
        if isinstance(node, FUNCTIONS) and node.lineno <= line <= (node.end_lineno or 0)
    ]
    return max(around, key=lambda f: f.lineno, default=None)


def _named_function(code: PySource, name: str) -> Function | None:
    return next(
        (n for n in ast.walk(code.tree) if isinstance(n, FUNCTIONS) and n.name == name), None
    )


def _qualname(code: PySource, func: Function) -> str:
    names = [func.name]
    for ancestor in code.ancestors(func):
        if isinstance(ancestor, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.append(ancestor.name)
    return ".".join(reversed(names))


def _callees(
    modules: _Modules, path: str, code: PySource, func: Function
) -> Iterator[tuple[str, Function]]:
    """The repository functions `func` calls, in the order of the calls."""
    imports = _imports(modules, code)
    owner = next((a for a in code.ancestors(func) if isinstance(a, ast.ClassDef)), None)
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        match node.func:
            case ast.Name(id=name):
                yield from _resolve_name(modules, path, code, imports, name)
            case ast.Attribute(value=ast.Name(id=base), attr=attr):
                if base in ("self", "cls") and owner is not None:
                    method = _method(owner, attr)
                    if method is not None:
                        yield path, method
                elif base in imports and imports[base][1] is None:
                    module = imports[base][0]
                    found = _top_level(modules.get(module), attr)
                    if found is not None:
                        yield module, found


def _resolve_name(
    modules: _Modules,
    path: str,
    code: PySource,
    imports: dict[str, tuple[str, str | None]],
    name: str,
) -> Iterator[tuple[str, Function]]:
    where, attr = (imports[name][0], imports[name][1]) if name in imports else (path, name)
    if attr is None:
        return
    source = modules.get(where) if where != path else code
    found = _top_level(source, attr)
    if found is not None:
        yield where, found
        return
    klass = _top_level_class(source, attr)
    if klass is not None:
        for method in klass.body:
            special = method.name.startswith("__") if isinstance(method, FUNCTIONS) else True
            if isinstance(method, FUNCTIONS) and (not special or method.name == "__post_init__"):
                yield where, method


def _imports(modules: _Modules, code: PySource) -> dict[str, tuple[str, str | None]]:
    """Local name -> (repository module path, name in it or None for the module itself)."""
    found: dict[str, tuple[str, str | None]] = {}
    for node in code.tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                path = modules.module_path(alias.name)
                if path is not None and (alias.asname or "." not in alias.name):
                    found[alias.asname or alias.name] = (path, None)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                local = alias.asname or alias.name
                submodule = modules.module_path(f"{node.module}.{alias.name}")
                if submodule is not None:
                    found[local] = (submodule, None)
                elif (path := modules.module_path(node.module)) is not None:
                    found[local] = (path, alias.name)
    return found


def _top_level(code: PySource | None, name: str) -> Function | None:
    if code is None:
        return None
    return next(
        (n for n in code.tree.body if isinstance(n, FUNCTIONS) and n.name == name),
        None,
    )


def _top_level_class(code: PySource | None, name: str) -> ast.ClassDef | None:
    if code is None:
        return None
    return next((n for n in code.tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)


def _method(owner: ast.ClassDef, name: str) -> Function | None:
    return next((n for n in owner.body if isinstance(n, FUNCTIONS) and n.name == name), None)


def _changed_lines(ctx: RepairContext, target: Target) -> dict[int, datetime]:
    start, end = target.func.lineno, target.func.end_lineno or target.func.lineno
    try:
        blame = ctx.repo.blame(ctx.rev, target.path, start, end)
        roots = {sha for sha in {line.sha for line in blame} if _is_root(ctx, sha)}
    except RepoError:
        return {}
    return {line.line: line.date for line in blame if line.sha not in roots}


def _is_root(ctx: RepairContext, sha: str) -> bool:
    try:
        ctx.repo.head(f"{sha}^")
    except RepoError:
        return True
    return False

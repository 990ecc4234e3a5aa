"""The derived-test way: an existing test of the repository that calls the crashing function (or
an outer function of the repository the crash went through), re-run with the incident's captured
argument values substituted in that call.

The test keeps everything it does before the call: its fixtures, the objects it builds (the
receiver of a method, an argument whose captured repr says nothing, such as
`<pkg.Client object at 0x…>` or `<broken repr>`). Only values the incident sent whole are
substituted: a parameter the reporter did not send or cut refuses the frame, as in every other
way, and an opaque argument is taken from the test only when the test passes it. The test is cut
at the call, which asserts the incident's exception. Tests that coverage shows reaching the
function come first; a derived test counts only when it fails on the base commit like the
incident, inside the function it was derived for (`check_reproduction`).

The test file is written next to the test it derives from, so that its conftest fixtures and
imports hold; it keeps that module's imports, fixtures and helpers, and drops its other tests.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from agent.diagnosis.frames import is_test_path
from agent.diagnosis.reproduce import (
    _definition,
    _doc,
    _import_lines,
    _kind,
    _Modules,
    _refuse_unseen,
    _refuse_unsupported,
    _repository_frames,
    _short_type,
    message_pattern,
    module_name,
)
from agent.diagnosis.reproduce.objects import BROKEN_REPR, opaque_class
from agent.diagnosis.reproduce.values import Namespace, NotRebuildable, dotted, rebuild_expression
from agent.diagnosis.spectrum import Coverage
from agent.domain import Frame, Incident, Reproduction
from agent.ports import Repo

MAX_DERIVED = 3
"""Derived tests tried per incident (run together, in one sandbox run)."""
_RAISES = ("raises", "warns", "assertRaises", "assertRaisesRegex", "assertWarns")
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.comprehension)


@dataclass
class CallSite:
    """A frame's function and the arguments the incident shows for it."""

    frame: Frame
    path: str
    module: str
    owner: str | None
    function: ast.FunctionDef
    kind: str
    params: list[str]
    """Parameters a caller passes, in order (no `self` or `cls`)."""
    positional_only: int
    values: dict[str, ast.expr | None]
    """Each parameter's captured value rebuilt, or None when its repr says nothing."""
    receiver: object
    """The captured `self` of a method, as the reporter sent it; None for other kinds."""
    namespace: Namespace
    lines: range

    @property
    def qualname(self) -> str:
        return f"{self.owner}.{self.function.name}" if self.owner else self.function.name


@dataclass
class _TestCall:
    path: str
    tree: ast.Module
    test: ast.FunctionDef
    cls: ast.ClassDef | None
    call: ast.Call
    nodeid: str
    imports_it: bool
    """Whether the test module imports the function, or its class, by name."""


def derived_candidates(
    incident: Incident,
    repo: Repo,
    rev: str,
    coverage: Coverage | None = None,
    limit: int = MAX_DERIVED,
) -> tuple[list[Reproduction], list[str]]:
    """Derived tests to try in order (innermost frame first), and why frames or tests were
    passed over. With `coverage` (per test, the lines it ran), only tests that ran the
    function are used."""
    crash = incident.crash
    if crash is None or not crash.frames:
        return [], ["the incident has no stack frames"]
    tracked = set(repo.tracked_files(rev))
    modules = _Modules(repo, rev, tracked)
    refusals: list[str] = []
    found: list[Reproduction] = []
    for frame, path in _repository_frames(crash.frames, tracked):
        where = f"{path}:{frame.lineno} in {frame.function}"
        try:
            site = call_site(frame, path, modules)
            if all(value is None for value in site.values.values()):
                raise NotRebuildable("no captured argument rebuilds: it would be the test itself")
        except NotRebuildable as refusal:
            refusals.append(f"{where}: {refusal.reason}")
            continue
        for test_call in _test_calls(modules, site, coverage):
            try:
                found.append(_derive(incident, site, test_call, len(found)))
            except NotRebuildable as refusal:
                refusals.append(f"{test_call.nodeid} for {where}: {refusal.reason}")
                continue
            if len(found) >= limit:
                return found, refusals
    if not found and not refusals:
        refusals.append("no test of the repository calls a function of the crash")
    return found, refusals


# --- the function and its captured arguments -------------------------------------------------


def call_site(frame: Frame, path: str, modules: _Modules) -> CallSite:
    if not frame.vars:
        raise NotRebuildable("no local variables were captured")
    module = module_name(path)
    tree = modules.tree(path)
    if tree is None:
        raise NotRebuildable(f"{path} does not parse or does not exist")
    owner, function = _definition(tree, frame)
    _refuse_unsupported(function, owner)
    kind = _kind(function) if owner else "function"
    if kind == "property":
        raise NotRebuildable(f"{function.name} is a property: it takes no arguments")
    spec = function.args
    bound = kind in ("method", "classmethod")
    _refuse_unseen(spec, frame, skip_first=bound)
    for star in (spec.vararg, spec.kwarg):
        if star is not None and str(frame.vars.get(star.arg)) not in ("()", "{}", "[]"):
            raise NotRebuildable(f"{function.name} was called with *{star.arg} values")
    ordered = [arg.arg for arg in spec.posonlyargs + spec.args][1 if bound else 0 :]
    positional_only = max(len(spec.posonlyargs) - (1 if bound else 0), 0)
    params = ordered + [arg.arg for arg in spec.kwonlyargs]
    namespace = modules.namespace(tree, module, path)
    values: dict[str, ast.expr | None] = {}
    for name in params:
        values[name] = _captured(name, frame.vars[name], namespace)
    first = (spec.posonlyargs + spec.args)[:1] if kind == "method" else []
    receiver = frame.vars.get(first[0].arg) if first else None
    lines = range(function.lineno, (function.end_lineno or function.lineno) + 1)
    return CallSite(
        frame,
        path,
        module,
        owner,
        function,
        kind,
        params,
        positional_only,
        values,
        receiver,
        namespace,
        lines,
    )


def _captured(name: str, value: object, namespace: Namespace) -> ast.expr | None:
    """The captured value rebuilt; None for an opaque object (the test's own is used)."""
    try:
        return rebuild_expression(value, namespace)
    except NotRebuildable as refusal:
        opaque = isinstance(value, str) and value.strip() == BROKEN_REPR
        if opaque or opaque_class(value, None) is not None:
            return None
        raise NotRebuildable(f"parameter {name!r}: {refusal.reason}") from refusal


# --- the tests that call it ------------------------------------------------------------------


def _test_calls(
    modules: _Modules, site: CallSite, coverage: Coverage | None
) -> Iterator[_TestCall]:
    """Calls of the site's function in the repository's tests, tests that ran it first."""
    found: list[_TestCall] = []
    for path, module, tree in modules.sources():
        if module is not None or not is_test_path(path) or path.endswith("conftest.py"):
            continue
        names = _imported(tree, site, modules)
        for cls, test in _tests(tree):
            for node in _owned_calls(test):
                if _calls(node, site, names):
                    nodeid = "::".join([path, *([cls.name] if cls else []), test.name])
                    found.append(_TestCall(path, tree, test, cls, node, nodeid, bool(names[0])))
    found.sort(key=lambda call: not call.imports_it)
    if coverage:
        reached = {_base_id(test) for test, lines in coverage.items() if _ran(lines, site)}
        found = [call for call in found if call.nodeid in reached]
    seen: set[str] = set()
    for call in found:
        if call.nodeid not in seen:
            seen.add(call.nodeid)
            yield call


def _base_id(nodeid: str) -> str:
    return nodeid.split("[", 1)[0]


def _ran(lines: Mapping[str, list[int]], site: CallSite) -> bool:
    return any(line in site.lines for line in lines.get(site.path, []))


def _tests(tree: ast.Module) -> Iterator[tuple[ast.ClassDef | None, ast.FunctionDef]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            yield None, node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                    yield node, item


def _owned_calls(test: ast.FunctionDef) -> Iterator[ast.Call]:
    """The calls in the test's own body (not in functions, lambdas or comprehensions in it),
    in source order."""
    stack: list[ast.AST] = list(reversed(test.body))
    while stack:
        node = stack.pop()
        if isinstance(node, _NESTED):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _imported(tree: ast.Module, site: CallSite, modules: _Modules) -> tuple[set[str], set[str]]:
    """(names the test module binds to a repository function or class named like the site's,
    names it binds to repository modules)."""
    wanted = site.owner if site.owner else site.function.name
    names: set[str] = set()
    packages: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name == wanted and modules.file_of(node.module):
                    names.add(alias.asname or alias.name)
                elif modules.file_of(f"{node.module}.{alias.name}"):
                    packages.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if modules.file_of(alias.name):
                    packages.add(alias.asname or alias.name)
    return names, packages


def _calls(node: ast.Call, site: CallSite, imported: tuple[set[str], set[str]]) -> bool:
    names, packages = imported
    callee = dotted(node.func)
    head, _, last = callee.rpartition(".")
    if site.kind == "function":
        return (not head and last in names) or (
            last == site.function.name and bool(head) and head in packages
        )
    if site.function.name == "__init__":
        return (not head and last in names) or (last == site.owner and head in packages)
    return isinstance(node.func, ast.Attribute) and node.func.attr == site.function.name


# --- the derived test ------------------------------------------------------------------------


def _derive(incident: Incident, site: CallSite, found: _TestCall, index: int) -> Reproduction:
    crash = incident.crash
    assert crash is not None
    expected = _short_type(crash.type)
    if not expected.isidentifier():
        raise NotRebuildable(f"exception type {crash.type!r} is not a Python name")
    for decorator in [*found.test.decorator_list, *(found.cls.decorator_list if found.cls else [])]:
        if dotted(decorator.func if isinstance(decorator, ast.Call) else decorator).endswith(
            "parametrize"
        ):
            raise NotRebuildable("the test is parametrized")
    call = _substituted(found.call, site)
    ident = re.sub(r"\W", "_", incident.id)
    name = f"test_reproduces_{ident}" + (f"_{index + 1}" if index else "")
    check = _check(call, expected, message_pattern(crash.value))
    derived = copy.copy(found.test)
    derived.name = name
    derived.body = _cut_at(found.test.body, found.call, check)
    derived.returns = None
    folder = found.path.rpartition("/")[0]
    filename = f"{folder}/" if folder else ""
    filename += f"test_fixloop_derived_{ident}" + (f"_{index + 1}" if index else "") + ".py"
    source = _module(incident, site, found, derived)
    nodeid = "::".join([filename, *([found.cls.name] if found.cls else []), name])
    built_from = (
        f"a test derived from {found.nodeid}, its call of {site.qualname} "
        f"({site.path}:{site.frame.lineno}) made with the incident's "
        f"{', '.join(n for n, v in site.values.items() if v is not None)}"
    )
    kept = [n for n, v in site.values.items() if v is None]
    if kept:
        built_from += f" and the test's own {', '.join(kept)} (opaque in the incident)"
    return Reproduction(
        filename=filename,
        source=source,
        nodeid=nodeid,
        target_file=site.path,
        target_function=site.qualname,
        reproduced=False,
        reason="not yet run on the base commit",
        built_from=built_from,
        way="derived_test",
    )


def _substituted(call: ast.Call, site: CallSite) -> ast.Call:
    """The test's call with the incident's values for every parameter it shows whole."""
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(
        keyword.arg is None for keyword in call.keywords
    ):
        raise NotRebuildable("the test's call unpacks its arguments")
    positional = site.params[: len(site.params) - _keyword_only(site)]
    if len(call.args) > len(positional):
        raise NotRebuildable("the test's call passes more positional arguments than it takes")
    given: dict[str, ast.expr] = dict(zip(positional, call.args, strict=False))
    for keyword in call.keywords:
        if keyword.arg not in site.params or keyword.arg in given:
            raise NotRebuildable(f"the test's call passes {keyword.arg!r} the function lacks")
        given[keyword.arg] = keyword.value
    arguments: dict[str, ast.expr] = {}
    for name in site.params:
        value = site.values[name]
        if value is None:
            if name not in given:
                raise NotRebuildable(f"{name!r} is opaque in the incident and the test omits it")
            value = given[name]
        arguments[name] = value
    if all(ast.dump(arguments[n]) == ast.dump(given.get(n, ast.Pass())) for n in site.params):
        raise NotRebuildable("the test already makes the incident's call")
    names = list(arguments)
    return ast.Call(
        func=_receiver(call.func, site),
        args=[arguments[n] for n in names[: site.positional_only]],
        keywords=[ast.keyword(arg=n, value=arguments[n]) for n in names[site.positional_only :]],
    )


def _receiver(func: ast.expr, site: CallSite) -> ast.expr:
    """The method called on the incident's `self` where its repr rebuilds it, else on the
    test's object."""
    if site.kind != "method" or not isinstance(func, ast.Attribute):
        return func
    try:
        receiver = rebuild_expression(site.receiver, site.namespace)
    except NotRebuildable:
        return func
    if not isinstance(receiver, ast.Call):
        return func
    return ast.Attribute(value=receiver, attr=func.attr)


def _keyword_only(site: CallSite) -> int:
    return len(site.function.args.kwonlyargs)


def _check(call: ast.Call, expected: str, pattern: str) -> ast.stmt:
    text = (
        f"try:\n"
        f"    {ast.unparse(call)}\n"
        f"except Exception as error:\n"
        f"    assert type(error).__name__ == {expected!r} and _fixloop_re.match(\n"
        f"        {pattern!r}, str(error)\n"
        f'    ), f"not the incident\'s {expected}: {{type(error).__name__}}: {{error}}"\n'
        f"    raise\n"
    )
    return ast.parse(text).body[0]


def _cut_at(body: list[ast.stmt], call: ast.Call, check: ast.stmt) -> list[ast.stmt]:
    """The statements of `body` up to the one making `call`, which becomes `check`; a `with`
    block around it stays (one that expects an exception is dropped, its body kept)."""
    for index, statement in enumerate(body):
        if not any(node is call for node in ast.walk(statement)):
            continue
        head = body[:index]
        if isinstance(statement, ast.With):
            if any(any(node is call for node in ast.walk(item)) for item in statement.items):
                raise NotRebuildable("the test makes the call in a with statement's header")
            inner = _cut_at(statement.body, call, check)
            if _expects_raise(statement):
                return head + inner
            return [*head, ast.With(items=statement.items, body=inner)]
        if isinstance(statement, ast.If | ast.For | ast.While | ast.Try | ast.AsyncWith):
            raise NotRebuildable("the test makes the call inside a branch, loop or try")
        return [*head, check]
    raise NotRebuildable("the call is not in the test's body")


def _expects_raise(statement: ast.With) -> bool:
    return any(
        isinstance(item.context_expr, ast.Call)
        and dotted(item.context_expr.func).rpartition(".")[2] in _RAISES
        for item in statement.items
    )


def _module(incident: Incident, site: CallSite, found: _TestCall, derived: ast.FunctionDef) -> str:
    """The test module with its other tests dropped and the derived test in their place."""
    crash = incident.crash
    assert crash is not None
    crash_text = f"{crash.type}: {crash.value}" if crash.value else crash.type
    header = (
        f'"""Reproduction of incident {_doc(incident.id)}: {_doc(incident.title)}.\n'
        f"\n"
        f"Crash site: {_doc(site.path)}:{site.frame.lineno} in {site.qualname} "
        f"({_doc(crash_text)}).\n"
        f"Derived by fixloop from {_doc(found.nodeid)}, its call made with the values the\n"
        f"incident captured.\n"
        f'"""\n'
    )
    imports = ast.parse(_import_lines(site.namespace.used) + "\nimport re as _fixloop_re").body
    body = module_without_tests(found.tree, site.namespace, imports, found.cls, derived)
    if found.cls is None:
        body += "\n\n\n" + ast.unparse(ast.fix_missing_locations(derived))
    return f"{header}\n{body}\n"


def module_without_tests(
    tree: ast.Module,
    namespace: Namespace,
    imports: list[ast.stmt],
    cls: ast.ClassDef | None = None,
    derived: ast.FunctionDef | None = None,
) -> str:
    """A test module's source without its docstring and tests (but for `derived`, in its class
    `cls`), with `imports` after its own; refused when they would rebind one of its names."""
    body: list[ast.stmt] = []
    for node in tree.body:
        if node is cls and cls is not None and derived is not None:
            kept = copy.copy(cls)
            kept.body = [item for item in cls.body if not _is_test(item)] + [derived]
            body.append(kept)
        elif not _is_test(node):
            body.append(node)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    future = [n for n in body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    rest = [n for n in body if n not in future]
    _refuse_shadowing(rest, namespace)
    last_import = max(
        (i + 1 for i, node in enumerate(rest) if isinstance(node, ast.Import | ast.ImportFrom)),
        default=0,
    )
    rest[last_import:last_import] = imports
    module = ast.Module(body=[*future, *rest], type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module))


def _is_test(node: ast.stmt) -> bool:
    """A test function, or a test class (the one derived from is rebuilt apart)."""
    if isinstance(node, ast.ClassDef):
        return node.name.startswith("Test")
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")


def _refuse_shadowing(body: list[ast.stmt], namespace: Namespace) -> None:
    """The imports the substituted values need must not rebind a name the module defines."""
    needed = {name: module for module, name in namespace.used if name is not None}
    for node in body:
        bound: list[tuple[str, str | None]] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.append((node.name, None))
        elif isinstance(node, ast.Assign):
            bound += [(t.id, None) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.ImportFrom):
            bound += [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            bound += [(a.asname or a.name.split(".")[0], a.name) for a in node.names]
        for name, origin in bound:
            if name in needed and origin != f"{needed[name]}.{name}":
                raise NotRebuildable(f"the test module binds {name} to something else")

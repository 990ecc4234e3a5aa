"""Opaque objects built by the repository's own pytest fixtures.

A frame whose `self` or argument is captured as `<pkg.mod.Worker object at 0x…>` (or, for
`self`, `<broken repr>`) cannot be rebuilt from its repr, and the class's constructor calls in
the tests often take other fixtures (`Worker(queue, transport)`), so the object builder cannot
write them out. A fixture that returns that class (a `return Worker(...)`, a name assigned from
one, or a `-> Worker` annotation) builds it the way the repository's tests do: the test requests
that fixture and makes the frame's call with it and every other argument as the incident
captured it. The object is a guess at the incident's, so the test counts only when it fails on
the base commit like the incident.

The test is written where the fixtures are visible: in the folder of the deepest conftest.py
among them, or, for a fixture a test module defines, in a copy of that module without its tests.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from agent.diagnosis.frames import is_test_path
from agent.diagnosis.reproduce import (
    _doc,
    _import_lines,
    _Modules,
    _repository_frames,
    _short_type,
    message_pattern,
)
from agent.diagnosis.reproduce.derived import CallSite, call_site, module_without_tests
from agent.diagnosis.reproduce.objects import opaque_class
from agent.diagnosis.reproduce.values import NotRebuildable, dotted, rebuild_expression
from agent.domain import Incident, Reproduction
from agent.ports import Repo

MAX_FIXTURE_WAYS = 2
"""Frames tried with fixture-built objects per incident (run with the derived tests, at once)."""


@dataclass(frozen=True)
class Fixture:
    name: str
    """The name a test requests it by."""
    path: str
    tree: ast.Module
    class_module: str
    """The module the class it returns is imported from (and defined in)."""

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]

    @property
    def in_conftest(self) -> bool:
        return self.path.rpartition("/")[2] == "conftest.py"


def fixture_candidates(
    incident: Incident, repo: Repo, rev: str, limit: int = MAX_FIXTURE_WAYS
) -> tuple[list[Reproduction], list[str]]:
    """Calls of the crash's frames (innermost first) whose opaque objects a fixture of the
    repository builds; and why frames were passed over."""
    crash = incident.crash
    if crash is None or not crash.frames:
        return [], ["the incident has no stack frames"]
    tracked = set(repo.tracked_files(rev))
    modules = _Modules(repo, rev, tracked)
    fixtures = fixtures_by_class(modules)
    found: list[Reproduction] = []
    refusals: list[str] = []
    for frame, path in _repository_frames(crash.frames, tracked):
        try:
            found.append(_reproduction(incident, call_site(frame, path, modules), fixtures))
        except NotRebuildable as refusal:
            refusals.append(f"{path}:{frame.lineno} in {frame.function}: {refusal.reason}")
            continue
        if len(found) >= limit:
            break
    return found, refusals


def fixtures_by_class(modules: _Modules) -> dict[str, list[Fixture]]:
    """Class name -> the fixtures of the repository's tests that return an instance of it."""
    found: dict[str, list[Fixture]] = {}
    for path, module, tree in modules.sources():
        if module is not None or not is_test_path(path):
            continue
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            name = _fixture_name(node)
            if name is None:
                continue
            for cls in sorted(_provides(node)):
                source = _class_module(tree, cls, modules)
                if source is not None:
                    found.setdefault(cls, []).append(Fixture(name, path, tree, source))
    return found


def _fixture_name(function: ast.FunctionDef) -> str | None:
    """The name a fixture is requested by; None for a function that is no fixture or one
    whose values are parametrized (its tests' ids carry the parameter)."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        if dotted(call.func if call else decorator).rpartition(".")[2] != "fixture":
            continue
        keywords = {keyword.arg: keyword.value for keyword in call.keywords} if call else {}
        if "params" in keywords:
            return None
        named = keywords.get("name")
        if isinstance(named, ast.Constant) and isinstance(named.value, str):
            return named.value
        return function.name
    return None


def _provides(function: ast.FunctionDef) -> set[str]:
    """Class names the fixture returns (or yields) an instance of, as far as its source says."""
    names: set[str] = set()
    returns = function.returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        names.add(returns.value.rpartition(".")[2])
    elif returns is not None:
        names.add(dotted(returns).rpartition(".")[2])
    assigned: dict[str, ast.expr] = {}
    for statement in function.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = statement.value
    for node in ast.walk(function):
        value = node.value if isinstance(node, ast.Return | ast.Yield) else None
        if isinstance(value, ast.Name):
            value = assigned.get(value.id)
        if isinstance(value, ast.Call):
            names.add(dotted(value.func).rpartition(".")[2])
    return {name for name in names if name}


def _class_module(tree: ast.Module, name: str, modules: _Modules) -> str | None:
    """The repository module defining the class `name` that the test module imports, if any."""
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and any(alias.name == name and alias.asname is None for alias in node.names)
        ):
            return node.module if name in modules.classes_of(node.module) else None
    return None


def _reproduction(
    incident: Incident, site: CallSite, fixtures: dict[str, list[Fixture]]
) -> Reproduction:
    crash = incident.crash
    assert crash is not None
    expected = _short_type(crash.type)
    if not expected.isidentifier():
        raise NotRebuildable(f"exception type {crash.type!r} is not a Python name")
    if site.function.name.startswith("__"):
        raise NotRebuildable(f"{site.function.name} is not called by name")
    requested: dict[str, Fixture] = {}
    arguments: dict[str, ast.expr] = {}
    for name, value in site.values.items():
        if value is None:
            fixture = _fixture_for(site.frame.vars[name], None, site, fixtures)
            requested[fixture.name] = fixture
            value = ast.Name(fixture.name)
        arguments[name] = value
    callee = _callee(site, fixtures, requested)
    if not requested:
        raise NotRebuildable("no argument needs a fixture")
    names = list(arguments)
    call = ast.Call(
        func=callee,
        args=[arguments[n] for n in names[: site.positional_only]],
        keywords=[ast.keyword(arg=n, value=arguments[n]) for n in names[site.positional_only :]],
    )
    folder, module_copy = _placement(list(requested.values()))
    ident = re.sub(r"\W", "_", incident.id)
    filename = f"{folder}/" if folder else ""
    filename += f"test_fixloop_fixture_{ident}.py"
    test_name = f"test_reproduces_{ident}"
    imported = {name for _, name in site.namespace.used if name}
    clash = sorted(set(requested) & imported)
    if clash:
        raise NotRebuildable(f"the fixture {clash[0]} has the name of a name the test imports")
    source = _source(incident, site, call, sorted(requested), module_copy, test_name, expected)
    used = ", ".join(f"{n} from the fixture {f.name} ({f.path})" for n, f in requested.items())
    return Reproduction(
        filename=filename,
        source=source,
        nodeid=f"{filename}::{test_name}",
        target_file=site.path,
        target_function=site.qualname,
        reproduced=False,
        reason="not yet run on the base commit",
        built_from=(
            f"the frame {site.path}:{site.frame.lineno} in {site.qualname} with {used} "
            "(a guess at the incident's objects)"
        ),
        way="test_built_object",
    )


def _fixture_for(
    value: object, owner: str | None, site: CallSite, fixtures: dict[str, list[Fixture]]
) -> Fixture:
    opaque = opaque_class(value, owner)
    if opaque is None:
        raise NotRebuildable(f"{str(value)[:60]} says nothing of its class")
    # A default repr names the class's module; `self`'s class is the one the frame's defines.
    module, name = opaque
    module = module or site.namespace.classes.get(name)
    found = [f for f in fixtures.get(name, []) if f.class_module == module]
    if not found:
        raise NotRebuildable(f"no fixture of the repository's tests returns a {module}.{name}")
    return found[0]


def _callee(
    site: CallSite, fixtures: dict[str, list[Fixture]], requested: dict[str, Fixture]
) -> ast.expr:
    function = site.function.name
    if site.kind == "function":
        site.namespace.used.add((site.module, function))
        return ast.Name(function)
    assert site.owner is not None
    if site.kind in ("classmethod", "staticmethod"):
        site.namespace.used.add((site.module, site.owner))
        return ast.Attribute(value=ast.Name(site.owner), attr=function)
    try:
        receiver = rebuild_expression(site.receiver, site.namespace)
    except NotRebuildable:
        fixture = _fixture_for(site.receiver, site.owner, site, fixtures)
        requested[fixture.name] = fixture
        receiver = ast.Name(fixture.name)
    else:
        if not isinstance(receiver, ast.Call):
            raise NotRebuildable("'self' is not an instance rebuilt by its constructor")
    return ast.Attribute(value=receiver, attr=function)


def _placement(fixtures: list[Fixture]) -> tuple[str, Fixture | None]:
    """The folder the test goes in, and the test module it copies (for a fixture defined in
    one), such that every fixture is visible there."""
    modules = {f.path: f for f in fixtures if not f.in_conftest}
    if len(modules) > 1:
        raise NotRebuildable("the fixtures are defined in two test modules")
    copied = next(iter(modules.values()), None)
    folders = sorted({f.folder for f in fixtures}, key=lambda folder: folder.count("/"))
    deepest = copied.folder if copied else folders[-1]
    for folder in folders:
        if folder and not (deepest == folder or deepest.startswith(folder + "/")):
            raise NotRebuildable("no test folder sees every fixture it needs")
    return deepest, copied


def _source(
    incident: Incident,
    site: CallSite,
    call: ast.Call,
    requested: list[str],
    copied: Fixture | None,
    test_name: str,
    expected: str,
) -> str:
    crash = incident.crash
    assert crash is not None
    crash_text = f"{crash.type}: {crash.value}" if crash.value else crash.type
    header = (
        f'"""Reproduction of incident {_doc(incident.id)}: {_doc(incident.title)}.\n'
        f"\n"
        f"Crash site: {_doc(site.path)}:{site.frame.lineno} in {site.qualname} "
        f"({_doc(crash_text)}).\n"
        f"Written by fixloop from the values the incident captured, its objects from the\n"
        f"repository's fixtures ({', '.join(requested)}).\n"
        f'"""\n'
    )
    imports = _import_lines(site.namespace.used) + "\nimport re as _fixloop_re"
    test = (
        f"def {test_name}({', '.join(requested)}):\n"
        f"    try:\n"
        f"        {ast.unparse(call)}\n"
        f"    except Exception as error:\n"
        f"        assert type(error).__name__ == {expected!r} and _fixloop_re.match(\n"
        f"            {message_pattern(crash.value)!r}, str(error)\n"
        f'        ), f"not the incident\'s {expected}: {{type(error).__name__}}: {{error}}"\n'
        f"        raise\n"
    )
    if copied is None:
        return f"{header}\n{imports}\n\n\n{test}"
    body = module_without_tests(copied.tree, site.namespace, ast.parse(imports).body)
    return f"{header}\n{body}\n\n\n{test}"

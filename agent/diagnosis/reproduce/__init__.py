"""Reproduction v2: a pytest test rebuilt from the local variables an incident captured.

Starting at the crashing frame and walking outwards, the first frame of the repository whose
arguments can all be rebuilt becomes the call the test makes: a module-level function is
imported and called; a method is called on `self` rebuilt (a classmethod or staticmethod on its
class). Captured values are rebuilt from their reprs by parsing them with `ast`, never by
evaluating them: literals, containers, and constructor calls whose callee is a class the frame's
module defines or imports from the repository, or that the modules of those classes define or
import (dataclass and namedtuple reprs such as `Order(id=3, lines=[Line(sku='A', qty=0)])`, or
any class whose repr is its constructor call), plus a few standard-library value types
(`Decimal('1.5')`, `datetime.date(2024, 1, 1)`).

The test asserts the incident's exception type and message shape (the first line of the message
with quoted strings, numbers, addresses and paths generalised), re-raising the incident's
exception so that it fails like the incident did. It is only a candidate until
`check_reproduction` has seen it fail that way on the base commit. Without such a frame there is
no reproduction; the reason is logged and available from `make_reproduction` (which raises
`NotRebuildable`). Test code is never called (a failing test is its own reproduction).
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from agent.diagnosis.frames import is_test_path, map_frame
from agent.diagnosis.reproduce.objects import MAX_CONSTRUCTIONS, Construction, ObjectBuilder
from agent.diagnosis.reproduce.values import (
    Namespace,
    NotRebuildable,
    clip,
    dotted,
    rebuild_expression,
    rebuild_value,
)
from agent.domain import (
    ExceptionInfo,
    Frame,
    Incident,
    Reproduction,
    ReproductionWay,
    TestRun,
)
from agent.ports import Repo

log = logging.getLogger(__name__)

__all__ = [
    "Namespace",
    "NotRebuildable",
    "build_reproduction",
    "check_reproduction",
    "first_that_reproduces",
    "make_reproduction",
    "message_pattern",
    "module_name",
    "rebuild_expression",
    "rebuild_value",
    "reproduction_candidates",
]

_NAMEDTUPLE_FACTORIES = {"namedtuple", "collections.namedtuple", "NamedTuple", "typing.NamedTuple"}
_PROPERTY_DECORATORS = {"property", "cached_property", "functools.cached_property"}
_TEST_NAMES = {"re", "type", "str", "Exception", "error"}
_MAX_SOURCES = 2_000
"""Python files scanned for the ways the repository builds an object."""


def build_reproduction(incident: Incident, repo: Repo, rev: str) -> Reproduction | None:
    """A reproduction test for the incident, or None (the reason is logged)."""
    try:
        return make_reproduction(incident, repo, rev)
    except NotRebuildable as refusal:
        log.info("no reproduction for incident %s: %s", incident.id, refusal.reason)
        return None


def make_reproduction(incident: Incident, repo: Repo, rev: str) -> Reproduction:
    """Like `build_reproduction`, but raises `NotRebuildable` with the reason instead of None.

    The stack is walked from the crash outwards; the caller has already placed the incident in
    the repository (root cause asks only when some frame points at its code).
    """
    return reproduction_candidates(incident, repo, rev, limit=1)[0]


def reproduction_candidates(
    incident: Incident, repo: Repo, rev: str, limit: int = 1 + MAX_CONSTRUCTIONS
) -> list[Reproduction]:
    """Reproductions to try in order, each to be checked by running it: first the call rebuilt
    from captured values alone (the innermost frame that rebuilds), then calls whose opaque
    objects are built the way the repository builds them, one way after another.
    Raises `NotRebuildable` when there is none."""
    crash = incident.crash
    if crash is None or not crash.frames:
        raise NotRebuildable("the incident has no stack frames")
    tracked = set(repo.tracked_files(rev))
    modules = _Modules(repo, rev, tracked)
    cache: dict[str, list[Construction]] = {}
    found: dict[str, Reproduction] = {}
    first_refusals: list[str] | None = None
    for attempt in range(-1, MAX_CONSTRUCTIONS):
        refusals: list[str] = []
        for frame, path in _repository_frames(crash.frames, tracked):
            site = f"{path}:{frame.lineno} in {frame.function}"
            objects = ObjectBuilder(modules.sources, attempt, cache) if attempt >= 0 else None
            try:
                target = _target(frame, path, modules, objects)
            except NotRebuildable as refusal:
                refusals.append(f"{site}: {refusal.reason}")
                continue
            built = objects.built if objects else []
            built_from = _origin(site, refusals, built)
            way: ReproductionWay = (
                "test_built_object" if built else "outer_frame" if refusals else "frame"
            )
            reproduction = _reproduction(incident, frame, target, built_from, way)
            found.setdefault(reproduction.source, reproduction)
            break
        first_refusals = refusals if first_refusals is None else first_refusals
        if len(found) >= limit:
            break
    if found:
        return list(found.values())[:limit]
    if not first_refusals:
        raise NotRebuildable("no frame of the crash is code of the repository")
    raise NotRebuildable("no frame can be rebuilt: " + "; ".join(first_refusals[:4]))


def _origin(site: str, refusals: list[str], built: list[str]) -> str:
    origin = "the crashing frame" if not refusals else f"the outer frame {site}"
    if built:
        origin += " with " + ", ".join(built) + " (a guess at the incident's objects)"
    if refusals:
        origin += "; not from the frames inside it: " + "; ".join(refusals[:4])
    return origin


def check_reproduction(
    reproduction: Reproduction, run: TestRun, incident: Incident
) -> Reproduction:
    """Mark the reproduction reproduced iff it failed in `run` with the incident's exception."""
    crash = incident.crash
    expected = _short_type(crash.type) if crash else None
    outcome = run.outcomes.get(reproduction.nodeid)
    failures = run.failures.get(reproduction.nodeid, [])
    if run.timed_out:
        reason = "the test run timed out"
    elif outcome is None and run.outcomes.get(reproduction.filename) == "error":
        reason = f"cannot be collected: {_describe(run.failures.get(reproduction.filename, []))}"
    elif outcome is None:
        reason = "did not run on the base commit"
    elif outcome == "passed":
        reason = "passes on the base commit: the captured arguments do not trigger the crash"
    elif outcome == "skipped":
        reason = "was skipped on the base commit"
    elif not failures:
        reason = f"{outcome} without an exception"
    elif _short_type(failures[-1].type) == expected and not _raised_in(reproduction, failures[-1]):
        # A derived test runs the test's own setup first, which may fail the same way.
        reason = f"fails with {expected}, but not in {reproduction.target_function}"
    elif _short_type(failures[-1].type) == expected:
        return _checked(reproduction, True, f"fails with {expected} as in the incident")
    elif _short_type(failures[-1].type) == "AssertionError" and len(failures) > 1:
        # The test's own check refused the exception it caught, the first of the chain.
        caught = _short_type(failures[0].type)
        if caught == expected:
            reason = f"fails with {expected}, but its message differs from the incident's"
        else:
            reason = f"fails with {caught}, not {expected}"
    else:
        reason = f"fails with {_short_type(failures[-1].type)}, not {expected}"
    return _checked(reproduction, False, reason)


def _raised_in(reproduction: Reproduction, failure: ExceptionInfo) -> bool:
    """Whether `failure` went through the function the reproduction was built for; checked
    for a derived test only (the other ways call that function directly)."""
    if reproduction.way != "derived_test":
        return True
    name = reproduction.target_function.rpartition(".")[2]
    return any(
        frame.function == name
        and frame.filename.replace("\\", "/").removeprefix("./") == reproduction.target_file
        for frame in failure.frames
    )


def first_that_reproduces(
    candidates: list[Reproduction], incident: Incident, run: Callable[[Reproduction], TestRun]
) -> tuple[Reproduction | None, list[Reproduction]]:
    """Run the candidates in order (`run` runs one alone on the base commit) up to the first
    that fails like the incident: (that one or None, every candidate tried, checked). A
    candidate that passes on the base commit is a failed attempt, never evidence."""
    tried = []
    for reproduction in candidates:
        tried.append(check_reproduction(reproduction, run(reproduction), incident))
        if tried[-1].reproduced:
            return tried[-1], tried
    return None, tried


def module_name(path: str) -> str:
    """The dotted module a repository file is imported as: `src/pkg/mod.py` -> `pkg.mod`."""
    parts = path.removeprefix("./").removeprefix("src/").removesuffix(".py").split("/")
    if parts and parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(part.isidentifier() for part in parts):
        raise NotRebuildable(f"{path} is not an importable Python module")
    return ".".join(parts)


_RECURSION = "maximum recursion depth exceeded"


def message_pattern(value: str) -> str:
    """A regex for the first line of an exception message, with its values generalised:
    quoted strings, numbers, addresses and file paths (the incident's machine is not the
    sandbox) match any of their kind."""
    first = value.strip().splitlines()[0] if value.strip() else ""
    first = first.removesuffix("...")
    if first.startswith(_RECURSION):
        # CPython names where the limit was hit (`in comparison`, `while calling a Python
        # object`): that depends on the stack's depth when the test runs, not on the bug.
        return _escape(_RECURSION) + ".*"
    pattern = []
    position = 0
    for match in _VALUE.finditer(first):
        pattern.append(_escape(first[position : match.start()]))
        quote = match.group("quote")
        if quote:
            pattern.append(f"{quote}.*{quote}" if quote == "'" else '".*"')
        elif match.group("hex"):
            pattern.append("0x[0-9a-fA-F]+")
        elif match.group("path"):
            pattern.append(r"\S+?")
        else:
            pattern.append(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
        position = match.end()
    pattern.append(_escape(first[position:]))
    return "".join(pattern)


def _escape(text: str) -> str:
    """`re.escape`, leaving spaces readable."""
    return re.escape(text).replace("\\ ", " ")


_VALUE = re.compile(
    r"(?P<quote>['\"])(?:(?!(?P=quote)).)*(?P=quote)"
    r"|(?P<hex>\b0x[0-9a-fA-F]+\b)"
    r"|(?P<path>(?<![\w.])(?:[A-Za-z]:)?[\\/][^\s'\"()]*[\\/][^\s'\"()]+)"
    r"|(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])"
)


# --- frames and targets ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """What the test calls: `function` of `module`, or `method` of `owner` in `module`."""

    path: str
    module: str
    function: ast.FunctionDef
    owner: str | None
    kind: str
    """`function`, `method`, `property` (read, not called), `classmethod` or `staticmethod`."""
    receiver: ast.expr | None
    call: _Call
    imports: set[tuple[str, str | None]]

    @property
    def qualname(self) -> str:
        return f"{self.owner}.{self.function.name}" if self.owner else self.function.name


@dataclass(frozen=True)
class _Call:
    positional: list[ast.expr]
    keywords: dict[str, ast.expr]
    star_args: ast.expr | None = None
    star_kwargs: ast.expr | None = None

    def render(self) -> str:
        parts = [ast.unparse(value) for value in self.positional]
        if self.star_args is not None:
            parts.append(f"*{ast.unparse(self.star_args)}")
        parts += [f"{name}={ast.unparse(value)}" for name, value in self.keywords.items()]
        if self.star_kwargs is not None:
            parts.append(f"**{ast.unparse(self.star_kwargs)}")
        return ", ".join(parts)


def _repository_frames(frames: list[Frame], tracked: set[str]) -> Iterator[tuple[Frame, str]]:
    """Frames of the repository's Python code, innermost first; test code is not called."""
    for frame in reversed(frames):
        path = map_frame(frame, tracked).path
        if path is not None and path.endswith(".py") and not is_test_path(path):
            yield frame, path


def _target(frame: Frame, path: str, modules: _Modules, objects: ObjectBuilder | None) -> _Target:
    if not frame.vars:
        raise NotRebuildable("no local variables were captured")
    module = module_name(path)
    tree = modules.tree(path)
    if tree is None:
        raise NotRebuildable(f"{path} does not parse or does not exist")
    owner, function = _definition(tree, frame)
    _refuse_unsupported(function, owner)
    kind = _kind(function) if owner else "function"
    namespace = modules.namespace(tree, module, path)
    spec = function.args
    captured = dict(frame.vars)
    _refuse_unseen(spec, frame, skip_first=kind in ("method", "classmethod", "property"))
    receiver = None
    if kind in ("method", "property"):
        receiver = _receiver(spec, captured, namespace, owner or "", objects)
    if kind in ("method", "classmethod", "property") and spec.posonlyargs + spec.args:
        spec = _without_first(spec)
    call = _call_arguments(spec, captured, namespace, objects)
    imports = set(namespace.used)
    imports.add((module, owner or function.name))
    return _Target(path, module, function, owner, kind, receiver, call, imports)


def _refuse_unseen(spec: ast.arguments, frame: Frame, skip_first: bool) -> None:
    """A call is made only with every parameter as the incident saw it: none left out or
    filled from its default, none whose captured value the reporter cut."""
    ordered = [arg.arg for arg in spec.posonlyargs + spec.args]
    names = ordered[1:] if skip_first else ordered
    names += [arg.arg for arg in spec.kwonlyargs]
    names += [arg.arg for arg in (spec.vararg, spec.kwarg) if arg is not None]
    missing = [name for name in names if name not in frame.vars]
    cut = [name for name in ordered + names if name in frame.cut_vars]
    problems = []
    if missing:
        problems.append(f"{_names(missing)} not captured")
    if cut:
        problems.append(f"{_names(sorted(set(cut), key=cut.index))} cut by the reporter")
    if problems:
        sent = ""
        if frame.vars_cut:
            sent = f" (the reporter sent only {len(frame.vars)} of the frame's variables)"
        raise NotRebuildable(f"{' and '.join(problems)}{sent}")


def _names(names: list[str]) -> str:
    quoted = ", ".join(repr(name) for name in names)
    return (
        f"parameter{'s' if len(names) > 1 else ''} {quoted} {'were' if len(names) > 1 else 'was'}"
    )


def _definition(tree: ast.Module, frame: Frame) -> tuple[str | None, ast.FunctionDef]:
    """The module-level function or class method the frame ran: (class name or None, def)."""
    *prefix, name = frame.function.split(".")
    found: list[tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found.append((None, node))
        elif isinstance(node, ast.ClassDef):
            found += [
                (node.name, item)
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == name
            ]
    if prefix:
        found = [(owner, node) for owner, node in found if owner == ".".join(prefix)]
    if not found:
        raise NotRebuildable(f"{frame.function} is not a module-level function or a method")
    line = frame.lineno or 0
    containing = [
        (owner, node) for owner, node in found if node.lineno <= line <= (node.end_lineno or 0)
    ]
    # The last definition is the one the module ends up with.
    owner, node = (containing or found)[-1]
    if isinstance(node, ast.AsyncFunctionDef):
        raise NotRebuildable(f"{name} is a coroutine function; the test calls plain functions")
    return owner, node


def _refuse_unsupported(function: ast.FunctionDef, owner: str | None) -> None:
    for decorator in function.decorator_list:
        name = dotted(decorator)
        if name.endswith((".setter", ".getter", ".deleter")):
            raise NotRebuildable(f"{function.name} is a property's {name.rpartition('.')[2]}")
        if name in _PROPERTY_DECORATORS and owner is None:
            raise NotRebuildable(f"{function.name} is a property outside a class")
    for node in ast.walk(function):
        if isinstance(node, ast.Yield | ast.YieldFrom) and _owned_by(function, node):
            raise NotRebuildable(f"{function.name} is a generator function")


def _owned_by(function: ast.FunctionDef, target: ast.AST) -> bool:
    """True when `target` is in `function` itself, not in a function nested in it."""
    stack: list[ast.AST] = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if node is target:
            return True
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return False


def _kind(function: ast.FunctionDef) -> str:
    names = {dotted(decorator) for decorator in function.decorator_list}
    if "staticmethod" in names:
        return "staticmethod"
    if "classmethod" in names:
        return "classmethod"
    return "property" if names & _PROPERTY_DECORATORS else "method"


def _receiver(
    spec: ast.arguments,
    captured: dict[str, object],
    namespace: Namespace,
    owner: str,
    objects: ObjectBuilder | None,
) -> ast.expr:
    ordered = spec.posonlyargs + spec.args
    if not ordered:
        raise NotRebuildable(f"method of {owner} without a self parameter")
    name = ordered[0].arg
    if name not in captured:
        raise NotRebuildable(f"{name!r} was not captured")
    try:
        receiver = _rebuild(captured[name], namespace, objects, owner)
    except NotRebuildable as refusal:
        raise NotRebuildable(f"{name!r}: {refusal.reason}") from refusal
    if not isinstance(receiver, ast.Call):
        raise NotRebuildable(f"{name!r} is not an instance rebuilt by its constructor")
    return receiver


def _without_first(spec: ast.arguments) -> ast.arguments:
    if spec.posonlyargs:
        return _copy_arguments(spec, posonlyargs=spec.posonlyargs[1:], args=spec.args)
    return _copy_arguments(spec, posonlyargs=[], args=spec.args[1:])


def _copy_arguments(
    spec: ast.arguments, posonlyargs: list[ast.arg], args: list[ast.arg]
) -> ast.arguments:
    return ast.arguments(
        posonlyargs=posonlyargs,
        args=args,
        vararg=spec.vararg,
        kwonlyargs=spec.kwonlyargs,
        kw_defaults=spec.kw_defaults,
        kwarg=spec.kwarg,
        defaults=spec.defaults[-(len(posonlyargs) + len(args)) :]
        if len(posonlyargs) + len(args)
        else [],
    )


class _Modules:
    """Parsed modules of the repository at one commit, and the namespaces of their reprs."""

    def __init__(self, repo: Repo, rev: str, tracked: set[str]) -> None:
        self._repo = repo
        self._rev = rev
        self._tracked = tracked
        self._trees: dict[str, ast.Module | None] = {}

    def tree(self, path: str) -> ast.Module | None:
        if path not in self._trees:
            source = self._repo.read(self._rev, path)
            try:
                self._trees[path] = ast.parse(source) if source is not None else None
            except (SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def sources(self) -> Iterator[tuple[str, str | None, ast.Module]]:
        """The repository's Python files that parse, tests first: (path, the module it is
        imported as, None for test code and scripts, tree)."""
        paths = sorted(path for path in self._tracked if path.endswith(".py"))
        for path in sorted(paths, key=lambda path: not is_test_path(path))[:_MAX_SOURCES]:
            tree = self.tree(path)
            if tree is None:
                continue
            try:
                module = None if is_test_path(path) else module_name(path)
            except NotRebuildable:
                module = None
            yield path, module, tree

    def file_of(self, module: str) -> str | None:
        base = module.replace(".", "/")
        for root in ("", "src/"):
            for candidate in (f"{root}{base}.py", f"{root}{base}/__init__.py"):
                if candidate in self._tracked:
                    return candidate
        return None

    def classes_of(self, module: str) -> set[str]:
        path = self.file_of(module)
        tree = self.tree(path) if path else None
        return _defined_classes(tree) if tree else set()

    def namespace(self, tree: ast.Module, module: str, path: str) -> Namespace:
        """Classes the module defines, classes it imports from the repository by name, the
        classes of repository modules it imports whole; then, one step further, the same for
        each module those classes come from (an `Invoice` whose module defines its `Line`)."""
        namespace = Namespace()
        self._add_names(namespace, tree, module, path)
        self._add_functions(namespace, tree, module, path)
        for source in sorted(set(namespace.classes.values()) - {module}):
            source_path = self.file_of(source)
            source_tree = self.tree(source_path) if source_path else None
            if source_path and source_tree:
                self._add_names(namespace, source_tree, source, source_path)
        return namespace

    def _add_names(self, namespace: Namespace, tree: ast.Module, module: str, path: str) -> None:
        for name in _defined_classes(tree):
            namespace.classes.setdefault(name, module)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                source = _absolute(node, module, path)
                if source is None:
                    continue
                defined = self.classes_of(source)
                for alias in node.names:
                    if alias.name in defined:
                        namespace.classes.setdefault(alias.name, source)
                    elif self.file_of(f"{source}.{alias.name}") is not None:
                        self._add_module(namespace, f"{source}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if self.file_of(alias.name) is not None:
                        self._add_module(namespace, alias.name)

    def _add_functions(
        self, namespace: Namespace, tree: ast.Module, module: str, path: str
    ) -> None:
        """The module-level functions the module defines or imports by name from the
        repository: what a `<function f at 0x…>` repr in its frames may name."""
        for name in _defined_functions(tree):
            namespace.functions[name] = module
        for node in tree.body:
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _absolute(node, module, path)
            source_path = self.file_of(source) if source else None
            source_tree = self.tree(source_path) if source_path else None
            defined = _defined_functions(source_tree) if source_tree else set()
            for alias in node.names:
                if source and alias.name in defined and alias.asname is None:
                    namespace.functions.setdefault(alias.name, source)

    def _add_module(self, namespace: Namespace, module: str) -> None:
        for name in self.classes_of(module):
            namespace.classes.setdefault(name, module)


def _defined_classes(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
            and dotted(node.value.func) in _NAMEDTUPLE_FACTORIES
        ):
            names.add(node.targets[0].id)
    return names


def _defined_functions(tree: ast.Module) -> set[str]:
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _absolute(node: ast.ImportFrom, module: str, path: str) -> str | None:
    if node.level == 0:
        return node.module
    package = module.split(".")
    if not path.endswith("__init__.py"):
        package = package[:-1]
    if node.level - 1 > len(package):
        return None
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None


def _call_arguments(
    spec: ast.arguments,
    captured: dict[str, object],
    namespace: Namespace,
    objects: ObjectBuilder | None,
) -> _Call:
    """Every parameter from its captured value (`_refuse_unseen` has checked they all were)."""
    star_args = _star_args(spec.vararg, captured, namespace)
    star_kwargs = _star_kwargs(spec.kwarg, captured, namespace)
    param = partial(_rebuild_param, namespace=namespace, objects=objects)
    positional: list[ast.expr] = []
    keywords: dict[str, ast.expr] = {}
    for index, arg in enumerate(spec.posonlyargs + spec.args):
        if arg.arg not in captured:
            raise NotRebuildable(f"parameter {arg.arg!r} was not captured")
        value = param(arg.arg, captured[arg.arg])
        if index < len(spec.posonlyargs) or star_args is not None:
            positional.append(value)
        else:
            keywords[arg.arg] = value
    for arg in spec.kwonlyargs:
        if arg.arg not in captured:
            raise NotRebuildable(f"keyword-only parameter {arg.arg!r} was not captured")
        keywords[arg.arg] = param(arg.arg, captured[arg.arg])
    return _Call(positional, keywords, star_args, star_kwargs)


def _star_args(
    arg: ast.arg | None, captured: dict[str, object], namespace: Namespace
) -> ast.expr | None:
    if arg is None or arg.arg not in captured:
        return None
    value = _rebuild_param(arg.arg, captured[arg.arg], namespace)
    if not isinstance(value, ast.List | ast.Tuple):
        raise NotRebuildable(f"captured *{arg.arg} is not a sequence")
    return value if value.elts else None


def _star_kwargs(
    arg: ast.arg | None, captured: dict[str, object], namespace: Namespace
) -> ast.expr | None:
    if arg is None or arg.arg not in captured:
        return None
    value = _rebuild_param(arg.arg, captured[arg.arg], namespace)
    names_only = isinstance(value, ast.Dict) and all(
        isinstance(key, ast.Constant) and isinstance(key.value, str) for key in value.keys
    )
    if not isinstance(value, ast.Dict) or not names_only:
        raise NotRebuildable(f"captured **{arg.arg} is not a mapping of names")
    return value if value.keys else None


def _rebuild_param(
    name: str, value: object, namespace: Namespace, objects: ObjectBuilder | None = None
) -> ast.expr:
    try:
        return _rebuild(value, namespace, objects, None)
    except NotRebuildable as refusal:
        raise NotRebuildable(f"parameter {name!r}: {refusal.reason}") from refusal


def _rebuild(
    value: object, namespace: Namespace, objects: ObjectBuilder | None, owner: str | None
) -> ast.expr:
    """The captured value rebuilt, or an opaque object built as the repository builds it."""
    try:
        return rebuild_expression(value, namespace)
    except NotRebuildable:
        built = objects.build(value, owner, namespace) if objects else None
        if built is None:
            raise
        return built


# --- the test file ---------------------------------------------------------------------------


def _reproduction(
    incident: Incident, frame: Frame, target: _Target, built_from: str, way: ReproductionWay
) -> Reproduction:
    ident = re.sub(r"\W", "_", incident.id)
    filename = f"test_fixloop_repro_{ident}.py"
    test_name = f"test_reproduces_{ident}"
    return Reproduction(
        filename=filename,
        source=_test_source(incident, frame, target, test_name),
        nodeid=f"{filename}::{test_name}",
        target_file=target.path,
        target_function=target.qualname,
        reproduced=False,
        reason=_with_origin("not yet run on the base commit", built_from),
        built_from=built_from,
        way=way,
    )


def _test_source(incident: Incident, frame: Frame, target: _Target, test_name: str) -> str:
    crash = incident.crash
    assert crash is not None
    crash_text = f"{crash.type}: {crash.value}" if crash.value else crash.type
    expected = _short_type(crash.type)
    if not expected.isidentifier():
        raise NotRebuildable(f"exception type {crash.type!r} is not a Python name")
    header = (
        f'"""Reproduction of incident {_doc(incident.id)}: {_doc(incident.title)}.\n'
        f"\n"
        f"Crash site: {_doc(target.path)}:{frame.lineno} in {target.qualname} "
        f"({_doc(crash_text)}).\n"
        f"Written by fixloop from the local variables the incident captured in that frame.\n"
        f'"""\n'
    )
    imports = _import_lines(target.imports)
    call = _callee(target)
    if target.kind != "property":
        call += f"({target.call.render()})"
    pattern = message_pattern(crash.value)
    check = (
        f"        assert type(error).__name__ == {expected!r} and re.match(\n"
        f"            {pattern!r}, str(error)\n"
        f'        ), f"not the incident\'s {expected}: {{type(error).__name__}}: {{error}}"\n'
    )
    return (
        f"{header}\n"
        f"import re\n"
        f"\n"
        f"{imports}\n"
        f"\n"
        f"\n"
        f"def {test_name}():\n"
        f"    try:\n"
        f"        {call}\n"
        f"    except Exception as error:\n"
        f"{check}"
        f"        raise\n"
    )


def _callee(target: _Target) -> str:
    if target.kind == "function":
        return target.function.name
    if target.kind in ("method", "property"):
        assert target.receiver is not None
        return f"{ast.unparse(target.receiver)}.{target.function.name}"
    return f"{target.owner}.{target.function.name}"


def _import_lines(imports: set[tuple[str, str | None]]) -> str:
    whole = sorted(module for module, name in imports if name is None)
    by_module: dict[str, set[str]] = {}
    for module, name in imports:
        if name is not None:
            by_module.setdefault(module, set()).add(name)
    names = [name for group in by_module.values() for name in group]
    clash = {name for name in names if names.count(name) > 1}
    if clash:
        raise NotRebuildable(f"two modules define {sorted(clash)[0]}; the test cannot import both")
    shadowed = sorted(set(names) & _TEST_NAMES)
    if shadowed:
        raise NotRebuildable(f"importing {shadowed[0]} would shadow a name the test uses")
    lines = [f"import {module}" for module in whole]
    lines += [
        f"from {module} import {', '.join(sorted(group))}"
        for module, group in sorted(by_module.items())
    ]
    return "\n".join(lines)


def _doc(text: str) -> str:
    """Incident text made safe inside a triple-quoted docstring (it is attacker-controlled)."""
    flat = " ".join(text.split()).replace("\\", "/").replace('"', "'")
    return clip(flat, 160)


def _checked(reproduction: Reproduction, reproduced: bool, reason: str) -> Reproduction:
    reason = _with_origin(reason, reproduction.built_from)
    return reproduction.model_copy(update={"reproduced": reproduced, "reason": reason})


def _with_origin(reason: str, built_from: str) -> str:
    """The reason, with the frames the call could not be rebuilt from when it has some."""
    return f"{reason}; built from {built_from}" if built_from.startswith("the outer") else reason


def _describe(failures: list[ExceptionInfo]) -> str:
    if not failures:
        return "no exception recorded"
    final = failures[-1]
    return f"{_short_type(final.type)}: {final.value}"


def _short_type(name: str) -> str:
    return name.rsplit(".", 1)[-1]

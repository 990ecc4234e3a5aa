"""Objects whose repr says nothing (`<pkg.mod.Client object at 0x…>`, `<broken repr>`), built
the way the repository itself builds them: a call of that class, or of a factory of the
repository's code annotated to return it, found in its tests (then in its code) whose arguments
are self-contained (literals, constructors of known classes, lambdas of those). Such an object
is a guess at the incident's, so a reproduction that uses one says so, and counts only once it
has failed like the incident."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agent.diagnosis.reproduce.values import Namespace, NotRebuildable, check_expression, dotted

BROKEN_REPR = "<broken repr>"
_DEFAULT_REPR = re.compile(
    r"<(?P<module>[A-Za-z_][\w.]*)\.(?P<name>[A-Za-z_]\w*) object at 0x[0-9a-fA-F]+>"
)
MAX_CONSTRUCTIONS = 3
"""Ways to build one class that are tried, in order: the repository's tests first."""


def opaque_class(value: object, owner: str | None) -> tuple[str | None, str] | None:
    """(module or None, class name) an opaque repr stands for; `owner` is the class of `self`
    (the only value a `<broken repr>` can be placed for)."""
    if not isinstance(value, str):
        return None
    match = _DEFAULT_REPR.fullmatch(value.strip())
    if match:
        return match.group("module"), match.group("name")
    if value.strip() == BROKEN_REPR and owner:
        return None, owner
    return None


@dataclass
class ObjectBuilder:
    """Builds opaque objects with the `attempt`-th construction of their class."""

    sources: Callable[[], Iterable[tuple[str, str | None, ast.Module]]]
    """The repository's Python files (path, importable module or None, tree), tests first."""
    attempt: int
    cache: dict[str, list[Construction]]
    built: list[str] = field(default_factory=list)

    def build(self, value: object, owner: str | None, namespace: Namespace) -> ast.expr | None:
        """The construction for an opaque `value`, or None when it is not one."""
        opaque = opaque_class(value, owner)
        if opaque is None:
            return None
        module, name = opaque
        known = namespace.classes.get(name)
        if known is None or (module is not None and module != known):
            raise NotRebuildable(f"{name} is not a class the frame's module knows")
        ways = [way for way in self.constructions(name) if _usable(way.call, namespace)]
        ways = ways[:MAX_CONSTRUCTIONS]
        if self.attempt >= len(ways):
            found = f"only {len(ways)} way(s)" if ways else "no way"
            raise NotRebuildable(f"{found} to build a {name} found in the repository")
        way = ways[self.attempt]
        _check_arguments(way.call, namespace)
        namespace.used.add(way.callee or (known, name))
        callee = way.callee[1] if way.callee else name
        self.built.append(f"{name} built as at {way.site}")
        return ast.Call(func=ast.Name(callee), args=way.call.args, keywords=way.call.keywords)

    def constructions(self, name: str) -> list[Construction]:
        """Distinct calls of `name(...)` in the repository, in the order of `sources`."""
        if name not in self.cache:
            self.cache[name] = _constructions(name, self.sources())
        return self.cache[name]


@dataclass(frozen=True)
class Construction:
    site: str
    call: ast.Call
    callee: tuple[str, str] | None = None
    """(module, name) of the factory called, None for the class itself."""


def _constructions(
    name: str, sources: Iterable[tuple[str, str | None, ast.Module]]
) -> list[Construction]:
    files = list(sources)
    factories = {
        node.name: module
        for _, module, tree in files
        if module is not None
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and _returns(node, name)
    }
    found: list[Construction] = []
    seen: set[str] = set()
    for path, _, tree in files:
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
        for node in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
            called = dotted(node.func).rpartition(".")[2]
            if called != name and called not in factories:
                continue
            call = ast.Call(func=ast.Name(called), args=node.args, keywords=node.keywords)
            if ast.unparse(call) not in seen:
                seen.add(ast.unparse(call))
                callee = (factories[called], called) if called != name else None
                found.append(Construction(f"{path}:{node.lineno}", node, callee))
    return found


def _returns(function: ast.FunctionDef, name: str) -> bool:
    """True when `function` is annotated to return an instance of the class `name`."""
    returns = function.returns
    if isinstance(returns, ast.Constant) and isinstance(returns.value, str):
        return returns.value.rpartition(".")[2] == name
    return returns is not None and dotted(returns).rpartition(".")[2] == name


def _usable(call: ast.Call, namespace: Namespace) -> bool:
    scratch = Namespace(classes=namespace.classes, functions=namespace.functions)
    try:
        _check_arguments(call, scratch)
    except NotRebuildable:
        return False
    return True


def _check_arguments(call: ast.Call, namespace: Namespace) -> None:
    """Arguments a test can write without the code around the call: literals, constructors of
    classes in `namespace`, and lambdas without parameters returning such values."""
    values = [*call.args, *(keyword.value for keyword in call.keywords)]
    if any(isinstance(value, ast.Starred) for value in call.args) or any(
        keyword.arg is None for keyword in call.keywords
    ):
        raise NotRebuildable("the construction unpacks arguments")
    for value in values:
        if isinstance(value, ast.Lambda):
            spec = value.args
            if spec.posonlyargs or spec.args or spec.vararg or spec.kwonlyargs or spec.kwarg:
                raise NotRebuildable("the construction passes a lambda with parameters")
            value = value.body
        check_expression(value, namespace, ast.unparse(value))

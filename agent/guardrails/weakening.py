"""Whether a change to a test file or to pytest's configuration weakens the suite.

Judged on the syntax tree, not on spelling: names are resolved through import aliases
(`import pytest as pt`, `from unittest import SkipTest as S`), simple assignments
(`sk = pytest.skip`) and `getattr(pytest, "skip")`. A test file is weakened when a change

* removes a test, or removes or alters an assertion (the assertions are compared by scope);
* lowers the number of reachable assertions of a test: an assertion under `if False:`/`if 0:`,
  after a `return`, `raise` or skip, in the dead branch of a constant condition or in a loop
  over an empty literal is not reachable;
* adds a `return` to a test function;
* adds a skip or an xfail, in any spelling (markers, calls, `raise unittest.SkipTest`,
  `raise pytest.skip.Exception`) to any scope;
* changes what pytest collects: `collect_ignore`, `collect_ignore_glob`, `pytest_plugins`,
  or any `pytest_*` hook (`pytest_collection_modifyitems`, `pytest_ignore_collect`, ...).

A change to pytest's own configuration (`[pytest]`, `[tool:pytest]`, `[tool.pytest...]` in
pytest.ini, tox.ini, setup.cfg, pyproject.toml) is refused outright: `addopts` can deselect.
"""

from __future__ import annotations

import ast
import configparser
import tomllib
from collections import Counter

_SKIP_WORDS = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "importorskip",
        "skipIf",
        "skipUnless",
        "skipTest",
        "expectedFailure",
        "SkipTest",
        "Skipped",
        "XFailed",
    }
)
_SKIP_ROOTS = frozenset({"pytest", "_pytest", "unittest", "nose", "self", "cls", "mark"})
_EXITS = frozenset({"sys.exit", "os._exit", "os.abort"})
_COLLECTION_NAMES = frozenset({"collect_ignore", "collect_ignore_glob", "pytest_plugins"})
_CONFIG_FILES = frozenset({"pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml"})

Scoped = list[tuple[str, ast.AST]]


def weakening_reasons(path: str, before_text: str, after_text: str) -> list[str]:
    """Every way the change to the Python test file `path` weakens it."""
    try:
        before = ast.parse(before_text)
    except SyntaxError:
        return []
    try:
        after = ast.parse(after_text)
    except SyntaxError:
        return [f"The change leaves the test file {path} unparseable."]
    old, new = _walk_scoped(before), _walk_scoped(after)
    reasons = [
        f"The change removes the test {name} from {path}."
        for name in sorted(_tests(old) - _tests(new))
    ]
    for scope, text in sorted(_assertions(old) - _assertions(new)):
        reasons.append(f"The change removes or alters the assertion `{text}` in {scope} of {path}.")
    reasons += _per_test_reasons(path, old, new)
    for scope, name in sorted(_skips(after, new) - _skips(before, old)):
        reasons.append(f"The change adds {name} to {scope} of the test file {path}.")
    for name in sorted({key.split("\0")[0] for key in _collection(new) - _collection(old)}):
        reasons.append(f"The change adds or changes {name} in the test file {path}.")
    return reasons


def config_reasons(path: str, before_text: str, after_text: str) -> list[str]:
    """A reason when the change alters pytest's configuration in `path`."""
    name = path.rsplit("/", 1)[-1].lower()
    if name not in _CONFIG_FILES or _pytest_section(name, before_text) == _pytest_section(
        name, after_text
    ):
        return []
    return [f"The change alters pytest's configuration in {path} (what it collects and runs)."]


def _pytest_section(name: str, text: str) -> str:
    try:
        if name == "pyproject.toml":
            return repr(tomllib.loads(text).get("tool", {}).get("pytest"))
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text)
    except (tomllib.TOMLDecodeError, configparser.Error):
        return text
    sections = [s for s in parser.sections() if s.lower() in ("pytest", "tool:pytest")]
    return repr([(s, sorted(parser.items(s))) for s in sections])


def _walk_scoped(tree: ast.Module) -> Scoped:
    """Every node with the qualified name of the function or class around it."""
    found: Scoped = []
    stack: Scoped = [("module level", tree)]
    while stack:
        scope, node = stack.pop()
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "module level" else f"{scope}.{child.name}"
            found.append((inner, child))
            stack.append((inner, child))
    return found


def _test_functions(scoped: Scoped) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        scope: node
        for scope, node in scoped
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def _tests(scoped: Scoped) -> set[str]:
    names = set(_test_functions(scoped))
    names |= {
        scope
        for scope, node in scoped
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test")
    }
    return names


def _is_assertion(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.startswith("assert") or name in ("raises", "warns", "approx", "fail")


def _assertions(scoped: Scoped) -> Counter[tuple[str, str]]:
    """Assertions by scope: `assert`, `self.assert*(...)`, `pytest.raises(...)`/`approx(...)`."""
    return Counter((scope, ast.unparse(node)) for scope, node in scoped if _is_assertion(node))


def _per_test_reasons(path: str, old: Scoped, new: Scoped) -> list[str]:
    reasons = []
    before, after = _test_functions(old), _test_functions(new)
    for scope in sorted(before.keys() & after.keys()):
        was, now = _reachable(before[scope].body), _reachable(after[scope].body)
        if now < was:
            reasons.append(
                f"The change lowers the reachable assertions of {scope} in {path} "
                f"from {was} to {now}."
            )
        if _returns(after[scope]) > _returns(before[scope]):
            reasons.append(f"The change adds a return to the test {scope} in {path}.")
    return reasons


def _returns(function: ast.AST) -> int:
    count, stack = 0, list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        count += isinstance(node, ast.Return)
        stack.extend(ast.iter_child_nodes(node))
    return count


def _count(node: ast.AST) -> int:
    return sum(1 for child in ast.walk(node) if _is_assertion(child))


def _reachable(body: list[ast.stmt]) -> int:
    return _block(body)[0]


def _block(body: list[ast.stmt]) -> tuple[int, bool]:
    """Reachable assertions in a block, and whether the block always ends it early."""
    total = 0
    for stmt in body:
        count, ends = _statement(stmt)
        total += count
        if ends:
            return total, True
    return total, False


def _statement(stmt: ast.stmt) -> tuple[int, bool]:
    match stmt:
        case ast.Return() | ast.Raise() | ast.Continue() | ast.Break():
            return 0, True
        case ast.Expr(value=ast.Call(func=func)) if _ends(func):
            return 0, True
        case (
            ast.If(test=test, body=body, orelse=orelse)
            | ast.While(test=test, body=body, orelse=orelse)
        ):
            truth = _constant_truth(test)
            if truth is False:
                return _block(orelse)
            if truth is True and isinstance(stmt, ast.If):
                return _block(body)
            (yes, yes_ends), (no, no_ends) = _block(body), _block(orelse)
            return _count(test) + yes + no, isinstance(stmt, ast.If) and yes_ends and no_ends
        case ast.With(body=body) | ast.AsyncWith(body=body):
            inner, ends = _block(body)
            return inner + sum(_count(item) for item in stmt.items), ends
        case ast.For(body=body, orelse=orelse) | ast.AsyncFor(body=body, orelse=orelse):
            if _constant_truth(stmt.iter) is False:  # `for x in []:` never runs its body
                return _block(orelse)
            return _block(body)[0] + _block(orelse)[0] + _count(stmt.iter), False
        case ast.Try(body=body, handlers=handlers, orelse=orelse, finalbody=final):
            inner = _block(body)[0] + _block(orelse)[0] + _block(final)[0]
            return inner + sum(_block(h.body)[0] for h in handlers), False
    return _count(stmt), False


def _ends(func: ast.expr) -> bool:
    dotted = _dotted(func, {})
    if dotted is None:
        return False
    parts = dotted.split(".")
    stops = parts[-1] in ("skip", "skipTest", "xfail", "fail", "exit")
    return dotted in _EXITS or (stops and (len(parts) == 1 or parts[0] in _SKIP_ROOTS))


def _constant_truth(test: ast.expr) -> bool | None:
    """The truth of a condition built only of constants (`False`, `0`, `not 1`, `1 == 2`)."""
    allowed: tuple[type[ast.AST], ...] = (ast.Constant, ast.UnaryOp, ast.BoolOp, ast.Compare)
    allowed += (ast.Tuple, ast.List, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context)
    if not all(isinstance(node, allowed) for node in ast.walk(test)):
        return None
    try:
        code = compile(ast.Expression(body=test), "<condition>", "eval")
        return bool(eval(code, {"__builtins__": {}}))  # constants only, checked above
    except Exception:  # a condition we cannot decide is not constant
        return None


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local names bound to modules or objects, by the dotted name they stand for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for _ in range(3):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                dotted = _dotted(node.value, names)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if dotted and isinstance(target, ast.Name) and target.id != dotted:
                        names[target.id] = dotted
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name an expression stands for, through aliases and constant `getattr`."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            parts.append(node.args[1].value)
            node = node.args[0]
        else:
            break
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id), *reversed(parts)])


def _skips(tree: ast.Module, scoped: Scoped) -> Counter[tuple[str, str]]:
    """Skips and xfails by scope and by the dotted name they resolve to."""
    aliases = _aliases(tree)
    found: Counter[tuple[str, str]] = Counter()
    for scope, node in scoped:
        if not isinstance(node, ast.Name | ast.Attribute | ast.Call):
            continue
        dotted = _dotted(node, aliases)
        if dotted is None:
            continue
        parts = dotted.split(".")
        if parts[-1] in _SKIP_WORDS and parts[0] in _SKIP_ROOTS:
            spelled = ast.unparse(node)
            found[scope, spelled if spelled == dotted else f"{spelled} ({dotted})"] += 1
    return found


def _collection(scoped: Scoped) -> set[str]:
    """What steers collection: every `pytest_*` hook (by its whole text), and every statement
    naming `collect_ignore`, `collect_ignore_glob` or `pytest_plugins`."""
    found: set[str] = set()
    for _, node in scoped:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "pytest_"
        ):
            found.add(f"the pytest hook {node.name}\0{ast.dump(node)}")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr | ast.Delete):
            for name in _names(node) & _COLLECTION_NAMES:
                found.add(f"{name}\0{ast.dump(node)}")
    return found


def _names(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Attribute):
            names.add(child.attr)
    return names

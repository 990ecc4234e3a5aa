"""fixloop's pytest plugin in the target's own interpreter, whatever its Python and pytest.

The target interpreters come from `FIXLOOP_TEST_TARGET_PYTHON` (paths joined with `os.pathsep`;
this interpreter when unset); `.ci/plugin-compat` sets it to virtual environments with the oldest
and the newest pytest. `FIXLOOP_TEST_OLD_PYTEST_PYTHON` names interpreters whose pytest cannot
run the plugin (too old, or failing to load it).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import tools.sandbox as sandbox_module
from agent.errors import SandboxError
from tests.support.cli import fixloop_env
from tests.support.paths import ROOT
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST, outcomes_of, write
from tests.support.sandbox import OUTCOMES as SANDBOX_OUTCOMES
from tools.sandbox import bwrap_problem, make_sandbox, pytest_report
from tools.sandbox import probe as probe_module
from tools.sandbox.probe import probe_interpreter


def _interpreters(variable: str, default: str) -> list[str]:
    paths = [path for path in os.environ.get(variable, default).split(os.pathsep) if path]
    return [os.path.abspath(path) if os.sep in path else path for path in paths]


TARGETS = _interpreters("FIXLOOP_TEST_TARGET_PYTHON", sys.executable)
TOO_OLD = _interpreters("FIXLOOP_TEST_OLD_PYTEST_PYTHON", "")
MODE = "bwrap" if bwrap_problem() is None else "subprocess"


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An interpreter without pytest: a virtual environment made without pip."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return str(venv / "bin" / "python")


def run(python: str, root: Path, tests: list[str] | None = None, *, coverage: bool = False):
    return make_sandbox(MODE, python, FAST, 120, 2048).run_tests(root, tests, coverage=coverage)


def versions(python: str) -> dict[str, str]:
    out = subprocess.run(
        [python, "-c", probe_module.VERSION_SCRIPT], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out))


OUTCOMES = (
    SANDBOX_OUTCOMES
    + """
    class TestGroup:
        def test_method(self):
            assert "a" == "b"
"""
)


def test_outcomes_under_the_target(tmp_path: Path, target: str) -> None:
    write(
        tmp_path,
        {
            "tests/test_outcomes.py": OUTCOMES,
            # A package of tests: pytest before 7 collects it as a `Package` node.
            "tests/pkg/__init__.py": "",
            "tests/pkg/test_in_package.py": "def test_here():\n    assert [1] == [2]\n",
        },
    )
    result = run(target, tmp_path)
    prefix = "tests/test_outcomes.py::"
    assert result.outcomes == {
        **outcomes_of(prefix),
        prefix + "TestGroup::test_method": "failed",
        "tests/pkg/test_in_package.py::test_here": "failed",
    }, result.output
    assert result.exit_code == 1
    assert result.failures[prefix + "test_setup_error"][-1].frames[-1].function == "broken"
    assert result.failures[prefix + "test_teardown_error"][-1].value == "teardown boom"
    assert result.failures[prefix + "TestGroup::test_method"][-1].type == "AssertionError"
    assert prefix + "test_xfail" not in result.failures
    selected = run(target, tmp_path, [prefix + "test_passes", prefix + "TestGroup::test_method"])
    assert selected.outcomes == {
        prefix + "test_passes": "passed",
        prefix + "TestGroup::test_method": "failed",
    }


PRICES = {
    "app/__init__.py": "",
    "app/prices.py": """
        def lookup(table, key):
            return table[key]


        def price(table, key):
            try:
                return lookup(table, key)
            except KeyError as missing:
                raise ValueError("no price for " + key) from missing


        def discount(amount, percent):
            if percent > 100:
                raise ValueError("too much")
            return amount - amount * percent // 100
    """,
    "tests/test_prices.py": """
        from app.prices import discount, price

        def test_price():
            table = {"apple": 3}
            price(table, "pear")

        def test_discount():
            assert discount(200, 10) == 180
    """,
}


def test_failure_chain_with_frames_and_locals_under_the_target(tmp_path: Path, target: str) -> None:
    write(tmp_path, PRICES)
    result = run(target, tmp_path)
    nodeid = "tests/test_prices.py::test_price"
    assert result.outcomes == {nodeid: "failed", "tests/test_prices.py::test_discount": "passed"}
    cause, final = result.failures[nodeid]
    assert (cause.type, cause.value, cause.module) == ("KeyError", "'pear'", None)
    assert (final.type, final.value) == ("ValueError", "no price for pear")
    assert [f.function for f in final.frames] == ["test_price", "price"]
    assert [f.function for f in cause.frames] == ["price", "lookup"]
    crash = cause.frames[-1]
    assert (crash.filename, crash.module, crash.lineno, crash.in_app) == (
        "app/prices.py",
        "app.prices",
        3,
        True,
    )
    assert crash.abs_path == str(tmp_path.resolve() / "app/prices.py")
    assert crash.context_line == "    return table[key]"
    assert crash.pre_context == ["", "def lookup(table, key):"]
    assert crash.vars == {"table": "{'apple': 3}", "key": "'pear'"}
    assert final.frames[0].vars == {"table": "{'apple': 3}"}


def test_coverage_per_test_under_the_target(tmp_path: Path, target: str) -> None:
    write(tmp_path, PRICES)
    result = run(target, tmp_path, coverage=True)
    covered = result.coverage["tests/test_prices.py::test_discount"]
    assert set(covered) == {"app/prices.py", "tests/test_prices.py"}
    # discount's check and its return ran; its raise and the other functions' bodies did not.
    assert {14, 16} <= set(covered["app/prices.py"])
    assert not {3, 7, 8, 9, 10, 15} & set(covered["app/prices.py"])
    assert 3 in result.coverage["tests/test_prices.py::test_price"]["app/prices.py"]


RENDERED = {
    "app/__init__.py": "",
    "app/money.py": """
        class Money:
            def __init__(self, cents):
                self.cents = cents

            def __eq__(self, other):
                return self.cents == other.cents

            def __repr__(self):
                return f"Money({self.cents})"
    """,
    "tests/test_money.py": """
        import unittest

        from app.money import Money

        def test_equal():
            assert Money(1) == Money(2)

        def test_repr():
            assert repr(Money(1)) == "Money(1)"

        class MoneyCase(unittest.TestCase):
            def test_equal(self):
                self.assertEqual(Money(1), Money(2))
    """,
}


def test_coverage_leaves_out_what_rendering_a_failure_runs(tmp_path: Path, target: str) -> None:
    write(tmp_path, RENDERED)
    result = run(target, tmp_path, coverage=True)
    failing = ["tests/test_money.py::test_equal", "tests/test_money.py::MoneyCase::test_equal"]
    assert [result.outcomes[test] for test in failing] == ["failed", "failed"]
    for test in failing:
        money = set(result.coverage[test]["app/money.py"])
        # The comparison ran; the repr that describes the failed assertion did not count.
        assert 7 in money, test
        assert 10 not in money, test
    assert 10 in result.coverage["tests/test_money.py::test_repr"]["app/money.py"]


def test_a_failed_subtest_fails_its_test(tmp_path: Path, target: str) -> None:
    write(
        tmp_path,
        {
            "tests/test_sub.py": """
                import unittest

                class Words(unittest.TestCase):
                    def test_each(self):
                        for word in ["a", "b"]:
                            with self.subTest(word=word):
                                self.assertEqual(word, "a")

                    def test_all_pass(self):
                        for word in ["a", "a"]:
                            with self.subTest(word=word):
                                self.assertEqual(word, "a")
            """
        },
    )
    result = run(target, tmp_path)
    assert result.outcomes == {
        "tests/test_sub.py::Words::test_each": "failed",
        "tests/test_sub.py::Words::test_all_pass": "passed",
    }
    assert result.failures["tests/test_sub.py::Words::test_each"][-1].type == "AssertionError"


def test_collection_error_is_the_import_error_under_the_target(tmp_path: Path, target: str) -> None:
    write(tmp_path, {"tests/test_broken.py": "import no_such_module_here\n"})
    result = run(target, tmp_path)
    assert result.outcomes == {"tests/test_broken.py": "error"}
    error = result.failures["tests/test_broken.py"][-1]
    assert error.type == "ModuleNotFoundError"
    # Frames of the import machinery (frozen into the interpreter from 3.11) are not the app's.
    assert [f.filename for f in error.frames if f.in_app] == ["tests/test_broken.py"]
    assert result.exit_code == 2


def test_probe_names_the_versions_and_loads_the_plugin(target: str) -> None:
    expected = versions(target)
    info = probe_interpreter(target)
    assert (info.python, info.problem, info.plugin_loads) == (target, None, True)
    assert (info.python_version, info.pytest_version) == (expected["python"], expected["pytest"])


def test_an_interpreter_without_pytest_is_a_one_line_error(
    tmp_path: Path, bare_python: str
) -> None:
    python = bare_python
    write(tmp_path / "tree", {"test_ok.py": "def test_ok():\n    pass\n"})

    with pytest.raises(SandboxError) as raised:
        run(python, tmp_path / "tree")

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"cannot run the tests: {python} (Python 3.")
    assert "has no pytest" in message
    info = probe_interpreter(python)
    assert (info.pytest_version, info.plugin_loads) == (None, False)
    assert info.python_version == "{}.{}.{}".format(*sys.version_info[:3])


@pytest.mark.skipif(not TOO_OLD, reason="FIXLOOP_TEST_OLD_PYTEST_PYTHON is not set")
@pytest.mark.parametrize("python", TOO_OLD)
def test_a_pytest_that_cannot_run_the_plugin_is_a_one_line_error(
    tmp_path: Path, python: str
) -> None:
    old = versions(python)["pytest"]
    write(tmp_path, {"test_ok.py": "def test_ok():\n    pass\n"})

    with pytest.raises(SandboxError) as raised:
        run(python, tmp_path)

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("cannot run the tests: ")
    assert f"pytest {old} under {python}" in message
    info = probe_interpreter(python)
    assert (info.pytest_version, info.plugin_loads) == (old, False)
    assert info.problem is not None and info.problem in message


def test_a_run_whose_interpreter_cannot_run_the_plugin_ends_in_one_line(
    tmp_path: Path, bare_python: str
) -> None:
    """The baseline of `fixloop run` says why, naming the interpreter, never an empty suite."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit(
        {
            "calc.py": "def growth(before, after):\n    return after / before\n",
            "tests/test_calc.py": "from calc import growth\n\n"
            "def test_growth():\n    assert growth(0, 3) == float('inf')\n",
        },
        "initial",
    )
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps({"kind": "test_failure", "tests": ["tests/test_calc.py::test_growth"]})
    )
    command = [sys.executable, "-m", "agent.service.cli", "run", "--repo", str(repo.path)]
    for number, python in enumerate([bare_python, *TOO_OLD[:1]]):
        result = subprocess.run(
            [*command, "--event", str(event)],
            env={
                **fixloop_env(tmp_path / f"state-{number}"),
                "FIXLOOP_PYTHON": python,
                "FIXLOOP_SANDBOX": "subprocess",
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.startswith("fixloop: cannot run the tests: ")
        assert result.stderr.count("\n") == 1, result.stderr
        assert python in result.stderr
        found = versions(python).get("pytest")
        assert ("has no pytest" if found is None else f"pytest {found} under") in result.stderr


def test_a_crashing_hook_is_an_error_not_an_empty_suite(tmp_path: Path, target: str) -> None:
    write(
        tmp_path,
        {
            "conftest.py": """
                def pytest_runtest_logreport(report):
                    raise RuntimeError("hook exploded")
            """,
            "test_ok.py": "def test_ok():\n    pass\n",
        },
    )
    found = versions(target)
    with pytest.raises(SandboxError) as raised:
        run(target, tmp_path)
    assert str(raised.value) == (
        f"pytest {found['pytest']} (Python {found['python']}) stopped with an internal error "
        f"in the {MODE} sandbox: RuntimeError: hook exploded"
    )


def test_the_plugin_refuses_a_pytest_older_than_it_supports() -> None:
    plugin = (Path(sandbox_module.PLUGIN_DIR) / "pytest_report.py").read_text()
    assert "MIN_PYTEST = (5, 0)" in plugin
    assert probe_module.MIN_PYTEST == (5, 0)
    assert probe_module.version_tuple("4.6.11") < (5, 0) <= probe_module.version_tuple("5.0.1")
    assert probe_module.version_tuple("8.1.0rc1") == (8, 1, 0)
    assert probe_module.version_tuple("9.0.0.dev12+g1a2b") == (9, 0, 0)
    for text in ("4.6.11", "5.0", "8.1.0rc1", "9.0.0.dev12+g1a2b", "10", "x"):
        assert pytest_report._version(text) == probe_module.version_tuple(text)


def test_the_rootdir_of_a_pytest_before_6_1_is_read_from_config_rootdir(tmp_path: Path) -> None:
    class LegacyPath:  # what pytest < 6.1 keeps in `config.rootdir` (a py.path.local)
        def __str__(self) -> str:
            return str(tmp_path)

    assert pytest_report.rootpath(SimpleNamespace(rootdir=LegacyPath())) == tmp_path
    assert pytest_report.rootpath(SimpleNamespace(rootpath=tmp_path, rootdir=None)) == tmp_path


# What runs inside the target interpreter must read as Python 3.8 and use nothing newer.

NEWER_MODULES = {"zoneinfo", "graphlib", "tomllib", "_pytest.legacypath"}
NEWER_IN_MODULE = {
    "functools": {"cache"},
    "math": {"lcm", "nextafter", "ulp", "cbrt", "exp2"},
    "typing": {
        "Annotated",
        "ParamSpec",
        "TypeAlias",
        "TypeGuard",
        "Concatenate",
        "Self",
        "LiteralString",
        "Never",
        "Unpack",
        "TypeVarTuple",
        "assert_never",
        "assert_type",
        "reveal_type",
        "dataclass_transform",
        "override",
        "is_typeddict",
    },
    "itertools": {"pairwise", "batched"},
    "os": {"waitstatus_to_exitcode", "pidfd_open"},
    "sys": {"platlibdir", "orig_argv", "stdlib_module_names", "exception"},
    "asyncio": {"to_thread", "TaskGroup", "timeout", "Runner"},
    "random": {"randbytes"},
    "contextlib": {"chdir", "aclosing"},
    "operator": {"call"},
    "inspect": {"get_annotations", "markcoroutinefunction"},
    "datetime": {"UTC"},
    "enum": {"StrEnum", "verify", "global_enum"},
    "hashlib": {"file_digest"},
}
NEWER_METHODS = {
    "removeprefix",  # str/bytes, 3.9
    "removesuffix",
    "is_relative_to",  # pathlib, 3.9
    "with_stem",
    "hardlink_to",  # 3.10
    "bit_count",  # int, 3.10
    "add_note",  # exceptions, 3.11
}
NEWER_BUILTINS = {"aiter", "anext", "ExceptionGroup", "BaseExceptionGroup", "EncodingWarning"}
GENERIC_BUILTINS = {"list", "dict", "set", "frozenset", "tuple", "type"}


def newer_than_38(source: str) -> list[str]:
    """What in `source` needs a Python newer than 3.8 at run time, as readable findings.

    Syntax comes from the parser; the rest is a walk that skips annotations when the module
    defers them (`from __future__ import annotations`), since those are never evaluated.
    """
    try:
        tree = ast.parse(source, feature_version=(3, 8))
    except SyntaxError as error:
        return [f"syntax newer than 3.8: line {error.lineno}: {error.msg}"]
    deferred = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    skipped = _annotation_nodes(tree) if deferred else set()
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) not in skipped:
            found.extend(_newer_node(node))
    return found


def _annotation_nodes(tree: ast.AST) -> set[int]:
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
    return {id(inner) for root in roots for inner in ast.walk(root)}


def _newer_node(node: ast.AST) -> list[str]:
    where = f"line {getattr(node, 'lineno', '?')}"
    if isinstance(node, ast.Import):
        return [f"{where}: import {a.name}" for a in node.names if a.name in NEWER_MODULES]
    if isinstance(node, ast.ImportFrom):
        newer = NEWER_IN_MODULE.get(node.module or "", set())
        found = [
            f"{where}: from {node.module} import {a.name}" for a in node.names if a.name in newer
        ]
        return found + ([f"{where}: from {node.module}"] if node.module in NEWER_MODULES else [])
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        if owner is not None and node.attr in NEWER_IN_MODULE.get(owner, set()):
            return [f"{where}: {owner}.{node.attr}"]
        return [f"{where}: .{node.attr}()"] if node.attr in NEWER_METHODS else []
    if isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
        return [f"{where}: {node.id}"]
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id in GENERIC_BUILTINS
    ):
        return [f"{where}: {node.value.id}[...] evaluated at run time"]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if any(_is_type(side) for side in (node.left, node.right)):
            return [f"{where}: X | Y of types evaluated at run time"]
        if any(isinstance(side, ast.Dict) for side in (node.left, node.right)):
            return [f"{where}: dict | dict"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "zip":
        return [f"{where}: zip(strict=...)" for k in node.keywords if k.arg == "strict"]
    return []


def _is_type(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Name):
        return node.id in GENERIC_BUILTINS | {"int", "str", "bytes", "float", "bool", "object"}
    return isinstance(node, ast.Subscript)


def target_side_sources() -> dict[str, str]:
    """Every piece of fixloop's code that runs in the target's interpreter."""
    plugin = Path(sandbox_module.PLUGIN_DIR) / "pytest_report.py"
    return {
        "pytest_report.py": plugin.read_text(encoding="utf-8"),
        "probe.VERSION_SCRIPT": probe_module.VERSION_SCRIPT,
        "sandbox.PREFIX_SCRIPT": sandbox_module.PREFIX_SCRIPT,
    }


@pytest.mark.parametrize("name", sorted(target_side_sources()))
def test_target_side_code_reads_as_python_38(name: str) -> None:
    assert newer_than_38(target_side_sources()[name]) == []


@pytest.mark.parametrize(
    ("source", "finding"),
    [
        ("match x:\n    case 1:\n        pass\n", "syntax newer than 3.8"),
        ("def f(x):\n    return x.removeprefix('a')\n", ".removeprefix()"),
        ("import functools\n\n@functools.cache\ndef f():\n    pass\n", "functools.cache"),
        ("from functools import cache\n", "from functools import cache"),
        ("import tomllib\n", "import tomllib"),
        ("X = list[int]\n", "list[...] evaluated"),
        ("def f(x: list[int]) -> None:\n    pass\n", "list[...] evaluated"),
        ("isinstance(1, int | None)\n", "X | Y of types"),
        ("merged = {} | {'a': 1}\n", "dict | dict"),
        ("pairs = list(zip([1], [2], strict=True))\n", "zip(strict=...)"),
    ],
)
def test_the_38_check_finds_what_is_newer(source: str, finding: str) -> None:
    assert any(finding in item for item in newer_than_38(source)), newer_than_38(source)


def test_the_38_check_leaves_deferred_annotations_alone() -> None:
    source = """\
from __future__ import annotations

def f(x: list[int] | None) -> dict[str, int]:
    y: set[str] = set()
    return {}
"""
    assert newer_than_38(source) == []


HANGS = """
    import signal, threading, time

    def spin(n):
        while n >= 0:
            n = n

    def wait_for_itself():
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()

    def test_first():
        pass

    def test_spins():
        spin(3)

    def test_deadlocks_and_catches_everything():
        try:
            wait_for_itself()
        except Exception:
            pass

    def test_after():
        assert 1 == 2
"""


def test_a_hanging_test_is_cut_with_the_stack_where_it_hung(tmp_path: Path, target: str) -> None:
    """Each hang ends at the per-test timeout as `timeout`, and the suite goes on."""
    write(tmp_path, {"tests/test_hangs.py": HANGS})
    sandbox = make_sandbox(MODE, target, FAST, 120, 2048, per_test_timeout=2)
    run = sandbox.run_tests(tmp_path)
    prefix = "tests/test_hangs.py::"
    assert run.outcomes == {
        prefix + "test_first": "passed",
        prefix + "test_spins": "timeout",
        prefix + "test_deadlocks_and_catches_everything": "timeout",
        prefix + "test_after": "failed",
    }
    assert not run.timed_out and run.exit_code == 1
    assert run.duration < 60
    spin = run.failures[prefix + "test_spins"]
    assert [e.type for e in spin] == ["TestTimeout"]
    assert "timeout of 2s" in spin[0].value
    test, hung = spin[0].frames
    assert (test.function, test.context_line) == ("test_spins", "    spin(3)")
    # Where in the loop the signal lands depends on the interpreter's bytecode.
    assert hung.function == "spin" and hung.context_line in ("    while n >= 0:", "        n = n")
    assert spin[0].frames[-1].vars == {"n": "3"}
    assert spin[0].frames[-1].filename == "tests/test_hangs.py"
    deadlock = run.failures[prefix + "test_deadlocks_and_catches_everything"][0].frames
    assert [(f.function, f.lineno) for f in deadlock][-1] == ("wait_for_itself", 11)
    assert run.failed() == {
        prefix + "test_spins",
        prefix + "test_deadlocks_and_catches_everything",
        prefix + "test_after",
    }


def test_a_hang_the_signal_cannot_break_is_cut_by_the_watchdog(tmp_path: Path) -> None:
    """A test that ignores SIGALRM: pytest ends a few seconds later, with the stack recorded."""
    write(
        tmp_path,
        {
            "test_stubborn.py": """
                import signal, time

                def test_first():
                    pass

                def test_ignores_alarms():
                    signal.signal(signal.SIGALRM, signal.SIG_IGN)
                    time.sleep(600)
            """
        },
    )
    run = make_sandbox(MODE, sys.executable, FAST, 120, 2048, per_test_timeout=1).run_tests(
        tmp_path
    )
    assert not run.timed_out and run.duration < 30
    assert run.outcomes == {
        "test_stubborn.py::test_first": "passed",
        "test_stubborn.py::test_ignores_alarms": "timeout",
    }
    frames = run.failures["test_stubborn.py::test_ignores_alarms"][0].frames
    assert [(f.function, f.context_line) for f in frames] == [
        ("test_ignores_alarms", "    time.sleep(600)")
    ]


def test_without_a_per_test_timeout_a_hang_costs_the_whole_run(tmp_path: Path) -> None:
    write(tmp_path, {"test_hang.py": "import time\n\ndef test_hangs():\n    time.sleep(600)\n"})
    run = make_sandbox(MODE, sys.executable, FAST, 3, 2048).run_tests(tmp_path)
    assert run.timed_out and run.outcomes == {}

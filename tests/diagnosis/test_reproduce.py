"""Reproduction: captured locals rebuilt into a test that fails like the incident did."""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from pathlib import Path

import pytest

from agent.diagnosis.reproduce import (
    NotRebuildable,
    build_reproduction,
    check_reproduction,
    make_reproduction,
    module_name,
    rebuild_value,
)
from agent.domain import ExceptionInfo, Frame, Incident
from agent.ports import Repo, Sandbox
from agent.proof.prove import run_baseline
from agent.proof.workbench import Workbench
from tests.support.repo_builder import RepoBuilder
from tests.support.sandbox import FAST
from tools.git_repo import GitRepo
from tools.sandbox import make_sandbox

BUGGY = textwrap.dedent(
    """\
    class Account:
        def withdraw(self, amount):
            return 100 // amount


    def ratio(a, /, b, *, scale=1):
        return a * scale / b


    def label(name, *parts, sep="-", **extra):
        return sep.join([name, *parts]) + extra["suffix"]
    """
)
FIXED = BUGGY.replace(
    "    return a * scale / b", "    if b == 0:\n        return 0.0\n    return a * scale / b"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, str]:
    builder = RepoBuilder(tmp_path_factory.mktemp("project"))
    test = "from app.calc import ratio\n\n\ndef test_ratio():\n    assert ratio(6, 3) == 2\n"
    files = {"app/__init__.py": "", "app/calc.py": BUGGY, "tests/test_calc.py": test}
    buggy = builder.commit(files, "ratio without a zero guard")
    fixed = builder.commit({"app/calc.py": FIXED}, "guard ratio against b == 0")
    return GitRepo(builder.path), buggy, fixed


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox("auto", sys.executable, FAST, 30, 2048)


def incident(
    function: str,
    variables: dict[str, object],
    crash_type: str = "ZeroDivisionError",
    incident_id: str = "inc-42",
    title: str = "ZeroDivisionError: division by zero",
) -> Incident:
    """A Sentry-shaped incident whose crash frame is `function` in app/calc.py."""
    frames = [
        Frame(filename="app/views.py", function="report", lineno=10, in_app=True),
        Frame(
            filename="app/calc.py",
            abs_path="/srv/www/app/calc.py",
            module="app.calc",
            function=function,
            lineno=7,
            context_line="    return a * scale / b",
            vars=variables,
            in_app=True,
        ),
    ]
    crash = ExceptionInfo(type=crash_type, value="division by zero", frames=frames)
    return Incident(id=incident_id, source="sentry_event", fingerprint="fp", title=title,
                    exceptions=[crash])  # fmt: skip


def repo_of(project: tuple[GitRepo, str, str]) -> Repo:
    return project[0]


# Sentry serializes frame locals as JSON whose strings are reprs.
SENTRY_VARS: dict[str, object] = {"a": 3, "b": 0, "scale": 1, "note": "'bob'"}


def test_rebuild_sentry_shaped_values() -> None:
    assert rebuild_value("'bob'") == "bob"
    assert rebuild_value(3) == 3
    assert rebuild_value(2.5) == 2.5
    assert rebuild_value(True) is True
    assert rebuild_value(None) is None
    assert rebuild_value(["'a'", 1, None, ["'b'"]]) == ["a", 1, None, ["b"]]
    assert rebuild_value({"name": "'bob'", "age": 7, "tags": ["'x'"]}) == {
        "name": "bob",
        "age": 7,
        "tags": ["x"],
    }


def test_rebuild_repr_shaped_values() -> None:
    assert rebuild_value("[1, 2]") == [1, 2]
    assert rebuild_value("{'a': (1, 2), 3: None}") == {"a": (1, 2), 3: None}
    assert rebuild_value("{1, 2}") == {1, 2}
    assert rebuild_value("b'raw'") == b"raw"
    assert rebuild_value("-0.5") == -0.5
    assert rebuild_value("None") is None


@pytest.mark.parametrize(
    "value",
    [
        "'a very long string that the reporter cut off...",
        "[1, 2, 3, 4, ...",
        "'abc'...",
        "[Filtered]",
        ["'ok'", "[Filtered]"],
        "<app.models.User object at 0x7f00>",
        "datetime.date(2024, 1, 1)",
        "1e999",
        float("nan"),
        float("inf"),
        {"nested": "<Lock>"},
        ("a", "tuple"),
        object(),
    ],
)
def test_values_that_cannot_be_rebuilt_are_refused(value: object) -> None:
    with pytest.raises(NotRebuildable):
        rebuild_value(value)


def test_module_names() -> None:
    assert module_name("app/calc.py") == "app.calc"
    assert module_name("src/pkg/sub/mod.py") == "pkg.sub.mod"
    assert module_name("pkg/__init__.py") == "pkg"
    with pytest.raises(NotRebuildable):
        module_name("scripts/my-tool.py")


def test_the_reproduction_fails_on_the_buggy_code_and_passes_on_the_fix(
    project: tuple[GitRepo, str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    _, buggy, fixed = project
    crash = incident("ratio", SENTRY_VARS)
    reproduction = build_reproduction(crash, repo_of(project), buggy)
    assert reproduction is not None
    assert reproduction.filename == "test_fixloop_repro_inc_42.py"
    assert reproduction.nodeid == "test_fixloop_repro_inc_42.py::test_reproduces_inc_42"
    assert (reproduction.target_file, reproduction.target_function) == ("app/calc.py", "ratio")
    assert reproduction.reproduced is False
    assert "from app.calc import ratio\n" in reproduction.source
    assert "    ratio(3, b=0, scale=1)\n" in reproduction.source  # `a` is positional-only
    docstring = ast.get_docstring(ast.parse(reproduction.source)) or ""
    assert "incident inc-42" in docstring
    assert "app/calc.py:7 in ratio (ZeroDivisionError: division by zero)" in docstring

    before = run_baseline(Workbench(repo_of(project), sandbox, tmp_path / "a"), buggy, reproduction)
    assert before.must_fail is not None
    checked = check_reproduction(reproduction, before.must_fail, crash)
    assert checked.reproduced is True
    assert checked.reason == "fails with ZeroDivisionError as in the incident"

    wrong_type = incident("ratio", SENTRY_VARS, crash_type="builtins.KeyError")
    mismatch = check_reproduction(reproduction, before.must_fail, wrong_type)
    assert (mismatch.reproduced, mismatch.reason) == (
        False,
        "fails with ZeroDivisionError, not KeyError",
    )

    after = run_baseline(Workbench(repo_of(project), sandbox, tmp_path / "b"), fixed, reproduction)
    assert after.must_fail is not None
    assert after.must_fail.outcomes == {reproduction.nodeid: "passed"}
    passing = check_reproduction(reproduction, after.must_fail, crash)
    assert passing.reproduced is False
    assert passing.reason == (
        "passes on the base commit: the captured arguments do not trigger the crash"
    )


def test_fixloop_plugin_failures_reproduce_too(
    project: tuple[GitRepo, str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    """The sandbox's own report (plain repr strings) feeds reproduction like a Sentry event."""
    repo, buggy, _ = project
    tree = tmp_path / "probe"
    repo.add_worktree(tree, buggy)
    try:
        (tree / "tests" / "test_label.py").write_text(
            "from app.calc import label\n\n\n"
            "def test_label():\n    label('x', 'y', sep='+', mode=[1, 2])\n"
        )
        run = sandbox.run_tests(tree, ["tests/test_label.py"])
    finally:
        repo.remove_worktree(tree)
    chain = run.failures["tests/test_label.py::test_label"]
    assert chain[-1].frames[-1].vars["parts"] == "('y',)"
    failure = Incident(
        id="ci-7", source="test_failure", fingerprint="fp", title="KeyError", exceptions=chain
    )
    reproduction = build_reproduction(failure, repo_of(project), buggy)
    assert reproduction is not None
    assert "    label('x', *('y',), sep='+', **{'mode': [1, 2]})\n" in reproduction.source
    baseline = run_baseline(
        Workbench(repo_of(project), sandbox, tmp_path / "c"), buggy, reproduction
    )
    assert baseline.must_fail is not None
    checked = check_reproduction(reproduction, baseline.must_fail, failure)
    assert checked.reason == "fails with KeyError as in the incident"


def test_a_method_whose_self_cannot_be_rebuilt_gives_no_reproduction(
    project: tuple[GitRepo, str, str],
) -> None:
    _, buggy, _ = project
    crash = incident("withdraw", {"self": "<app.calc.Account object at 0x1>", "amount": 0})
    repo = repo_of(project)
    assert build_reproduction(crash, repo, buggy) is None
    with pytest.raises(NotRebuildable, match="in withdraw: 'self': not a Python literal"):
        make_reproduction(crash, repo, buggy)


@pytest.mark.parametrize(
    ("function", "variables", "reason"),
    [
        ("<genexpr>", SENTRY_VARS, "<genexpr> is not a module-level function or a method"),
        ("ratio", {}, "no local variables were captured"),
        ("ratio", {"a": 3, "scale": 1}, "parameter 'b' was not captured"),
        ("ratio", {"a": "<Decimal>", "b": 0, "scale": 1}, "parameter 'a': not a Python literal"),
        ("ratio", {"a": 3, "b": "'0000...", "scale": 1}, "parameter 'b': value looks truncated"),
    ],
)
def test_other_refusals_say_why(
    project: tuple[GitRepo, str, str], function: str, variables: dict[str, object], reason: str
) -> None:
    _, buggy, _ = project
    crash = incident(function, variables)
    with pytest.raises(NotRebuildable, match=re.escape(reason)):
        make_reproduction(crash, repo_of(project), buggy)


def test_a_parameter_is_never_filled_from_its_default(project: tuple[GitRepo, str, str]) -> None:
    """The value the crash saw may not be the default: without it there is no call to make."""
    _, buggy, _ = project
    crash = incident("ratio", {"a": 3, "b": 0})
    with pytest.raises(NotRebuildable, match="parameter 'scale' was not captured"):
        make_reproduction(crash, repo_of(project), buggy)


def test_incident_text_cannot_break_out_of_the_test_file(project: tuple[GitRepo, str, str]) -> None:
    _, buggy, _ = project
    hostile = 'boom"""\nimport os; os.system("rm -rf /")\n"""\\N{'
    crash = incident("ratio", SENTRY_VARS, incident_id="../../etc/x y", title=hostile)
    reproduction = make_reproduction(crash, repo_of(project), buggy)
    assert reproduction.filename == "test_fixloop_repro_______etc_x_y.py"
    tree = ast.parse(reproduction.source)
    assert [type(node).__name__ for node in tree.body] == [
        "Expr",
        "Import",
        "ImportFrom",
        "FunctionDef",
    ]
    assert "os.system" in (ast.get_docstring(tree) or "")

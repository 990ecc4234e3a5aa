"""The mutation engine: each operator on a small function, and the engine on a real git repo
where a failing test reaches the faulty function through a call."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.domain import Diagnosis, ExceptionInfo, Incident, Reproduction, Suspect
from agent.repair import RepairContext
from agent.repair.mutations import MutationEngine
from agent.repair.operators import (
    OPERATORS,
    Operator,
    arithmetic_operators,
    boolean_negation,
    compare_operators,
    dropped_value,
    missing_return,
    mutable_default,
    off_by_one,
    other_variable,
    sibling_statement,
    swapped_arguments,
)
from agent.repair.pysource import FUNCTIONS, PySource
from agent.repair.targets import find_targets
from tests.support.repo_builder import RepoBuilder
from tools.git_repo import GitRepo


def mutants(operator: Operator, source: str) -> list[str]:
    code = PySource(source)
    func = next(n for n in ast.walk(code.tree) if isinstance(n, FUNCTIONS))
    return [m.after for m in operator(code, func)]


@pytest.mark.parametrize(
    ("operator", "source", "expected"),
    [
        (
            compare_operators,
            "def f(a, b):\n    return a < b\n",
            "def f(a, b):\n    return a <= b\n",
        ),
        (
            compare_operators,
            "def f(a):\n    return a is None\n",
            "def f(a):\n    return a is not None\n",
        ),
        (
            arithmetic_operators,
            "def f(a, b):\n    return (a + b) * 2\n",
            "def f(a, b):\n    return (a - b) * 2\n",
        ),
        (
            arithmetic_operators,
            "def f(a):\n    a += 1\n    return a\n",
            "def f(a):\n    a -= 1\n    return a\n",
        ),
        (
            off_by_one,
            "def f(xs):\n    return xs[: len(xs)]\n",
            "def f(xs):\n    return xs[: len(xs) - 1]\n",
        ),
        (
            off_by_one,
            "def f(n):\n    return list(range(n))\n",
            "def f(n):\n    return list(range(n + 1))\n",
        ),
        (off_by_one, "def f(n):\n    return n >= 10\n", "def f(n):\n    return n >= 11\n"),
        (
            boolean_negation,
            "def f(a):\n    if a:\n        return 1\n    return 2\n",
            "def f(a):\n    if not a:\n        return 1\n    return 2\n",
        ),
        (
            boolean_negation,
            "def f(a):\n    return 1 if not a else 2\n",
            "def f(a):\n    return 1 if a else 2\n",
        ),
        (
            dropped_value,
            "def f(a):\n    if a:\n        a * 2\n    return a\n",
            "def f(a):\n    if a:\n        return a * 2\n    return a\n",
        ),
        (
            missing_return,
            "def f(a) -> int:\n    total = a * 2\n",
            "def f(a) -> int:\n    total = a * 2\n    return total\n",
        ),
        (
            mutable_default,
            'def send(to, headers={}):\n    """Send."""\n'
            '    headers["To"] = to\n    return headers\n',
            'def send(to, headers=None):\n    """Send."""\n'
            "    if headers is None:\n        headers = {}\n"
            '    headers["To"] = to\n    return headers\n',
        ),
        (
            swapped_arguments,
            "def f(a, b):\n    return g(a, b)\n",
            "def f(a, b):\n    return g(b, a)\n",
        ),
    ],
)
def test_each_operator_makes_its_mutant(operator: Operator, source: str, expected: str) -> None:
    assert expected in mutants(operator, source)


def test_other_variable_keeps_kinds_apart() -> None:
    source = (
        "def tax(item: Item, region: str, rate: float) -> float:\n"
        "    net = item.price - item.discount\n"
        "    gross = item.price\n"
        "    return gross * rate\n"
    )
    found = mutants(other_variable, source)
    assert source.replace("return gross * rate", "return net * rate") in found
    assert source.replace("return gross * rate", "return gross * net") in found
    assert not any("return region" in text or "return item *" in text for text in found)


def test_other_variable_offers_arithmetic_written_elsewhere() -> None:
    source = (
        "def line(total, discount):\n"
        "    tax = percent(total, 20)\n"
        "    return {'net': total - discount, 'tax': tax}\n"
    )
    expected = source.replace("percent(total, 20)", "percent(total - discount, 20)")
    assert expected in mutants(other_variable, source)


def test_sibling_statement_copies_what_the_other_branch_does() -> None:
    source = (
        "def label(order):\n"
        "    if order.express:\n"
        "        order.notify()\n"
        "        text = 'express'\n"
        "    else:\n"
        "        text = 'standard'\n"
        "    return text\n"
    )
    expected = source.replace(
        "        text = 'standard'\n", "        text = 'standard'\n        order.notify()\n"
    )
    assert expected in mutants(sibling_statement, source)


def test_every_mutant_parses_and_differs() -> None:
    source = (
        "def window(values: list[int], size: int) -> list[int]:\n"
        "    out = []\n"
        "    for start in range(len(values) - size + 1):\n"
        "        if values[start] > 0 and size != 0:\n"
        "            out.append(sum(values[start : start + size]) // size)\n"
        "    return out\n"
    )
    for operator in OPERATORS:
        for text in mutants(operator, source):
            assert text != source
            ast.parse(text)


PRICING = """SHIPPING_CENTS = 490
FREE_FROM_CENTS = 5000


def shipping_cents(subtotal: int) -> int:
    if subtotal >= FREE_FROM_CENTS:
        return 0
    return SHIPPING_CENTS


def total_cents(items: list[int]) -> int:
    subtotal = sum(items)
    return subtotal + shipping_cents(subtotal)
"""
TESTS = """from shop.pricing import total_cents


def test_free_shipping_from_fifty_euros():
    assert total_cents([5000]) == 5000


def test_small_orders_pay_shipping():
    assert total_cents([100]) == 590
"""


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str]:
    """A repository whose last code commit turned `>=` into `>` in `shipping_cents`."""
    builder = RepoBuilder(tmp_path_factory.mktemp("shop"))
    builder.commit(
        {"shop/__init__.py": "", "shop/pricing.py": PRICING, "tests/test_pricing.py": TESTS},
        "shop: pricing",
    )
    builder.commit({"shop/pricing.py": PRICING.replace(">= FREE", "> FREE")}, "pricing: tidy")
    builder.commit({"README.md": "# shop\n"}, "README")
    repo = GitRepo(builder.path)
    return repo, repo.head("main")


def context(repo: GitRepo, rev: str, **incident: object) -> RepairContext:
    fields: dict[str, object] = {
        "id": "inc-1",
        "source": "test_failure",
        "fingerprint": "fp",
        "title": "test failed",
        "failing_tests": ["tests/test_pricing.py::test_free_shipping_from_fifty_euros"],
        "exceptions": [ExceptionInfo(type="AssertionError", value="assert 5490 == 5000")],
    }
    fields.update(incident)
    return RepairContext(
        incident=Incident.model_validate(fields),
        diagnosis=Diagnosis(),
        repo=repo,
        code_index=None,  # type: ignore[arg-type]
        rev=rev,
        limit=200,
    )


def test_targets_follow_the_failing_test_into_the_code(regression: tuple[GitRepo, str]) -> None:
    repo, rev = regression
    targets = find_targets(context(repo, rev))
    assert [(t.path, t.qualname, t.distance) for t in targets] == [
        ("shop/pricing.py", "total_cents", 0),
        ("shop/pricing.py", "shipping_cents", 1),
    ]
    shipping = targets[1]
    assert list(shipping.changed) == [6], "only the line of the later commit counts as changed"


def test_the_recently_changed_line_is_mutated_first(regression: tuple[GitRepo, str]) -> None:
    repo, rev = regression
    patches = MutationEngine().candidates(context(repo, rev))
    first = patches[0]
    assert first.engine == "mutations" and first.rank == 1
    assert "if subtotal >= FREE_FROM_CENTS:" in first.files[0].after
    assert first.changed_lines == 2
    assert "shop/pricing.py:6" in first.rationale
    assert all(p.files[0].path == "shop/pricing.py" for p in patches), "tests are never mutated"
    shapes = {ast.dump(ast.parse(p.files[0].after)) for p in patches}
    assert len(shapes) == len(patches), "equivalent mutants are removed"
    assert [p.rank for p in patches] == list(range(1, len(patches) + 1))


def test_budget_and_tried_candidates(regression: tuple[GitRepo, str]) -> None:
    repo, rev = regression
    ctx = context(repo, rev)
    all_patches = MutationEngine().candidates(ctx)
    assert len(MutationEngine().candidates(ctx.__class__(**{**ctx.__dict__, "limit": 3}))) == 3
    tried = frozenset(p.id for p in all_patches[:2])
    rest = MutationEngine().candidates(ctx.__class__(**{**ctx.__dict__, "tried": tried}))
    assert [p.id for p in rest] == [p.id for p in all_patches[2:]]


def test_no_mutants_without_a_failing_test(regression: tuple[GitRepo, str]) -> None:
    repo, rev = regression
    crash = ExceptionInfo(type="ZeroDivisionError", value="division by zero")
    ctx = context(repo, rev, source="sentry_event", failing_tests=[], exceptions=[crash])
    assert MutationEngine().candidates(ctx) == []


def test_a_crash_gets_only_missing_return_mutants(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "shop")
    dropped = PRICING.replace("        return 0\n", "        subtotal * 0\n")
    builder.commit(
        {"shop/__init__.py": "", "shop/pricing.py": dropped, "tests/test_pricing.py": TESTS},
        "shop: pricing",
    )
    repo = GitRepo(builder.path)
    crash = ExceptionInfo(type="TypeError", value="unsupported operand")
    patches = MutationEngine().candidates(context(repo, repo.head("main"), exceptions=[crash]))
    assert [p.title for p in patches] == ["return the value of subtotal * 0 in shipping_cents"]
    assertion = ExceptionInfo(type="AssertionError", value="assert 5490 == 5000")
    wrong_value = MutationEngine().candidates(
        context(repo, repo.head("main"), exceptions=[assertion])
    )
    assert len(wrong_value) > 5 and patches[0].id in {p.id for p in wrong_value}


def test_a_reproduction_alone_allows_crash_mutants(regression: tuple[GitRepo, str]) -> None:
    repo, rev = regression
    crash = ExceptionInfo(type="TypeError", value="unsupported operand")
    ctx = context(repo, rev, source="sentry_event", failing_tests=[], exceptions=[crash])
    repro = Reproduction(
        filename="test_repro.py",
        source="",
        nodeid="test_repro.py::test_it",
        target_file="shop/pricing.py",
        target_function="total_cents",
        reproduced=True,
    )
    suspect = Suspect(file="shop/pricing.py", symbol="total_cents", lines=[13], score=1.0)
    diagnosis = Diagnosis(suspects=[suspect], reproduction=repro)
    with_repro = ctx.__class__(**{**ctx.__dict__, "diagnosis": diagnosis})
    targets = find_targets(with_repro)
    assert [t.qualname for t in targets] == ["total_cents", "shipping_cents"]
    assert MutationEngine().candidates(with_repro) == [], "every path returns already"
    unreproduced = diagnosis.model_copy(update={"reproduction": None})
    without = ctx.__class__(**{**ctx.__dict__, "diagnosis": unreproduced})
    assert find_targets(without) and MutationEngine().candidates(without) == []


def test_engine_reads_nothing_outside_the_repo(
    tmp_path: Path, regression: tuple[GitRepo, str]
) -> None:
    repo, rev = regression
    ctx = context(repo, rev, failing_tests=["../outside.py::test_x", "tests/missing.py::test_y"])
    assert MutationEngine().candidates(ctx) == []


def test_a_log_call_is_not_a_dropped_value() -> None:
    source = "def f(a):\n    if a:\n        log.warning('odd %r', a)\n    return a\n"
    assert mutants(dropped_value, source) == []


def test_a_mutable_default_changed_in_place_is_copied_first() -> None:
    source = (
        "def build(to: str, headers: dict[str, str] = {}) -> dict[str, str]:\n"
        '    headers.setdefault("X-Mailer", "m")\n'
        "    return headers\n"
    )
    made = mutants(mutable_default, source)
    assert made == [
        "def build(to: str, headers: dict[str, str] | None = None) -> dict[str, str]:\n"
        "    headers = {} if headers is None else dict(headers)\n"
        '    headers.setdefault("X-Mailer", "m")\n'
        "    return headers\n",
        "def build(to: str, headers: dict[str, str] | None = None) -> dict[str, str]:\n"
        "    if headers is None:\n"
        "        headers = {}\n"
        '    headers.setdefault("X-Mailer", "m")\n'
        "    return headers\n",
    ]


def test_a_mutable_default_only_read_is_not_copied() -> None:
    source = "def total(items: list[int] = []) -> int:\n    return sum(items)\n"
    assert mutants(mutable_default, source) == [
        "def total(items: list[int] | None = None) -> int:\n"
        "    if items is None:\n"
        "        items = []\n"
        "    return sum(items)\n"
    ]

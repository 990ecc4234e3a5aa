"""The template engine on small realistic modules: each crash gets a candidate that runs clean."""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Any

import pytest

from agent.domain import Diagnosis, Patch, Suspect
from agent.repair import RepairContext
from agent.repair.fallbacks import UNKNOWN, annotation_fallback, captured
from agent.repair.templates import TEMPLATES, TemplateEngine
from tests.support.repair_cases import REV, Case, make_case


def candidates(case: Case) -> list[Patch]:
    """The engine's candidates, checked for what every candidate must be."""
    patches = TemplateEngine().candidates(case.ctx)
    lines = case.source.splitlines(keepends=True)
    head, tail = lines[: case.symbol.start_line - 1], lines[case.symbol.end_line :]
    for patch in patches:
        assert patch.engine == "templates" and patch.title and patch.rationale
        [change] = patch.files
        assert change.path == case.path and change.before == case.source
        assert change.after != case.source
        ast.parse(change.after)
        after = change.after.splitlines(keepends=True)
        assert after[: len(head)] == head, "changed lines before the suspect function"
        assert after[len(after) - len(tail) :] == tail or not tail, "changed lines after it"
    assert len({p.files[0].after for p in patches}) == len(patches), "duplicate candidates"
    assert [p.rank for p in patches] == list(range(1, len(patches) + 1))
    return patches


def run(patch: Patch, function: str, *args: Any) -> Any:
    """Execute the patched module in a fresh namespace and call `function`."""
    namespace: dict[str, Any] = {"__name__": "patched_module"}
    exec(compile(patch.files[0].after, patch.files[0].path, "exec", dont_inherit=True), namespace)
    return namespace[function](*args)


def outcomes(patches: list[Patch], function: str, *args: Any) -> list[Any]:
    """What each candidate returns on the crashing input; an exception type if it still fails."""
    results: list[Any] = []
    for patch in patches:
        try:
            results.append(run(patch, function, *args))
        except Exception as error:
            results.append(type(error))
    return results


# -- ZeroDivisionError -------------------------------------------------------------------------

DEMO = '''"""Reports over orders."""


def average_basket(orders: list[dict]) -> float:
    """Mean order total in cents over the given orders."""
    total = sum(order["total_cents"] for order in orders)
    return total / len(orders)


def order_count(orders: list[dict]) -> int:
    return len(orders)
'''


def demo_case(**kwargs: Any) -> Case:
    return make_case(
        DEMO,
        "return total / len(orders)",
        "ZeroDivisionError",
        "division by zero",
        {"orders": [], "total": "0"},
        path="app/reports.py",
        **kwargs,
    )


def test_demo_best_candidate_guards_empty_orders_before_the_division() -> None:
    patches = candidates(demo_case())
    best = patches[0]
    assert best.title == "Guard division by zero in average_basket"
    assert best.files[0].after == DEMO.replace(
        "    return total / len(orders)\n",
        "    if not orders:\n        return 0.0\n    return total / len(orders)\n",
    )
    assert best.changed_lines == 2
    assert run(best, "average_basket", []) == 0.0
    assert run(best, "average_basket", [{"total_cents": 100}, {"total_cents": 300}]) == 200.0
    assert "0.0" in best.rationale and "orders" in best.rationale


def test_demo_second_candidate_is_a_conditional_division() -> None:
    patches = candidates(demo_case())
    assert "return (total / len(orders) if orders else 0.0)" in patches[1].files[0].after
    assert outcomes(patches, "average_basket", []) == [0.0, 0.0]


def test_zero_division_without_annotation_falls_back_by_the_numerator() -> None:
    source = """
def conversion_rate(stats):
    visits = stats["visits"]
    signups = stats["signups"]
    rate = signups / visits
    return round(rate * 100, 1)
"""
    case = make_case(
        source,
        "rate = signups",
        "ZeroDivisionError",
        "division by zero",
        {"visits": "0", "signups": "0"},
    )
    patches = candidates(case)
    results = outcomes(patches, "conversion_rate", {"visits": 0, "signups": 0})
    assert 0.0 in results
    assert "if visits == 0:" in patches[0].files[0].after
    assert run(patches[0], "conversion_rate", {"visits": 4, "signups": 1}) == 25.0


def test_floor_division_by_a_nonzero_constant_is_left_alone() -> None:
    source = """
def buckets(n: int, size: int) -> int:
    return n // 2 + n // size
"""
    case = make_case(
        source,
        "return n",
        "ZeroDivisionError",
        "integer division or modulo by zero",
        {"n": "7", "size": "0"},
    )
    patches = candidates(case)
    assert patches and all("n // 2" in p.files[0].after for p in patches)
    assert all("if 2" not in p.diff for p in patches)
    assert outcomes(patches, "buckets", 7, 0)[0] == 0


def test_tabs_and_crlf_are_kept() -> None:
    source = "def share(part, whole) -> float:\r\n\tif part:\r\n\t\treturn part / whole\r\n"
    source += "\treturn 0.0\r\n"
    case = make_case(
        source,
        "return part / whole",
        "ZeroDivisionError",
        "division by zero",
        {"part": "3", "whole": "0"},
    )
    best = candidates(case)[0]
    assert best.files[0].after == source.replace(
        "\t\treturn part / whole",
        "\t\tif whole == 0:\r\n\t\t\treturn 0.0\r\n\t\treturn part / whole",
    )
    assert run(best, "share", 3, 0) == 0.0


def test_decimal_return_type_falls_back_to_decimal_zero() -> None:
    source = """from decimal import Decimal


def unit_price(total: Decimal, quantity: int) -> Decimal:
    return total / quantity
"""
    case = make_case(
        source,
        "return total",
        "decimal.DivisionByZero",
        "[<class 'decimal.DivisionByZero'>]",
        {"total": "Decimal('10.00')", "quantity": "0"},
    )
    patches = candidates(case)
    assert "if quantity == 0:\n        return Decimal(0)\n" in patches[0].files[0].after
    assert outcomes(patches, "unit_price", Decimal("10.00"), 0) == [Decimal(0), Decimal(0)]


@pytest.mark.parametrize(
    ("annotation", "fallback"),
    [
        ("float", "0.0"),
        ("int", "0"),
        ("str", '""'),
        ("bool", "False"),
        ("Decimal", "Decimal(0)"),
        ("decimal.Decimal", "decimal.Decimal(0)"),
        ("list[dict]", "[]"),
        ("dict[str, int]", "{}"),
        ("set[str]", "set()"),
        ("Optional[int]", "None"),
        ("int | None", "None"),
        ("'float'", "0.0"),
        ("None", "None"),
        ("Order", None),
    ],
)
def test_annotation_fallback(annotation: str, fallback: str | None) -> None:
    assert annotation_fallback(ast.parse(annotation, mode="eval").body) == fallback


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0", 0),
        ("'abc'", "abc"),
        ([], []),
        ("None", None),
        ("Decimal('1.50')", Decimal("1.50")),
        ("<Order id=1>", UNKNOWN),
        ("__import__('os').system('x')", UNKNOWN),
        ("9" * 20_000, UNKNOWN),
    ],
)
def test_captured_values_are_read_as_literals_only(raw: Any, value: Any) -> None:
    assert captured({"v": raw}, "v") == value or captured({"v": raw}, "v") is value


# -- AttributeError on None --------------------------------------------------------------------

EMAILS = """from dataclasses import dataclass


@dataclass
class Customer:
    name: str
    email: str | None


def notify_emails(customers: list[Customer]) -> list[str]:
    emails = []
    for customer in customers:
        emails.append(customer.email.lower())
    return emails
"""


def test_none_attribute_in_a_loop_skips_the_item() -> None:
    case = make_case(
        EMAILS,
        "customer.email.lower()",
        "AttributeError",
        "'NoneType' object has no attribute 'lower'",
        {"customer": "Customer(name='Bo', email=None)", "emails": "['a@x.io']"},
    )
    patches = candidates(case)
    best = patches[0]
    assert "if customer.email is None:\n            continue\n" in best.files[0].after
    namespace: dict[str, Any] = {"__name__": "patched_module"}
    exec(compile(best.files[0].after, "emails.py", "exec", dont_inherit=True), namespace)
    people = [namespace["Customer"]("Al", "A@X.io"), namespace["Customer"]("Bo", None)]
    assert namespace["notify_emails"](people) == ["a@x.io"]
    assert any(
        "(customer.email.lower() if customer.email is not None else None)" in p.diff
        for p in patches
    )


def test_none_parameter_attribute_returns_the_empty_value() -> None:
    source = """
def display_name(user) -> str:
    first = user.first_name
    return first.title()
"""
    case = make_case(
        source,
        "first = user",
        "AttributeError",
        "'NoneType' object has no attribute 'first_name'",
        {"user": "None"},
    )
    patches = candidates(case)
    assert outcomes(patches, "display_name", None)[0] == ""
    assert 'if user is None:\n        return ""\n' in patches[0].files[0].after


def test_none_optional_parameter_of_a_transformation_gives_none_back() -> None:
    source = """
def normalise_page(page: str | None) -> str:
    path = page.split("?", 1)[0]
    return path.rstrip("/") or "/"
"""
    case = make_case(
        source,
        "path = page",
        "AttributeError",
        "'NoneType' object has no attribute 'split'",
        {"page": "None"},
    )
    patches = candidates(case)
    best = patches[0].files[0].after
    assert "def normalise_page(page: str | None) -> str | None:" in best
    assert "if page is None:\n        return None\n" in best
    assert run(patches[0], "normalise_page", None) is None
    assert run(patches[0], "normalise_page", "/a/?b") == "/a"
    assert any('return ""' in p.files[0].after for p in patches[1:]), "the empty value next"


def test_none_optional_parameter_of_another_type_returns_its_empty_value() -> None:
    source = """
def tier_discount(customer: object | None, subtotal: int) -> int:
    return subtotal * customer.discount_percent // 100
"""
    case = make_case(
        source,
        "return subtotal",
        "AttributeError",
        "'NoneType' object has no attribute 'discount_percent'",
        {"customer": "None", "subtotal": "100"},
    )
    patches = candidates(case)
    assert run(patches[0], "tier_discount", None, 100) == 0
    assert "-> int:" in patches[0].files[0].after


MONEY = """
CODES = {"USD": "$", "CHF": None}


def label(amount: int, currency: str, use_code: bool = False) -> str:
    if use_code:
        mark, first = currency, False
    else:
        mark = CODES[currency]
        first = not mark.isalpha()
    return f"{mark}{amount}" if first else f"{amount} {mark}"
"""


def test_none_made_in_one_branch_takes_the_branch_that_makes_it_another_way() -> None:
    case = make_case(
        MONEY,
        "first = not mark",
        "AttributeError",
        "'NoneType' object has no attribute 'isalpha'",
        {"mark": "None", "currency": "'CHF'"},
    )
    patches = candidates(case)
    assert "    if use_code or CODES[currency] is None:\n" in patches[0].files[0].after
    assert run(patches[0], "label", 7, "CHF") == "7 CHF"
    assert run(patches[0], "label", 7, "USD") == "$7"


def test_none_from_a_lookup_is_guarded_where_it_is_assigned() -> None:
    source = """
def shipping_city(order: dict) -> str | None:
    customer = order.get("customer")
    print("shipping", order["id"])
    return customer.city
"""
    case = make_case(
        source,
        "return customer.city",
        "AttributeError",
        "'NoneType' object has no attribute 'city'",
        {"customer": "None"},
    )
    patches = candidates(case)
    at_origin = [
        p
        for p in patches
        if 'customer = order.get("customer")\n    if customer is None:' in p.files[0].after
    ]
    assert at_origin and run(at_origin[0], "shipping_city", {"id": 1}) is None
    assert all(r is None for r in outcomes(patches, "shipping_city", {"id": 1}))


# -- KeyError ----------------------------------------------------------------------------------

QUANTITIES = """
def total_quantity(lines: list[dict]) -> int:
    total = 0
    for line in lines:
        total += line["qty"]
    return total
"""


def test_missing_key_in_arithmetic_defaults_to_zero() -> None:
    case = make_case(
        QUANTITIES, 'line["qty"]', "KeyError", "'qty'", {"line": "{'sku': 'A-1'}", "total": "2"}
    )
    patches = candidates(case)
    assert 'total += line.get("qty", 0)' in patches[0].files[0].after
    lines = [{"qty": 2}, {"sku": "A-1"}]
    results = outcomes(patches, "total_quantity", lines)
    assert results[0] == 2
    assert any('if "qty" not in line:\n            continue' in p.files[0].after for p in patches)
    assert results.count(2) >= 2


def test_missing_key_used_as_text_defaults_to_empty_string() -> None:
    source = """
def normalized_email(payload: dict) -> str:
    return payload["email"].strip().lower()
"""
    case = make_case(source, "return payload", "KeyError", "'email'", {"payload": "{}"})
    patches = candidates(case)
    assert outcomes(patches, "normalized_email", {})[0] == ""


ORDER_LINES = """
class BadRequest(Exception):
    pass


def line_quantities(items: list[dict]) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for raw in items:
        quantity = int(raw["quantity"])
        if quantity < 1:
            raise BadRequest("quantity must be at least 1")
        quantities[raw["sku"]] = quantities.get(raw["sku"], 0) + quantity
    return quantities
"""


def test_missing_key_defaults_to_the_smallest_value_the_next_check_accepts() -> None:
    case = make_case(
        ORDER_LINES, 'int(raw["quantity"])', "KeyError", "'quantity'", {"raw": "{'sku': 'A'}"}
    )
    patches = candidates(case)
    assert 'int(raw.get("quantity", 1))' in patches[0].files[0].after
    assert "smallest value the check that follows accepts" in patches[0].rationale
    items = [{"sku": "A"}, {"sku": "B", "quantity": 2}]
    assert run(patches[0], "line_quantities", items) == {"A": 1, "B": 2}, "no line is dropped"


def test_missing_key_takes_the_default_the_file_gives_the_same_key() -> None:
    source = """
def retries(job: dict) -> int:
    return job["attempts"] + 1


def describe(job: dict) -> str:
    return f"{job.get('attempts', 3)} attempts"
"""
    case = make_case(source, 'job["attempts"]', "KeyError", "'attempts'", {"job": "{}"})
    patches = candidates(case)
    assert 'job.get("attempts", 3) + 1' in patches[0].files[0].after
    assert run(patches[0], "retries", {}) == 4


def test_missing_key_passed_on_takes_the_empty_value_of_the_parameter() -> None:
    source = """
from typing import Any, Mapping


def merge(base: dict, layer: Mapping[str, Any]) -> dict:
    for key, value in layer.items():
        base[key] = value
    return base


def select(raw: dict, environment: str) -> dict:
    tables = raw.pop("env", {})
    merge(raw, tables[environment])
    return raw
"""
    case = make_case(source, "tables[environment]", "KeyError", "'prod'", {"environment": "'prod'"})
    patches = candidates(case)
    assert "merge(raw, tables.get(environment, {}))" in patches[0].files[0].after
    assert run(patches[0], "select", {"a": 1, "env": {}}, "prod") == {"a": 1}


def test_key_error_message_is_never_evaluated_or_echoed() -> None:
    hostile = "__import__('os').system('echo pwned')"
    case = make_case(QUANTITIES, 'line["qty"]', "KeyError", hostile, {"line": "<Line>"})
    patches = candidates(case)
    assert patches
    assert all(hostile not in p.title + p.rationale for p in patches)


# -- IndexError --------------------------------------------------------------------------------


def test_index_at_len_becomes_the_last_element() -> None:
    source = """
def latest_reading(readings: list[float]) -> float:
    return readings[len(readings)]
"""
    case = make_case(
        source,
        "return readings",
        "IndexError",
        "list index out of range",
        {"readings": "[1.5, 2.5]"},
    )
    patches = candidates(case)
    assert "readings[len(readings) - 1]" in patches[0].files[0].after
    assert run(patches[0], "latest_reading", [1.5, 2.5]) == 2.5


def test_loop_bound_is_fixed_for_a_look_ahead_index() -> None:
    source = """
def deltas(values: list[int]) -> list[int]:
    result = []
    for i in range(len(values)):
        result.append(values[i + 1] - values[i])
    return result
"""
    case = make_case(
        source,
        "result.append",
        "IndexError",
        "list index out of range",
        {"values": "[1, 2, 4]", "i": "2"},
    )
    patches = candidates(case)
    assert "for i in range(len(values) - 1):" in patches[0].files[0].after
    assert outcomes(patches, "deltas", [1, 2, 4])[0] == [1, 2]


TIERS = """
TIERS = ((1, 0), (10, 5), (50, 10))


def tier_index(quantity: int) -> int:
    for index, (minimum, _) in enumerate(TIERS):
        if minimum <= quantity < TIERS[index + 1][0]:
            return index
    raise ValueError(quantity)
"""


def test_a_look_ahead_bound_leaves_the_last_range_open() -> None:
    case = make_case(
        TIERS,
        "if minimum <= quantity",
        "IndexError",
        "tuple index out of range",
        {"index": "2", "quantity": "60"},
    )
    patches = candidates(case)
    assert patches[0].title == "Leave the last range open in tier_index"
    assert (
        "if minimum <= quantity and (index + 1 >= len(TIERS) or quantity < TIERS[index + 1][0]):"
        in patches[0].files[0].after
    )
    assert outcomes(patches[:1], "tier_index", 60) == [2]
    assert [run(patches[0], "tier_index", q) for q in (1, 9, 10, 49, 500)] == [0, 0, 1, 1, 2]


def test_one_based_count_indexes_from_zero() -> None:
    source = """
def ranking(names: list[str]) -> list[str]:
    lines = []
    for rank in range(1, len(names) + 1):
        lines.append(f"{rank}. {names[rank]}")
    return lines
"""
    case = make_case(
        source,
        "lines.append",
        "IndexError",
        "list index out of range",
        {"names": "['ann', 'bob']", "rank": "2"},
    )
    patches = candidates(case)
    assert "names[rank - 1]" in patches[0].files[0].after
    assert run(patches[0], "ranking", ["ann", "bob"]) == ["1. ann", "2. bob"]


def test_while_condition_stops_before_the_end() -> None:
    source = """
def sum_until_negative(xs: list[int]) -> int:
    i = 0
    total = 0
    while i <= len(xs):
        if xs[i] < 0:
            break
        total += xs[i]
        i += 1
    return total
"""
    case = make_case(
        source,
        "if xs[i] < 0",
        "IndexError",
        "list index out of range",
        {"xs": "[1, 2, 3]", "i": "3", "total": "6"},
    )
    patches = candidates(case)
    assert "while i < len(xs):" in patches[0].files[0].after
    results = outcomes(patches, "sum_until_negative", [1, 2, 3])
    assert results[0] == 6


def test_first_element_of_an_empty_list_is_guarded() -> None:
    source = """
def first_error(errors: list[str]) -> str:
    return errors[0]
"""
    case = make_case(
        source, "return errors", "IndexError", "list index out of range", {"errors": "[]"}
    )
    patches = candidates(case)
    assert "if not errors:" in patches[0].files[0].after
    assert outcomes(patches, "first_error", [])[0] == ""


# -- TypeError ---------------------------------------------------------------------------------


def test_none_not_subscriptable_reads_as_missing() -> None:
    source = """
def billing_city(user: dict) -> str | None:
    address = user.get("address")
    return address["city"]
"""
    case = make_case(
        source,
        'return address["city"]',
        "TypeError",
        "'NoneType' object is not subscriptable",
        {"address": "None"},
    )
    patches = candidates(case)
    assert '(address or {}).get("city")' in patches[0].files[0].after
    assert outcomes(patches, "billing_city", {"name": "x"})[0] is None
    assert run(patches[0], "billing_city", {"address": {"city": "Oslo"}}) == "Oslo"


def test_none_not_iterable_counts_as_empty() -> None:
    source = """
def tag_count(post: dict) -> int:
    tags = post.get("tags")
    return len([t for t in tags if t])
"""
    case = make_case(
        source,
        "return len",
        "TypeError",
        "'NoneType' object is not iterable",
        {"tags": "None", "post": "{'id': 1}"},
    )
    patches = candidates(case)
    assert "for t in (tags or [])" in patches[0].files[0].after
    assert outcomes(patches, "tag_count", {"id": 1})[0] == 0


def test_concatenating_an_int_to_a_string_literal_converts_it() -> None:
    source = """
def visit_banner(visits) -> str:
    return "Visit number " + visits
"""
    case = make_case(
        source,
        "return",
        "TypeError",
        'can only concatenate str (not "int") to str',
        {"visits": "3"},
    )
    patches = candidates(case)
    assert run(patches[0], "visit_banner", 3) == "Visit number 3"


def test_adding_a_str_to_an_int_converts_the_str() -> None:
    source = """
def order_total(prices: dict[str, int], shipping) -> int:
    subtotal = sum(prices.values())
    return subtotal + shipping
"""
    case = make_case(
        source,
        "return subtotal",
        "TypeError",
        "unsupported operand type(s) for +: 'int' and 'str'",
        {"subtotal": "10", "shipping": "'5'"},
    )
    patches = candidates(case)
    assert "return subtotal + int(shipping)" in patches[0].files[0].after
    assert run(patches[0], "order_total", {"a": 4, "b": 6}, "5") == 15


def test_a_field_declared_int_is_not_converted_where_it_is_used() -> None:
    source = """
from dataclasses import dataclass


@dataclass
class Server:
    port: int = 8080

    @property
    def metrics_port(self) -> int:
        return self.port + 1
"""
    case = make_case(
        source,
        "return self.port + 1",
        "TypeError",
        'can only concatenate str (not "int") to str',
        {"self": "Server(port='9000')"},
    )
    assert candidates(case) == [], "the str was stored in an int field: fix it where it is set"
    untyped = make_case(
        source.replace("port: int = 8080", "port = 8080"),
        "return self.port + 1",
        "TypeError",
        'can only concatenate str (not "int") to str',
        {},
    )
    assert [p.title for p in candidates(untyped)] == ["Convert `self.port` to int in metrics_port"]


def test_comparing_a_str_with_an_int_converts_the_str() -> None:
    source = """
def is_adult(age) -> bool:
    return age >= 18
"""
    case = make_case(
        source,
        "return age",
        "TypeError",
        "'>=' not supported between instances of 'str' and 'int'",
        {"age": "'17'"},
    )
    patches = candidates(case)
    assert run(patches[0], "is_adult", "17") is False


def test_none_operand_counts_as_zero() -> None:
    source = """
def with_tax(price: int, tax) -> int:
    return price + tax
"""
    case = make_case(
        source,
        "return price",
        "TypeError",
        "unsupported operand type(s) for +: 'int' and 'NoneType'",
        {"price": "100", "tax": "None"},
    )
    patches = candidates(case)
    assert "return price + (tax or 0)" in patches[0].files[0].after
    assert run(patches[0], "with_tax", 100, None) == 100


# -- the engine --------------------------------------------------------------------------------


def test_tried_candidates_are_not_proposed_again() -> None:
    first = candidates(demo_case())
    again = candidates(demo_case(tried=frozenset({first[0].id})))
    assert first[0].id not in {p.id for p in again}
    assert again[0].id == first[1].id and again[0].rank == 1


def test_candidates_follow_suspect_order() -> None:
    source = """
def share(part: int, whole: int) -> float:
    return part / whole


def report(rows: list[int]) -> float:
    return share(sum(rows), len(rows)) + sum(rows) / len(rows)
"""
    case = make_case(source, "return part / whole", "ZeroDivisionError", "division by zero", {})
    first = case.ctx.diagnosis.suspects[0]
    caller = Suspect(file=first.file, symbol="report", start_line=6, end_line=7, lines=[7], score=1)
    ctx = RepairContext(
        incident=case.ctx.incident,
        diagnosis=Diagnosis(suspects=[first, caller]),
        repo=case.ctx.repo,
        code_index=case.ctx.code_index,
        rev=REV,
    )
    patches = TemplateEngine().candidates(ctx)
    owners = ["share" if p.title.endswith("share") else "report" for p in patches]
    assert owners == ["share", "share", "report", "report"]
    lines = source.splitlines(keepends=True)
    for patch in patches[2:]:
        assert patch.files[0].after.splitlines(keepends=True)[:5] == lines[:5]


def test_limit_is_respected() -> None:
    assert len(candidates(demo_case(limit=1))) == 1
    source = QUANTITIES
    case = make_case(source, 'line["qty"]', "KeyError", "'qty'", {}, limit=2)
    assert len(candidates(case)) == 2


@pytest.mark.parametrize(
    ("error_type", "message"),
    [("RuntimeError", "boom"), ("LookupError", "no such thing"), ("OSError", "")],
)
def test_no_candidates_without_a_template(error_type: str, message: str) -> None:
    assert error_type not in TEMPLATES
    case = make_case(DEMO, "return total / len(orders)", error_type, message, {"orders": []})
    assert TemplateEngine().candidates(case.ctx) == []


def test_no_candidates_when_the_line_has_nothing_to_fix() -> None:
    case = make_case(DEMO, "total = sum", "ZeroDivisionError", "division by zero", {})
    assert TemplateEngine().candidates(case.ctx) == []


def test_unreadable_or_non_python_suspects_are_skipped() -> None:
    case = demo_case()
    suspect = case.ctx.diagnosis.suspects[0]
    missing = suspect.model_copy(update={"file": "app/missing.py"})
    config = suspect.model_copy(update={"file": "config/app.yaml"})
    ctx = RepairContext(
        incident=case.ctx.incident,
        diagnosis=Diagnosis(suspects=[missing, config, suspect]),
        repo=case.ctx.repo,
        code_index=case.ctx.code_index,
        rev=REV,
    )
    patches = TemplateEngine().candidates(ctx)
    assert patches and patches[0].title == "Guard division by zero in average_basket"

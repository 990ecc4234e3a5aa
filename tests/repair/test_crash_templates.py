"""Crash templates that read beyond the crash line: renamed module attributes, parse errors."""

from __future__ import annotations

from typing import Any

from agent.repair.templates import TemplateEngine
from tests.support.repair_cases import make_case

HANDLERS = """from shop import pricing


def receipt(order, customer):
    totals = pricing.quote(order, customer, order.country or "DE")
    return {"total": totals["total"]}


def preview(order, customer):
    return pricing.quote(order, customer, "DE")
"""
PRICING = """def price_order(order, customer, country):
    return {"total": 1}


def coupon_discount(order, customer, code):
    return 0


def tax_rate(country):
    return 19
"""


def test_a_renamed_function_is_called_by_its_new_name_everywhere() -> None:
    case = make_case(
        HANDLERS,
        "totals = pricing.quote",
        "AttributeError",
        "module 'shop.pricing' has no attribute 'quote'",
        {},
        path="shop/handlers.py",
    )
    case.ctx.repo.files["shop/pricing.py"] = PRICING  # type: ignore[attr-defined]
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.title for p in patches] == [
        "Use shop.pricing.price_order, the new name of quote",
        "Use shop.pricing.coupon_discount, the new name of quote",
    ], "parameter names decide first; tax_rate takes one argument, not three"
    after = patches[0].files[0].after
    assert after == HANDLERS.replace("pricing.quote(", "pricing.price_order(")


def test_no_rename_without_the_module() -> None:
    case = make_case(
        HANDLERS,
        "totals = pricing.quote",
        "AttributeError",
        "module 'shop.pricing' has no attribute 'quote'",
        {},
        path="shop/handlers.py",
    )
    assert TemplateEngine().candidates(case.ctx) == []


VIEWS = """HISTORY_SIZE = 20


def history(request):
    limit = int(request.query.get("limit", HISTORY_SIZE))
    return limit


def since(request):
    try:
        return parse(request.query["since"])
    except ValueError:
        raise HTTPError(400, "since must be a timestamp") from None
"""


def test_a_parse_error_is_answered_like_the_file_answers_others() -> None:
    case = make_case(
        VIEWS,
        "limit = int(",
        "ValueError",
        "invalid literal for int() with base 10: 'undefined'",
        {},
        path="shop/views.py",
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.files[0].after for p in patches] == [
        VIEWS.replace(
            '    limit = int(request.query.get("limit", HISTORY_SIZE))\n',
            "    try:\n"
            '        limit = int(request.query.get("limit", HISTORY_SIZE))\n'
            "    except ValueError:\n"
            '        raise HTTPError(400, "limit must be a number") from None\n',
        ),
        VIEWS.replace(
            '    limit = int(request.query.get("limit", HISTORY_SIZE))\n',
            "    try:\n"
            '        limit = int(request.query.get("limit", HISTORY_SIZE))\n'
            "    except ValueError:\n"
            "        limit = HISTORY_SIZE\n",
        ),
    ]


def test_other_value_errors_get_no_parse_fix() -> None:
    case = make_case(
        VIEWS, "limit = int(", "ValueError", "math domain error", {}, path="shop/views.py"
    )
    assert TemplateEngine().candidates(case.ctx) == []


LISTING = """from datetime import datetime


def list_orders(orders, query):
    if query.get("since"):
        since = datetime.fromisoformat(query["since"])
        orders = [order for order in orders if order.created_at >= since]
    return orders
"""


def test_a_naive_datetime_is_read_as_utc_where_it_is_made() -> None:
    case = make_case(
        LISTING,
        "order.created_at >= since",
        "TypeError",
        "can't compare offset-naive and offset-aware datetimes",
        {"since": "datetime.datetime(2026, 3, 1, 0, 0)"},
        path="shop/views.py",
    )
    [patch] = TemplateEngine().candidates(case.ctx)
    assert patch.files[0].after == LISTING.replace(
        "from datetime import datetime\n", "from datetime import datetime, timezone\n"
    ).replace(
        '        since = datetime.fromisoformat(query["since"])\n',
        '        since = datetime.fromisoformat(query["since"])\n'
        "        if since.tzinfo is None:\n"
        "            since = since.replace(tzinfo=timezone.utc)\n",
    )


def test_an_aware_captured_value_is_left_alone() -> None:
    aware = "datetime.datetime(2026, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)"
    case = make_case(
        LISTING,
        "order.created_at >= since",
        "TypeError",
        "can't compare offset-naive and offset-aware datetimes",
        {"since": aware},
        path="shop/views.py",
    )
    assert TemplateEngine().candidates(case.ctx) == []


def test_a_web_handler_rejects_a_bad_number_with_its_bad_request_error() -> None:
    source = """def orders(request):
    if request.query.get("status") == "x":
        raise HTTPError(400, "unknown status")
    limit = int(request.query["limit"])
    return limit
"""
    case = make_case(
        source,
        "limit = int(",
        "ValueError",
        "invalid literal for int() with base 10: 'x'",
        {},
        path="shop/views.py",
    )
    [patch] = TemplateEngine().candidates(case.ctx)
    assert 'raise HTTPError(400, "limit must be a number") from None' in patch.files[0].after


BACKOFF = """def delay_seconds(attempt: int) -> int:
    if attempt <= 2:
        delay = 10
    elif attempt <= 5:  # a few more tries
        delay = 60
    return delay
"""


def test_an_unbound_local_gets_an_else() -> None:
    case = make_case(
        BACKOFF,
        "return delay",
        "UnboundLocalError",
        "cannot access local variable 'delay' where it is not associated with a value",
        {"attempt": "6"},
        path="worker/backoff.py",
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.files[0].after for p in patches] == [
        BACKOFF.replace(
            "    elif attempt <= 5:  # a few more tries\n", "    else:  # a few more tries\n"
        ),
        BACKOFF.replace(
            "        delay = 60\n", "        delay = 60\n    else:\n        delay = 60\n"
        ),
    ]


FLATTEN = """from collections.abc import Sequence


def flatten(items):
    flat = []
    for item in items:
        if isinstance(item, Sequence):
            flat.extend(flatten(item))
        else:
            flat.append(item)
    return flat
"""


def test_recursion_into_a_sequence_leaves_strings_alone() -> None:
    case = make_case(
        FLATTEN,
        "if isinstance(item, Sequence)",
        "RecursionError",
        "maximum recursion depth exceeded in comparison",
        {"items": "'T'", "item": "'T'"},
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert patches[0].title == "Do not recurse into strings in flatten"
    namespace: dict[str, Any] = {}
    exec(patches[0].files[0].after, namespace)
    assert namespace["flatten"](["ab", ["c", ["d"]], 1]) == ["ab", "c", "d", 1]


PARSER = """class Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.position = 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected=None):
        token = self.peek()
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected}")
        self.position += 1
        return token

    def items(self):
        values = [self.unary()]
        while self.peek() == ",":
            self.take(",")
            values.append(self.unary())
        return values

    def unary(self):
        if self.peek() == "-":
            return -self.unary()
        return int(self.take())
"""


def test_recursion_on_a_look_ahead_consumes_the_token_first() -> None:
    case = make_case(
        PARSER,
        "return -self.unary()",
        "RecursionError",
        "maximum recursion depth exceeded",
        {"self": "<Parser object at 0x1>"},
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.title for p in patches] == ["Consume '-' before recursing in unary"]
    after = patches[0].files[0].after
    assert "            self.take('-')\n            return -self.unary()\n" in after
    namespace: dict[str, Any] = {}
    exec(after, namespace)
    assert namespace["Parser"](["-", "-", "3", ",", "-", "2"]).items() == [3, -2]


def test_recursion_with_progress_gets_no_look_ahead_fix() -> None:
    source = PARSER.replace("return -self.unary()", "return -self.unary() if self.take() else 0")
    case = make_case(
        source,
        "return -self.unary()",
        "RecursionError",
        "maximum recursion depth exceeded",
        {},
    )
    assert TemplateEngine().candidates(case.ctx) == []


ROUNDING = """import logging

log = logging.getLogger(__name__)

MODES = {"half_even": "ROUND_HALF_EVEN", "half_up": "ROUND_HALF_UP"}


def rounding_mode(mode: str) -> str:
    try:
        rounding = MODES[mode]
    except KeyError:
        # Unknown names should not fail a quote: fall back to banker's rounding.
        log.warning("unknown rounding mode %r, using half_even", mode)
    return rounding


def quantize(amount, mode: str = "half_up"):
    return round(amount), rounding_mode(mode)
"""


def test_an_unbound_lookup_falls_back_to_what_the_handler_names() -> None:
    case = make_case(
        ROUNDING,
        "return rounding",
        "UnboundLocalError",
        "cannot access local variable 'rounding' where it is not associated with a value",
        {"mode": "'bankers'"},
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert patches[0].title == 'Fall back to MODES["half_even"] for rounding in rounding_mode'
    after = patches[0].files[0].after
    assert '        rounding = MODES["half_even"]\n    return rounding\n' in after
    namespace: dict[str, Any] = {}
    exec(patches[0].files[0].after, namespace)
    assert namespace["rounding_mode"]("bankers") == "ROUND_HALF_EVEN"


def test_an_unbound_lookup_falls_back_to_the_parameter_default_elsewhere() -> None:
    source = ROUNDING.replace(", using half_even", "")
    case = make_case(
        source,
        "return rounding",
        "UnboundLocalError",
        "local variable 'rounding' referenced before assignment",
        {},
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert patches[0].title == 'Fall back to MODES["half_up"] for rounding in rounding_mode'
    assert "the default of `mode` in `quantize`" in patches[0].rationale


COERCE = """def coercer(type_name):
    if type_name in ("duration", "size"):
        from conf import units

        return units.parse_duration if type_name == "duration" else units.parse_size
    raise ValueError(type_name)
"""


def test_a_renamed_module_is_imported_by_its_new_name() -> None:
    case = make_case(
        COERCE,
        "from conf import units",
        "ImportError",
        "cannot import name 'units' from 'conf' (/srv/app/conf/__init__.py)",
        {"type_name": "'duration'"},
        path="conf/coerce.py",
    )
    files = case.ctx.repo.files  # type: ignore[attr-defined]
    files["conf/__init__.py"] = ""
    files["conf/quantities.py"] = (
        "def parse_duration(v):\n    return 1\n\n\ndef parse_size(v):\n    return 2\n"
    )
    files["conf/flags.py"] = "def parse_duration(v):\n    return 1\n"
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.title for p in patches] == ["Import conf.quantities, the new name of units"]
    after = patches[0].files[0].after
    assert after == COERCE.replace("units", "quantities")


SIZES = """class ConfigError(Exception):
    pass


SUFFIXES = (("kib", 1024), ("mb", 1000**2), ("hb", 100), ("b", 1))


def parse_size(value):
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    for suffix, factor in SUFFIXES:
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    if not text:
        raise ConfigError(f"empty size: {value!r}")
    return int(text)
"""


def test_a_fraction_met_by_int_is_read_and_other_text_gets_the_files_error() -> None:
    case = make_case(
        SIZES,
        "return int(text[",
        "ValueError",
        "invalid literal for int() with base 10: '1.5'",
        {"value": "'1.5MB'", "text": "'1.5mb'"},
    )
    patches = TemplateEngine().candidates(case.ctx)
    assert [p.title for p in patches] == [
        "Read fractions in parse_size; reject other text with ConfigError",
        "Read fractions in parse_size",
    ]
    namespace: dict[str, Any] = {}
    exec(patches[0].files[0].after, namespace)
    parse_size = namespace["parse_size"]
    sizes = ["1.5MB", "2.25kib", "0.29hb", "100", 7]
    assert [parse_size(size) for size in sizes] == [1_500_000, 2304, 29, 100, 7]
    for bad in ("lots", "xmb"):
        try:
            parse_size(bad)
        except namespace["ConfigError"] as error:
            assert repr(bad) in str(error)
        else:
            raise AssertionError(f"{bad} parsed")


def test_an_integer_parse_error_of_other_text_gets_no_fraction_fix() -> None:
    case = make_case(
        SIZES,
        "return int(text[",
        "ValueError",
        "invalid literal for int() with base 10: 'lots'",
        {},
    )
    assert TemplateEngine().candidates(case.ctx) == []

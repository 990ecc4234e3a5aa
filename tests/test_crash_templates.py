"""Crash templates that read beyond the crash line: renamed module attributes, parse errors."""

from __future__ import annotations

from agent.repair.templates import TemplateEngine
from tests.test_templates import make_case

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

from decimal import Decimal

from pricekit.rules import evaluate


def test_negative_literals_and_groups():
    assert evaluate("max(subtotal * -0.1, -20)", {"subtotal": Decimal("120")}) == Decimal("-12.0")
    assert evaluate("max(subtotal * -0.1, -20)", {"subtotal": Decimal("500")}) == Decimal("-20")
    assert evaluate("-(2 + 3) * 2", {}) == Decimal("-10")
    assert evaluate("5 - -2", {}) == Decimal("7")
    assert evaluate("--4", {}) == Decimal("4")


def test_binary_minus_unchanged():
    assert evaluate("subtotal - 5", {"subtotal": Decimal("12")}) == Decimal("7")
    assert evaluate("10 - 2 - 3", {}) == Decimal("5")

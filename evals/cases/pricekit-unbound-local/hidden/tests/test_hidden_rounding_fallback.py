from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from pricekit.money import Money
from pricekit.rounding import quantize, round_money, rounding_mode


def test_unknown_mode_falls_back_to_half_even():
    assert rounding_mode("commercial") == ROUND_HALF_EVEN
    assert quantize(Decimal("2.345"), 2, "commercial") == Decimal("2.34")
    assert round_money(Money.of("119.985", "EUR"), "bankers") == Money.of("119.98", "EUR")


def test_known_modes_unchanged():
    assert rounding_mode("half_up") == ROUND_HALF_UP
    assert quantize(Decimal("2.345"), 2, "half_up") == Decimal("2.35")

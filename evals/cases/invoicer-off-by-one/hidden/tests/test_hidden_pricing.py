from decimal import Decimal

from invoicer.pricing import tier_index, volume_discount


def test_top_tier_has_no_upper_bound():
    assert tier_index(100) == 3
    assert tier_index(250) == 3
    assert volume_discount(100) == Decimal("15")
    assert volume_discount(1200) == Decimal("15")


def test_lower_tiers_unchanged():
    assert volume_discount(1) == Decimal("0")
    assert volume_discount(99) == Decimal("10")

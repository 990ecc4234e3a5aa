import pytest

from pricekit.allocate import allocate, split
from pricekit.money import Money


def eur(amount):
    return Money.of(amount, "EUR")


@pytest.mark.parametrize(
    ("amount", "ratios"),
    [("100.00", [1, 1, 1]), ("100.00", [1, 2]), ("0.05", [1, 1, 1, 1]), ("10.00", [0, 3, 7]), ("7.00", [5])],
)
def test_allocation_keeps_every_cent(amount, ratios):
    parts = allocate(eur(amount), ratios)
    assert sum(part.minor_units for part in parts) == eur(amount).minor_units


def test_leftover_goes_to_the_largest_shares_only():
    assert allocate(eur("100.00"), [1, 2]) == [eur("33.33"), eur("66.67")]
    assert allocate(eur("0.05"), [1, 3, 2]) == [eur("0.00"), eur("0.03"), eur("0.02")]


def test_no_leftover_no_extra_cent():
    assert allocate(eur("10.00"), [0, 1, 1]) == [eur("0.00"), eur("5.00"), eur("5.00")]
    assert split(eur("9.00"), 3) == [eur("3.00")] * 3

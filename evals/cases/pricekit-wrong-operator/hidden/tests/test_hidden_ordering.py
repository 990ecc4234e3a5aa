import pytest

from pricekit.money import CurrencyMismatch, Money


def eur(amount):
    return Money.of(amount, "EUR")


def test_less_or_equal_at_equality():
    assert eur("10.00") <= eur("10")
    assert eur("10.00") >= eur("10")


def test_less_or_equal_when_smaller_or_larger():
    assert eur("9.99") <= eur("10.00")
    assert not (eur("10.01") <= eur("10.00"))
    assert eur("9.99") < eur("10.00")
    assert not (eur("10.00") < eur("10.00"))


def test_comparing_currencies_still_raises():
    with pytest.raises(CurrencyMismatch):
        eur("1") <= Money.of("1", "USD")

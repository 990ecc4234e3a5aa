from decimal import Decimal

from pricekit.exchange import RateTable
from pricekit.money import Money

RATES = RateTable("EUR", {"USD": "1.0842", "GBP": "0.8571", "JPY": "162.35"})


def test_converted_money_is_in_the_target_currency():
    assert RATES.convert(Money.of("12.00", "USD"), "EUR") == Money.of("11.07", "EUR")
    assert RATES.convert(Money.of("10.00", "EUR"), "JPY") == Money.of("1624", "JPY")
    assert RATES.convert(Money.of("10.00", "GBP"), "USD").currency == "USD"


def test_converted_amounts_add_up_in_the_target():
    total = Money.zero("EUR")
    for item in (Money.of("12.00", "USD"), Money.of("5.00", "EUR"), Money.of("3.00", "GBP")):
        total = total + RATES.convert(item, "EUR")
    assert total == Money.of("19.57", "EUR")
    assert total.amount == Decimal("19.57")

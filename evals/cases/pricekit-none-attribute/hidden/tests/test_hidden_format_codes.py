from pricekit.fmt import NBSP, format_money
from pricekit.money import Money


def test_currency_without_symbol_uses_its_code_in_place():
    assert format_money(Money.of("1234.5", "CHF"), "de_CH") == f"CHF{NBSP}1'234.50"
    assert format_money(Money.of("2.5", "KWD"), "de_DE") == f"2,500{NBSP}KWD"
    assert format_money(Money.of("-7", "CHF"), "en_US") == f"-CHF{NBSP}7.00"


def test_symbols_unchanged():
    assert format_money(Money.of("99", "SEK"), "en_US") == f"99.00{NBSP}kr"
    assert format_money(Money.of("1234.5", "USD")) == "$1,234.50"
    assert format_money(Money.of("3", "USD"), use_code=True) == f"USD{NBSP}3.00"

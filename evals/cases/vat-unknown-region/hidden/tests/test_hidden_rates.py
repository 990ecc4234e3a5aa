from vat.rates import STANDARD_RATE, tax, tax_rate


def test_hidden_unknown_region_rate():
    assert tax_rate("ZZ") == STANDARD_RATE


def test_hidden_unknown_region_tax():
    assert tax(100.0, "QQ") == 20.0


def test_hidden_known_region():
    assert tax_rate("fr") == 0.2

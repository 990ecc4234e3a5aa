from pricekit.money import Money
from pricekit.rules import RuleSet


def eur(amount):
    return Money.of(amount, "EUR")


def test_default_rule_sets_are_independent():
    staff = RuleSet("EUR").add("staff", "price * 0.8")
    retail = RuleSet("EUR")
    assert retail.rules == []
    assert retail.apply(eur("100.00")) == eur("100.00")
    assert staff.apply(eur("100.00")) == eur("80.00")


def test_explicit_list_is_shared_live():
    house = []
    rules = RuleSet("EUR", house)
    house.append(("sale", "price * 0.5"))
    assert rules.apply(eur("10.00")) == eur("5.00")

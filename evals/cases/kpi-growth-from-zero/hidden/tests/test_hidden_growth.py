import math

from kpi.rates import growth


def test_hidden_growth_from_nothing_is_unbounded():
    assert growth(0, 7) == math.inf


def test_hidden_growth_of_nothing_is_zero():
    assert growth(0, 0) == 0.0


def test_hidden_growth_keeps_fractions():
    assert growth(4, 5) == 0.25

import math

from sampling.stats import percentile, summary


def test_hidden_empty_window_is_nan():
    assert math.isnan(percentile([], 50))


def test_hidden_empty_summary_is_all_nan():
    assert all(math.isnan(value) for value in summary([]).values())


def test_hidden_one_sample():
    assert percentile([4.0], 95) == 4.0

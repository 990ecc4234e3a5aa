"""Reported failing tests that crash at an edge value (issue #18): three small projects.

Each case is a red test on main, reported by CI: the test expects a specific value at an edge
(no previous figure, an empty sample, an unknown region) and the code crashes there instead
(ZeroDivisionError, IndexError, AttributeError on None). The nearest guard, returning a neutral
value (0, None, an empty result), silences the crash but leaves the reported test failing, so it
must never be proven: the right outcome is a fix with which the reported test passes, or no PR.
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

LENA = "Lena Hoffmann <lena@tallyworks.dev>"
RAVI = "Ravi Menon <ravi.menon@tallyworks.dev>"
KOFI = "Kofi Asante <kofi@tallyworks.dev>"

GITIGNORE = """\
__pycache__/
*.egg-info/
.pytest_cache/
"""

# --- kpi: business figures for a dashboard (ZeroDivisionError) ------------------------------

KPI_README = """\
# kpi

Figures for the weekly dashboard: growth, shares and run rates from raw counts.
"""

KPI_INIT = '''\
"""kpi: dashboard figures from raw counts."""
'''

KPI_RATES = '''\
"""Rates between two counts of the same thing, as the dashboard shows them."""

import math


def share(part: float, whole: float) -> float:
    """`part` as a fraction of `whole`; nothing of nothing is no share at all."""
    if whole == 0:
        return 0.0
    return part / whole


def run_rate(total: float, days: int, period: int = 30) -> float:
    """`total` over `days`, scaled to a `period` of days."""
    if days <= 0:
        raise ValueError("days must be positive")
    return total / days * period


def growth(before: float, after: float) -> float:
    """How much `after` grew over `before`, as a fraction (0.5 is 50 %).

    Growth from nothing to something is unbounded (math.inf); from nothing to nothing it is 0.
    """
    if before == 0 and after == 0:
        return 0.0
    if before == 0:
        return math.inf
    return (after - before) / before
'''

KPI_RATES_BUGGY = '''\
"""Rates between two counts of the same thing, as the dashboard shows them."""


def share(part: float, whole: float) -> float:
    """`part` as a fraction of `whole`; nothing of nothing is no share at all."""
    if whole == 0:
        return 0.0
    return part / whole


def run_rate(total: float, days: int, period: int = 30) -> float:
    """`total` over `days`, scaled to a `period` of days."""
    if days <= 0:
        raise ValueError("days must be positive")
    return total / days * period


def growth(before: float, after: float) -> float:
    """How much `after` grew over `before`, as a fraction (0.5 is 50 %).

    Growth from nothing to something is unbounded (math.inf); from nothing to nothing it is 0.
    """
    return after / before - 1
'''

KPI_TESTS = """\
import math

import pytest

from kpi.rates import growth, run_rate, share


def test_share_of_whole():
    assert share(1, 4) == 0.25


def test_share_of_nothing():
    assert share(0, 0) == 0.0


def test_run_rate_scales_to_a_month():
    assert run_rate(10, 5) == 60


def test_run_rate_needs_days():
    with pytest.raises(ValueError):
        run_rate(10, 0)


def test_growth_doubles():
    assert growth(2, 4) == 1.0


def test_growth_shrinks():
    assert growth(4, 3) == -0.25


def test_growth_from_nothing_is_unbounded():
    assert growth(0, 3) == math.inf
"""

KPI_HIDDEN = """\
import math

from kpi.rates import growth


def test_hidden_growth_from_nothing_is_unbounded():
    assert growth(0, 7) == math.inf


def test_hidden_growth_of_nothing_is_zero():
    assert growth(0, 0) == 0.0


def test_hidden_growth_keeps_fractions():
    assert growth(4, 5) == 0.25
"""

KPI_BASE = (
    Commit(
        message="kpi: shares, run rates and growth",
        author=LENA,
        date="2026-03-02T09:10:00+01:00",
        files={
            "README.md": KPI_README,
            ".gitignore": GITIGNORE,
            "kpi/__init__.py": KPI_INIT,
            "kpi/rates.py": KPI_RATES,
            "tests/test_rates.py": KPI_TESTS,
        },
        tag="v0.4.0",
    ),
)
KPI_BUG = Commit(
    message="rates: growth as one expression",
    author=RAVI,
    date="2026-03-05T16:42:00+01:00",
    files={"kpi/rates.py": KPI_RATES_BUGGY},
)
KPI_LATER = Commit(
    message="README: where the figures go",
    author=LENA,
    date="2026-03-06T10:00:00+01:00",
    files={"README.md": KPI_README + "\nThe dashboard reads them once a week.\n"},
)

# --- sampling: latency percentiles (IndexError) ---------------------------------------------

SAMPLING_README = """\
# sampling

Latency percentiles over a window of samples, for the on-call report.
"""

SAMPLING_INIT = '''\
"""sampling: percentiles over latency samples."""
'''

SAMPLING_STATS = '''\
"""Percentiles by the nearest-rank method; an empty window has no percentile (NaN)."""

import math


def nearest_rank(count: int, q: float) -> int:
    """The 0-based index of the `q`-th percentile among `count` ordered samples."""
    return max(0, math.ceil(q / 100 * count) - 1)


def percentile(samples: list[float], q: float) -> float:
    """The `q`-th percentile of `samples` (0 < q <= 100); NaN for an empty window."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[nearest_rank(len(ordered), q)]


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `samples`, as the report prints them."""
    return {f"p{q}": percentile(samples, q) for q in (50, 95, 99)}
'''

SAMPLING_STATS_BUGGY = '''\
"""Percentiles by the nearest-rank method; an empty window has no percentile (NaN)."""

import math


def nearest_rank(count: int, q: float) -> int:
    """The 0-based index of the `q`-th percentile among `count` ordered samples."""
    return max(0, math.ceil(q / 100 * count) - 1)


def percentile(samples: list[float], q: float) -> float:
    """The `q`-th percentile of `samples` (0 < q <= 100); NaN for an empty window."""
    ordered = sorted(samples)
    return ordered[nearest_rank(len(ordered), q)]


def summary(samples: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `samples`, as the report prints them."""
    return {f"p{q}": percentile(samples, q) for q in (50, 95, 99)}
'''

SAMPLING_TESTS = """\
import math

from sampling.stats import nearest_rank, percentile, summary


def test_nearest_rank():
    assert nearest_rank(10, 50) == 4


def test_median_of_odd_window():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0


def test_p99_is_the_slowest_of_few():
    assert percentile([5.0, 9.0, 7.0], 99) == 9.0


def test_summary_keys():
    assert set(summary([1.0, 2.0])) == {"p50", "p95", "p99"}


def test_empty_window_has_no_percentile():
    assert math.isnan(percentile([], 95))
"""

SAMPLING_HIDDEN = """\
import math

from sampling.stats import percentile, summary


def test_hidden_empty_window_is_nan():
    assert math.isnan(percentile([], 50))


def test_hidden_empty_summary_is_all_nan():
    assert all(math.isnan(value) for value in summary([]).values())


def test_hidden_one_sample():
    assert percentile([4.0], 95) == 4.0
"""

SAMPLING_BASE = (
    Commit(
        message="sampling: nearest-rank percentiles",
        author=KOFI,
        date="2026-04-07T11:20:00+00:00",
        files={
            "README.md": SAMPLING_README,
            ".gitignore": GITIGNORE,
            "sampling/__init__.py": SAMPLING_INIT,
            "sampling/stats.py": SAMPLING_STATS_BUGGY,
            "tests/test_stats.py": SAMPLING_TESTS,
        },
        tag="v1.0.0",
    ),
)
SAMPLING_DOCS = Commit(
    message="README: the method",
    author=RAVI,
    date="2026-04-09T15:05:00+00:00",
    files={"README.md": SAMPLING_README + "\nNearest rank, no interpolation.\n"},
)
SAMPLING_LATER = Commit(
    message="gitignore: coverage files",
    author=KOFI,
    date="2026-04-10T08:30:00+00:00",
    files={".gitignore": GITIGNORE + ".coverage\n"},
)

# --- vat: tax rates by region (AttributeError on None) --------------------------------------

VAT_README = """\
# vat

Tax rates by region for the checkout; regions we do not know pay the standard rate.
"""

VAT_INIT = '''\
"""vat: tax rates by region."""
'''

VAT_RATES = '''\
"""The rate table. A region missing from it pays the standard rate."""

from dataclasses import dataclass

STANDARD_RATE = 0.2


@dataclass(frozen=True)
class Region:
    code: str
    rate: float


TABLE = {
    "DE": Region("DE", 0.19),
    "FR": Region("FR", 0.2),
    "LU": Region("LU", 0.17),
}


def find(code: str) -> Region | None:
    """The region named by `code` (case-insensitive), or None."""
    return TABLE.get(code.strip().upper())


def tax_rate(code: str) -> float:
    """The tax rate of the region `code`; the standard rate for a region we do not know."""
    region = find(code)
    return region.rate if region is not None else STANDARD_RATE


def tax(amount: float, code: str) -> float:
    return round(amount * tax_rate(code), 2)
'''

VAT_RATES_BUGGY = VAT_RATES.replace(
    "    return region.rate if region is not None else STANDARD_RATE\n",
    "    return region.rate\n",
)

VAT_TESTS = """\
from vat.rates import STANDARD_RATE, find, tax, tax_rate


def test_find_is_case_insensitive():
    assert find(" de ").code == "DE"


def test_known_rate():
    assert tax_rate("LU") == 0.17


def test_tax_rounds_to_cents():
    assert tax(10.0, "DE") == 1.9


def test_unknown_region_pays_the_standard_rate():
    assert tax_rate("XX") == STANDARD_RATE
"""

VAT_HIDDEN = """\
from vat.rates import STANDARD_RATE, tax, tax_rate


def test_hidden_unknown_region_rate():
    assert tax_rate("ZZ") == STANDARD_RATE


def test_hidden_unknown_region_tax():
    assert tax(100.0, "QQ") == 20.0


def test_hidden_known_region():
    assert tax_rate("fr") == 0.2
"""

VAT_BASE = (
    Commit(
        message="vat: rate table and tax",
        author=LENA,
        date="2026-05-11T13:00:00+02:00",
        files={
            "README.md": VAT_README,
            ".gitignore": GITIGNORE,
            "vat/__init__.py": VAT_INIT,
            "vat/rates.py": VAT_RATES,
            "tests/test_rates.py": VAT_TESTS,
        },
        tag="v2.1.0",
    ),
)
VAT_BUG = Commit(
    message="rates: the table covers every region we ship to",
    author=KOFI,
    date="2026-05-13T17:25:00+02:00",
    files={"vat/rates.py": VAT_RATES_BUGGY},
)
VAT_LATER = Commit(
    message="README: the standard rate",
    author=RAVI,
    date="2026-05-14T09:40:00+02:00",
    files={"README.md": VAT_README + "\nThe standard rate is 20 %.\n"},
)

COMMON = {
    "app": "library",
    "kind": "crash",
    "test_command": "python -m pytest -q tests",
    "extra_tags": ("reported-test-crash",),
}

CASES: list[CaseSpec] = [
    CaseSpec(
        id="kpi-growth-from-zero",
        title="growth(0, n) divides by zero where the test expects math.inf",
        bug_class="division-by-zero",
        history=(*KPI_BASE, KPI_BUG, KPI_LATER),
        failing_tests=("tests/test_rates.py::test_growth_from_nothing_is_unbounded",),
        gold=Gold("kpi/rates.py", "growth", KPI_BUG.message),
        fix={"kpi/rates.py": KPI_RATES},
        hidden={"tests/test_hidden_growth.py": KPI_HIDDEN},
        project="4507420",
        **COMMON,  # type: ignore[arg-type]
    ),
    CaseSpec(
        id="sampling-empty-percentile",
        title="percentile of an empty window raises IndexError where the test expects NaN",
        bug_class="index-error",
        history=(*SAMPLING_BASE, SAMPLING_DOCS, SAMPLING_LATER),
        failing_tests=("tests/test_stats.py::test_empty_window_has_no_percentile",),
        gold=Gold("sampling/stats.py", "percentile", SAMPLING_BASE[0].message),
        fix={"sampling/stats.py": SAMPLING_STATS},
        hidden={"tests/test_hidden_percentile.py": SAMPLING_HIDDEN},
        project="4507421",
        **COMMON,  # type: ignore[arg-type]
    ),
    CaseSpec(
        id="vat-unknown-region",
        title="tax_rate of an unknown region reads .rate of None where the test expects the "
        "standard rate",
        bug_class="none-attribute",
        history=(*VAT_BASE, VAT_BUG, VAT_LATER),
        failing_tests=("tests/test_rates.py::test_unknown_region_pays_the_standard_rate",),
        gold=Gold("vat/rates.py", "tax_rate", VAT_BUG.message),
        fix={"vat/rates.py": VAT_RATES},
        hidden={"tests/test_hidden_rates.py": VAT_HIDDEN},
        project="4507422",
        **COMMON,  # type: ignore[arg-type]
    ),
]

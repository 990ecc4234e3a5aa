"""pricekit: a money/currency library (Money type, rates, allocation, formatting, price rules).

One shared base history (four commits, three authors, tagged v1.3.0); each case adds the commit
that introduced its bug and, usually, unrelated later work on other files.
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

ANA = "Ana Ruiz <ana.ruiz@acme-shop.io>"
TOM = "Tom Becker <tom.becker@acme-shop.io>"
PRIYA = "Priya Nair <priya.nair@acme-shop.io>"
PROJECT = "4507311"


def _sub(text: str, old: str, new: str) -> str:
    """`text` with the one occurrence of `old` replaced (a guard against silent no-op edits)."""
    if text.count(old) != 1:
        raise ValueError(f"expected exactly one occurrence of {old!r}")
    return text.replace(old, new)


# --- base files -----------------------------------------------------------------------------

PYPROJECT = r"""[project]
name = "pricekit"
version = "1.3.0"
description = "Exact money arithmetic, conversion, allocation and price rules for the shop services"
requires-python = ">=3.11"

[project.scripts]
pricekit = "pricekit.cli:main"

[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[tool.setuptools.packages.find]
where = ["src"]

[tool.pytest.ini_options]
pythonpath = ["src"]
testpaths = ["tests"]
"""

README = r"""# pricekit

Exact money arithmetic for the Acme shop services: a `Money` value type on `Decimal`,
ISO 4217 currencies, exchange-rate tables, allocation without losing cents, locale-aware
formatting and the small price-rule language the merchandising team writes rules in.

```python
from pricekit.money import Money
from pricekit.allocate import split

split(Money.of("100.00", "EUR"), 3)   # 33.34, 33.33, 33.33
```

Run the tests with `python -m pytest`.
"""

INIT = r'''"""pricekit: exact money arithmetic for the shop services."""

from pricekit.currency import CURRENCIES, Currency, UnknownCurrency, get_currency
from pricekit.money import CurrencyMismatch, Money

__all__ = ["CURRENCIES", "Currency", "CurrencyMismatch", "Money", "UnknownCurrency", "get_currency"]
__version__ = "1.3.0"
'''

CURRENCY = r'''"""ISO 4217 currencies the shop trades in, with their minor units and display symbols."""

from __future__ import annotations

from dataclasses import dataclass


class UnknownCurrency(KeyError):
    """A currency code that is not in `CURRENCIES`."""


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int
    """Digits of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD."""
    symbol: str | None
    """Display symbol; None where people write the ISO code (CHF, KWD)."""
    name: str


CURRENCIES: dict[str, Currency] = {
    currency.code: currency
    for currency in (
        Currency("EUR", 2, "€", "Euro"),
        Currency("USD", 2, "$", "US Dollar"),
        Currency("GBP", 2, "£", "Pound Sterling"),
        Currency("JPY", 0, "¥", "Yen"),
        Currency("CHF", 2, None, "Swiss Franc"),
        Currency("SEK", 2, "kr", "Swedish Krona"),
        Currency("KWD", 3, None, "Kuwaiti Dinar"),
    )
}


def get_currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        raise UnknownCurrency(code) from None
'''

MONEY = r'''"""The Money value type: an exact decimal amount in one currency."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import total_ordering

from pricekit.currency import get_currency


class CurrencyMismatch(ValueError):
    """Arithmetic or comparison between amounts in different currencies."""


@total_ordering
@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            try:
                object.__setattr__(self, "amount", Decimal(str(self.amount)))
            except InvalidOperation:
                raise ValueError(f"not an amount: {self.amount!r}") from None
        get_currency(self.currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(Decimal(str(amount)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def parse(cls, text: str) -> Money:
        """`"12.50 EUR"` -> Money(Decimal("12.50"), "EUR")."""
        amount, _, currency = text.strip().partition(" ")
        if not currency.strip():
            raise ValueError(f"expected '<amount> <currency>', got {text!r}")
        return cls.of(amount, currency.strip().upper())

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        exponent = get_currency(currency).exponent
        return cls(Decimal(units).scaleb(-exponent), currency)

    @property
    def minor_units(self) -> int:
        """The amount in minor units (cents); it must already be rounded to them."""
        exponent = get_currency(self.currency).exponent
        scaled = self.amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} has more than {exponent} decimal places")
        return int(scaled)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: object) -> Money:
        if not isinstance(factor, (int, Decimal)) or isinstance(factor, bool):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
'''

ROUNDING = r'''"""Rounding amounts to a currency's minor unit, in the modes finance asks for."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from pricekit.currency import get_currency
from pricekit.money import Money

MODES = {
    "half_even": ROUND_HALF_EVEN,  # banker's rounding: conversions and ledgers
    "half_up": ROUND_HALF_UP,  # what customers expect on receipts
    "down": ROUND_DOWN,
    "ceiling": ROUND_CEILING,
    "floor": ROUND_FLOOR,
}


def rounding_mode(mode: str) -> str:
    """The `decimal` rounding constant for one of our mode names."""
    try:
        return MODES[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}; expected one of {sorted(MODES)}") from None


def quantize(amount: Decimal, exponent: int, mode: str = "half_even") -> Decimal:
    """`amount` rounded to `exponent` decimal places."""
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=rounding_mode(mode))


def round_money(money: Money, mode: str = "half_even") -> Money:
    """`money` rounded to its currency's minor unit."""
    exponent = get_currency(money.currency).exponent
    return Money(quantize(money.amount, exponent, mode), money.currency)
'''

EXCHANGE = r'''"""Exchange-rate tables and currency conversion."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from pricekit.currency import UnknownCurrency, get_currency
from pricekit.money import Money
from pricekit.rounding import quantize


class RateTable:
    """Rates quoted against one base currency: one unit of `base` buys `rate` units of a quote.

    Treasury publishes EUR-based rates once a day: `RateTable("EUR", {"USD": "1.0842"})`.
    """

    def __init__(self, base: str, rates: Mapping[str, Decimal | str]) -> None:
        get_currency(base)
        self.base = base
        self._rates: dict[str, Decimal] = {base: Decimal(1)}
        for code, rate in rates.items():
            self.set_rate(code, rate)

    def set_rate(self, code: str, rate: Decimal | str) -> None:
        get_currency(code)
        value = Decimal(str(rate))
        if value <= 0:
            raise ValueError(f"rate for {code} must be positive, got {rate!r}")
        self._rates[code] = value

    def _quote(self, code: str) -> Decimal:
        try:
            return self._rates[code]
        except KeyError:
            raise UnknownCurrency(code) from None

    def rate(self, source: str, target: str) -> Decimal:
        """Units of `target` one unit of `source` buys."""
        return self._quote(target) / self._quote(source)

    def convert(self, money: Money, target: str, mode: str = "half_even") -> Money:
        """`money` in `target`, rounded to the target's minor unit."""
        if money.currency == target:
            return money
        converted = money.amount * self.rate(money.currency, target)
        return Money(quantize(converted, get_currency(target).exponent, mode), target)
'''

ALLOCATE = r'''"""Splitting an amount into parts without creating or losing minor units."""

from __future__ import annotations

from collections.abc import Sequence

from pricekit.money import Money


def allocate(money: Money, ratios: Sequence[int]) -> list[Money]:
    """Split `money` by integer `ratios`; leftover minor units go to the first parts.

    allocate(Money.of("100.00", "EUR"), [1, 1, 1]) -> 33.34, 33.33, 33.33
    """
    if not ratios:
        raise ValueError("allocate needs at least one ratio")
    if any(ratio < 0 for ratio in ratios) or sum(ratios) == 0:
        raise ValueError(f"ratios must be non-negative and not all zero: {list(ratios)}")
    total = money.minor_units
    weight = sum(ratios)
    shares = [total * ratio // weight for ratio in ratios]
    remainder = total - sum(shares)
    for index in range(remainder):
        shares[index] += 1
    return [Money.from_minor(share, money.currency) for share in shares]


def split(money: Money, parts: int) -> list[Money]:
    """Split evenly into `parts` (instalments, shared bills)."""
    if parts < 1:
        raise ValueError(f"cannot split into {parts} parts")
    return allocate(money, [1] * parts)
'''

FMT = r'''"""Formatting money for receipts, invoices and customer emails."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pricekit.currency import get_currency
from pricekit.money import Money
from pricekit.rounding import quantize

NBSP = "\u00a0"


@dataclass(frozen=True)
class Locale:
    decimal: str
    group: str
    symbol_first: bool
    space: bool
    """Whether a (no-break) space separates the symbol from the number."""


LOCALES: dict[str, Locale] = {
    "en_US": Locale(".", ",", symbol_first=True, space=False),
    "de_DE": Locale(",", ".", symbol_first=False, space=True),
    "de_CH": Locale(".", "'", symbol_first=True, space=True),
    "sv_SE": Locale(",", NBSP, symbol_first=False, space=True),
    "ja_JP": Locale(".", ",", symbol_first=True, space=False),
}


def group_digits(digits: str, separator: str) -> str:
    """'1234567' -> '1,234,567'."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def format_number(amount: Decimal, exponent: int, locale: Locale) -> str:
    text = f"{abs(quantize(amount, exponent)):f}"
    whole, _, fraction = text.partition(".")
    number = group_digits(whole, locale.group)
    return f"{number}{locale.decimal}{fraction}" if fraction else number


def format_money(money: Money, locale: str = "en_US", *, use_code: bool = False) -> str:
    """`format_money(Money.of("1234.5", "EUR"), "de_DE")` -> '1.234,50 €'."""
    try:
        style = LOCALES[locale]
    except KeyError:
        raise ValueError(f"unsupported locale {locale!r}") from None
    currency = get_currency(money.currency)
    number = format_number(money.amount, currency.exponent, style)
    label = currency.code if use_code or currency.symbol is None else currency.symbol
    gap = NBSP if style.space or len(label) > 1 else ""
    text = f"{label}{gap}{number}" if style.symbol_first else f"{number}{gap}{label}"
    return f"-{text}" if money.amount < 0 else text
'''

RULES = r'''"""Price rules the merchandising team writes in the admin, evaluated exactly:

    max(subtotal - 5, subtotal * 0.95)
    min(qty, 10) * 2.50
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from pricekit.money import Money


class RuleError(ValueError):
    """A rule that does not parse, or refers to an unknown name."""


_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z_]\w*|\S")
FUNCTIONS: dict[str, Callable[..., Decimal]] = {"min": min, "max": max, "abs": abs}


class _Parser:
    """Recursive descent: expression > term > factor."""

    def __init__(self, tokens: list[str], variables: Mapping[str, Decimal | int | str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.variables = variables

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise RuleError(f"expected {expected or 'a value'}, got {token or 'the end'}")
        self.position += 1
        return token

    def expression(self) -> Decimal:
        value = self.term()
        while self.peek() in ("+", "-"):
            if self.take() == "+":
                value += self.term()
            else:
                value -= self.term()
        return value

    def term(self) -> Decimal:
        value = self.factor()
        while self.peek() in ("*", "/"):
            operator = self.take()
            right = self.factor()
            if operator == "*":
                value *= right
            elif right == 0:
                raise RuleError("division by zero")
            else:
                value /= right
        return value

    def factor(self) -> Decimal:
        token = self.take()
        if token == "(":
            value = self.expression()
            self.take(")")
            return value
        if token[0].isdigit():
            return Decimal(token)
        if token in FUNCTIONS:
            return self.call(FUNCTIONS[token])
        if token in self.variables:
            return Decimal(str(self.variables[token]))
        raise RuleError(f"unexpected {token!r}")

    def call(self, function: Callable[..., Decimal]) -> Decimal:
        self.take("(")
        arguments = [self.expression()]
        while self.peek() == ",":
            self.take(",")
            arguments.append(self.expression())
        self.take(")")
        return Decimal(function(*arguments))


def evaluate(rule: str, variables: Mapping[str, Decimal | int | str]) -> Decimal:
    """The value of `rule` with `variables` bound."""
    parser = _Parser(_TOKEN.findall(rule), variables)
    value = parser.expression()
    if parser.peek() is not None:
        raise RuleError(f"unexpected {parser.peek()!r} in {rule!r}")
    return value


class RuleSet:
    """Named rules applied in order; each sees the running price as `price`."""

    def __init__(self, currency: str, rules: Sequence[tuple[str, str]] = ()) -> None:
        self.currency = currency
        self.rules: list[tuple[str, str]] = list(rules)

    def add(self, name: str, rule: str) -> RuleSet:
        self.rules.append((name, rule))
        return self

    def apply(self, subtotal: Money, **variables: Decimal | int) -> Money:
        if subtotal.currency != self.currency:
            raise RuleError(f"rule set is for {self.currency}, got {subtotal.currency}")
        price = subtotal.amount
        for name, rule in self.rules:
            bound = {**variables, "subtotal": subtotal.amount, "price": price}
            try:
                price = evaluate(rule, bound)
            except RuleError as error:
                raise RuleError(f"rule {name!r}: {error}") from None
        return Money(price, self.currency)
'''

CLI = r'''"""`pricekit` on the command line: quotes, totals and splits for support and finance."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal

from pricekit.allocate import split
from pricekit.exchange import RateTable
from pricekit.fmt import format_money
from pricekit.money import Money
from pricekit.rounding import round_money
from pricekit.rules import evaluate


def cmd_quote(args: argparse.Namespace) -> str:
    subtotal = Money.parse(args.subtotal)
    variables = {"subtotal": subtotal.amount, "qty": Decimal(args.qty)}
    price = Money(evaluate(args.rule, variables), subtotal.currency)
    return format_money(round_money(price, args.rounding), args.locale)


def cmd_total(args: argparse.Namespace) -> str:
    table = RateTable(args.base, dict(pair.upper().split("=", 1) for pair in args.rate))
    total = Money.zero(args.to)
    for item in args.amounts:
        total = total + table.convert(Money.parse(item), args.to)
    return format_money(total, args.locale)


def cmd_split(args: argparse.Namespace) -> str:
    parts = split(Money.parse(args.amount), args.parts)
    return "\n".join(format_money(part, args.locale) for part in parts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pricekit")
    parser.add_argument("--locale", default="en_US")
    commands = parser.add_subparsers(dest="command", required=True)

    quote = commands.add_parser("quote", help="price an order with a rule")
    quote.add_argument("subtotal", help='e.g. "120.00 EUR"')
    quote.add_argument("--rule", default="subtotal")
    quote.add_argument("--qty", default="1")
    quote.add_argument("--rounding", default="half_up")
    quote.set_defaults(handler=cmd_quote)

    total = commands.add_parser("total", help="sum amounts in one currency")
    total.add_argument("amounts", nargs="+")
    total.add_argument("--to", default="EUR")
    total.add_argument("--base", default="EUR")
    total.add_argument("--rate", action="append", default=[], help="CODE=RATE against --base")
    total.set_defaults(handler=cmd_total)

    parts = commands.add_parser("split", help="split an amount into equal parts")
    parts.add_argument("amount")
    parts.add_argument("parts", type=int)
    parts.set_defaults(handler=cmd_split)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(args.handler(args))
    return 0
'''

TEST_MONEY = r"""import pytest

from pricekit.money import CurrencyMismatch, Money


def test_parse_arithmetic_and_minor_units():
    money = Money.parse("12.50 eur")
    assert money == Money.of("12.50", "EUR")
    assert money + Money.of("2.50", "EUR") - Money.of("1", "EUR") == Money.of("14.00", "EUR")
    assert Money.of("2.50", "EUR") * 3 == Money.of("7.50", "EUR")
    assert Money.of("12.34", "EUR").minor_units == 1234
    assert Money.from_minor(1500, "JPY") == Money.of("1500", "JPY")


def test_mixing_currencies_raises():
    with pytest.raises(CurrencyMismatch):
        Money.of("1", "EUR") + Money.of("1", "USD")


def test_ordering_within_currency():
    assert Money.of("9.99", "EUR") < Money.of("10.00", "EUR")
    assert Money.of("10.00", "EUR") <= Money.of("10", "EUR")
    assert Money.of("10.01", "EUR") > Money.of("10.00", "EUR")
    assert max(Money.of("3", "USD"), Money.of("7", "USD")) == Money.of("7", "USD")
"""

TEST_ROUNDING = r"""from decimal import Decimal

import pytest

from pricekit.money import Money
from pricekit.rounding import quantize, round_money


def test_modes_and_currency_exponents():
    assert quantize(Decimal("2.345"), 2) == Decimal("2.34")
    assert round_money(Money.of("2.345", "EUR"), "half_up") == Money.of("2.35", "EUR")
    assert round_money(Money.of("1499.5", "JPY"), "half_up").amount == Decimal("1500")
    assert round_money(Money.of("1.2345", "KWD")).amount == Decimal("1.234")


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown rounding mode"):
        quantize(Decimal("1.005"), 2, "bankers")
"""

TEST_EXCHANGE = r"""from decimal import Decimal

import pytest

from pricekit.currency import UnknownCurrency
from pricekit.exchange import RateTable
from pricekit.money import Money

RATES = RateTable("EUR", {"USD": "1.0842", "GBP": "0.8571", "JPY": "162.35"})


def test_convert_rounds_to_target_minor_unit():
    assert RATES.rate("EUR", "USD") == Decimal("1.0842")
    assert RATES.convert(Money.of("10.00", "USD"), "EUR").amount == Decimal("9.22")
    assert RATES.convert(Money.of("10.00", "EUR"), "JPY").amount == Decimal("1624")


def test_same_currency_and_missing_rates():
    money = Money.of("5.00", "GBP")
    assert RATES.convert(money, "GBP") is money
    with pytest.raises(UnknownCurrency):
        RATES.convert(Money.of("1.00", "CHF"), "EUR")
"""

TEST_ALLOCATE = r"""import pytest

from pricekit.allocate import allocate, split
from pricekit.money import Money


def eur(amount):
    return Money.of(amount, "EUR")


def test_split_three_ways_keeps_every_cent():
    assert split(eur("100.00"), 3) == [eur("33.34"), eur("33.33"), eur("33.33")]
    assert allocate(eur("10.00"), [3, 7]) == [eur("3.00"), eur("7.00")]


def test_allocate_rejects_bad_ratios():
    with pytest.raises(ValueError):
        allocate(eur("1.00"), [0, 0])
    with pytest.raises(ValueError):
        split(eur("1.00"), 0)
"""

TEST_FMT = r"""from pricekit.fmt import NBSP, format_money
from pricekit.money import Money


def test_locales():
    assert format_money(Money.of("1234.5", "USD")) == "$1,234.50"
    assert format_money(Money.of("1234.5", "EUR"), "de_DE") == f"1.234,50{NBSP}€"
    assert format_money(Money.of("1500", "JPY"), "ja_JP") == "¥1,500"
    assert format_money(Money.of("-3.2", "GBP")) == "-£3.20"
"""

TEST_RULES = r"""from decimal import Decimal

import pytest

from pricekit.money import Money
from pricekit.rules import RuleError, RuleSet, evaluate


def test_precedence_variables_and_functions():
    assert evaluate("2 + 3 * 4", {}) == 14
    assert evaluate("(2 + 3) * 4", {}) == 20
    assert evaluate("max(subtotal - 5, subtotal * 0.95)", {"subtotal": Decimal("200")}) == 195
    assert evaluate("min(qty, 10) * 2.50", {"qty": 12}) == Decimal("25.00")
    with pytest.raises(RuleError):
        evaluate("subtotal * vip", {"subtotal": 1})


def test_rule_set_applies_rules_in_order():
    rules = RuleSet("EUR").add("sale", "price * 0.9").add("coupon", "price - 5")
    assert rules.apply(Money.of("100.00", "EUR")) == Money.of("85.00", "EUR")


def test_rule_sets_do_not_share_rules():
    retail = RuleSet("EUR")
    RuleSet("EUR").add("staff", "price * 0.8")
    assert retail.apply(Money.of("100.00", "EUR")) == Money.of("100.00", "EUR")
"""

TEST_CLI = r"""from pricekit.cli import main


def test_quote_and_split(capsys):
    assert main(["quote", "100.00 EUR", "--rule", "subtotal * 0.9"]) == 0
    assert main(["split", "10.00 USD", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == ["€90.00", "$3.34", "$3.33", "$3.33"]
"""

BASE = (
    Commit(
        message="Initial pricekit: Money, currencies and rounding",
        author=ANA,
        date="2026-01-12T09:40:00+01:00",
        files={
            "pyproject.toml": PYPROJECT,
            "README.md": README,
            ".gitignore": "__pycache__/\n*.egg-info/\n.pytest_cache/\n",
            "src/pricekit/__init__.py": INIT,
            "src/pricekit/currency.py": CURRENCY,
            "src/pricekit/money.py": MONEY,
            "src/pricekit/rounding.py": ROUNDING,
            "tests/test_money.py": TEST_MONEY,
            "tests/test_rounding.py": TEST_ROUNDING,
        },
    ),
    Commit(
        message="exchange rate tables; allocate amounts without losing cents",
        author=TOM,
        date="2026-01-19T16:22:00+01:00",
        files={
            "src/pricekit/exchange.py": EXCHANGE,
            "src/pricekit/allocate.py": ALLOCATE,
            "tests/test_exchange.py": TEST_EXCHANGE,
            "tests/test_allocate.py": TEST_ALLOCATE,
        },
    ),
    Commit(
        message="fmt: locale-aware formatting for receipts and emails",
        author=PRIYA,
        date="2026-01-28T11:05:00+05:30",
        files={"src/pricekit/fmt.py": FMT, "tests/test_fmt.py": TEST_FMT},
    ),
    Commit(
        message="rules: price-rule expressions, RuleSet, and the pricekit CLI",
        author=ANA,
        date="2026-02-09T10:15:00+01:00",
        files={
            "src/pricekit/rules.py": RULES,
            "src/pricekit/cli.py": CLI,
            "tests/test_rules.py": TEST_RULES,
            "tests/test_cli.py": TEST_CLI,
        },
        tag="v1.3.0",
    ),
)

# --- unrelated later work (other files than the bug's) -------------------------------------------

CI = r"""name: tests
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python }}
      - run: pip install pytest
      - run: python -m pytest -q
"""

LATER_CI = Commit(
    message="ci: run the tests on 3.11 and 3.12",
    author=TOM,
    date="2026-03-03T08:50:00+01:00",
    files={".github/workflows/tests.yml": CI},
)

LATER_README = Commit(
    message="README: document the CLI",
    author=PRIYA,
    date="2026-03-04T15:20:00+05:30",
    files={
        "README.md": README
        + r"""
## Command line

    pricekit quote "120.00 EUR" --rule "max(subtotal - 5, subtotal * 0.95)"
    pricekit total "12.00 USD" "5.00 EUR" --to EUR --rate USD=1.0842
    pricekit split "100.00 EUR" 3
"""
    },
)

LATER_CURRENCIES = Commit(
    message="currency: add PLN and CZK for the new markets",
    author=TOM,
    date="2026-03-05T10:02:00+01:00",
    files={
        "src/pricekit/currency.py": _sub(
            CURRENCY,
            '        Currency("KWD", 3, None, "Kuwaiti Dinar"),\n',
            '        Currency("KWD", 3, None, "Kuwaiti Dinar"),\n'
            '        Currency("PLN", 2, "zł", "Polish Zloty"),\n'
            '        Currency("CZK", 2, "Kč", "Czech Koruna"),\n',
        )
    },
)

LATER_LOCALES = Commit(
    message="fmt: pl_PL and cs_CZ locales",
    author=PRIYA,
    date="2026-03-06T12:40:00+05:30",
    files={
        "src/pricekit/fmt.py": _sub(
            FMT,
            '    "ja_JP": Locale(".", ",", symbol_first=True, space=False),\n',
            '    "ja_JP": Locale(".", ",", symbol_first=True, space=False),\n'
            '    "pl_PL": Locale(",", NBSP, symbol_first=False, space=True),\n'
            '    "cs_CZ": Locale(",", NBSP, symbol_first=False, space=True),\n',
        )
    },
)

# --- case: wrong-operator (Money.__le__) ---------------------------------------------------------

_COMPARE_BASE = """    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount
"""

_COMPARE_EXPLICIT = """    # Explicit comparisons: functools.total_ordering showed up in the price-sorting profile.
    def _other_amount(self, other: Money) -> Decimal:
        self._same_currency(other)
        return other.amount

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._other_amount(other)

    def __le__(self, other: Money) -> bool:
        return self.amount < self._other_amount(other)

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._other_amount(other)

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._other_amount(other)
"""

MONEY_EXPLICIT_BUGGY = _sub(
    _sub(
        _sub(MONEY, "from functools import total_ordering\n", ""),
        "@total_ordering\n@dataclass",
        "@dataclass",
    ),
    _COMPARE_BASE,
    _COMPARE_EXPLICIT,
)
MONEY_EXPLICIT_FIXED = _sub(
    MONEY_EXPLICIT_BUGGY,
    "    def __le__(self, other: Money) -> bool:\n        return self.amount < self._other_amount(other)",
    "    def __le__(self, other: Money) -> bool:\n        return self.amount <= self._other_amount(other)",
)
BUG_ORDERING = "money: replace functools.total_ordering with explicit comparisons"

HIDDEN_ORDERING = r"""import pytest

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
"""

# --- case: off-by-one (allocate) -----------------------------------------------------------------

_LEFTOVER_BASE = """    for index in range(remainder):
        shares[index] += 1
"""

_LEFTOVER_LARGEST = """    # Largest ratios first: an extra cent matters least there, and a zero-ratio part
    # (a waived fee, a voucher line) must stay at zero.
    order = sorted(range(len(ratios)), key=lambda index: ratios[index], reverse=True)
    for position, index in enumerate(order):
        if position > remainder:
            break
        shares[index] += 1
"""

ALLOCATE_LARGEST_BUGGY = _sub(
    _sub(ALLOCATE, _LEFTOVER_BASE, _LEFTOVER_LARGEST),
    "leftover minor units go to the first parts.",
    "leftover minor units go to the largest parts.",
)
ALLOCATE_LARGEST_FIXED = _sub(
    ALLOCATE_LARGEST_BUGGY, "        if position > remainder:", "        if position >= remainder:"
)
BUG_ALLOCATE = "allocate: leftover cents go to the largest shares, never to zero-ratio parts"

TEST_ALLOCATE_LARGEST = (
    TEST_ALLOCATE
    + r"""

def test_leftover_goes_to_largest_share():
    assert allocate(eur("100.00"), [1, 2]) == [eur("33.33"), eur("66.67")]
    assert allocate(eur("10.00"), [0, 1, 1]) == [eur("0.00"), eur("5.00"), eur("5.00")]
"""
)

HIDDEN_ALLOCATE = r"""import pytest

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
"""

# --- case: runaway-recursion (unary minus) -------------------------------------------------------

RULES_UNARY_BUGGY = _sub(
    _sub(
        _sub(
            RULES,
            "    def term(self) -> Decimal:\n        value = self.factor()\n",
            "    def term(self) -> Decimal:\n        value = self.unary()\n",
        ),
        "            right = self.factor()\n",
        "            right = self.unary()\n",
    ),
    "    def factor(self) -> Decimal:\n",
    """    def unary(self) -> Decimal:
        if self.peek() == "-":
            return -self.unary()
        return self.factor()

    def factor(self) -> Decimal:
""",
)
RULES_UNARY_BUGGY = _sub(
    RULES_UNARY_BUGGY,
    """    min(qty, 10) * 2.50
""",
    """    min(qty, 10) * 2.50
    max(subtotal * -0.1, -20)          (credit notes)
""",
)
RULES_UNARY_FIXED = _sub(
    RULES_UNARY_BUGGY,
    """        if self.peek() == "-":
            return -self.unary()""",
    """        if self.peek() == "-":
            self.take("-")
            return -self.unary()""",
)
BUG_UNARY = "rules: unary minus, for credit-note and refund rules"

HIDDEN_UNARY = r"""from decimal import Decimal

from pricekit.rules import evaluate


def test_negative_literals_and_groups():
    assert evaluate("max(subtotal * -0.1, -20)", {"subtotal": Decimal("120")}) == Decimal("-12.0")
    assert evaluate("max(subtotal * -0.1, -20)", {"subtotal": Decimal("500")}) == Decimal("-20")
    assert evaluate("-(2 + 3) * 2", {}) == Decimal("-10")
    assert evaluate("5 - -2", {}) == Decimal("7")
    assert evaluate("--4", {}) == Decimal("4")


def test_binary_minus_unchanged():
    assert evaluate("subtotal - 5", {"subtotal": Decimal("12")}) == Decimal("7")
    assert evaluate("10 - 2 - 3", {}) == Decimal("5")
"""

# --- case: mutable-default (RuleSet) -------------------------------------------------------------

RULESET_BUGGY = _sub(
    RULES,
    """    def __init__(self, currency: str, rules: Sequence[tuple[str, str]] = ()) -> None:
        self.currency = currency
        self.rules: list[tuple[str, str]] = list(rules)
""",
    """    def __init__(self, currency: str, rules: list[tuple[str, str]] = []) -> None:
        self.currency = currency
        # Keep the caller's list, not a copy: the admin edits a rule set's list in place and
        # the running service picks the change up without a reload.
        self.rules = rules
""",
)
RULESET_FIXED = _sub(
    RULESET_BUGGY,
    """    def __init__(self, currency: str, rules: list[tuple[str, str]] = []) -> None:
        self.currency = currency
        # Keep the caller's list, not a copy: the admin edits a rule set's list in place and
        # the running service picks the change up without a reload.
        self.rules = rules
""",
    """    def __init__(self, currency: str, rules: list[tuple[str, str]] | None = None) -> None:
        self.currency = currency
        # Keep the caller's list, not a copy: the admin edits a rule set's list in place and
        # the running service picks the change up without a reload.
        self.rules = rules if rules is not None else []
""",
)
BUG_RULESET = "rules: RuleSet keeps the caller's list so admin edits apply live"

TEST_RULES_LIVE = (
    TEST_RULES
    + r"""

def test_rule_set_sees_edits_to_its_list():
    house = [("sale", "price * 0.9")]
    rules = RuleSet("EUR", house)
    house.append(("coupon", "price - 5"))
    assert rules.apply(Money.of("100.00", "EUR")) == Money.of("85.00", "EUR")
"""
)

HIDDEN_RULESET = r"""from pricekit.money import Money
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
"""

# --- case: wrong-variable (RateTable.convert) ----------------------------------------------------

EXCHANGE_VIA_BASE_BUGGY = _sub(
    EXCHANGE,
    """        converted = money.amount * self.rate(money.currency, target)
        return Money(quantize(converted, get_currency(target).exponent, mode), target)
""",
    """        # Through the base currency, the way treasury books cross rates (matches their report
        # to the cent, which the direct quotient did not for JPY).
        in_base = money.amount / self._quote(money.currency)
        exponent = get_currency(target).exponent
        converted = quantize(in_base * self._quote(target), exponent, mode)
        return Money(converted, money.currency)
""",
)
EXCHANGE_VIA_BASE_FIXED = _sub(
    EXCHANGE_VIA_BASE_BUGGY,
    "        return Money(converted, money.currency)\n",
    "        return Money(converted, target)\n",
)
BUG_EXCHANGE = "exchange: convert through the base currency to match treasury's cross rates"

HIDDEN_EXCHANGE = r"""from decimal import Decimal

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
"""

# --- case: unbound-local (rounding_mode fallback) ------------------------------------------------

ROUNDING_LENIENT_BUGGY = _sub(
    ROUNDING,
    """    try:
        return MODES[mode]
    except KeyError:
        raise ValueError(f"unknown rounding mode {mode!r}; expected one of {sorted(MODES)}") from None
""",
    """    try:
        rounding = MODES[mode]
    except KeyError:
        # Market configs carry names we do not know ("commercial", "bankers"); a quote should
        # not fail over that, so fall back to banker's rounding and say so.
        log.warning("unknown rounding mode %r, using half_even", mode)
    return rounding
""",
)
ROUNDING_LENIENT_BUGGY = _sub(
    _sub(
        ROUNDING_LENIENT_BUGGY,
        "from decimal import ROUND",
        "import logging\nfrom decimal import ROUND",
    ),
    "\nMODES = {",
    "\nlog = logging.getLogger(__name__)\n\nMODES = {",
)
ROUNDING_LENIENT_FIXED = _sub(
    ROUNDING_LENIENT_BUGGY,
    """        log.warning("unknown rounding mode %r, using half_even", mode)
""",
    """        log.warning("unknown rounding mode %r, using half_even", mode)
        rounding = ROUND_HALF_EVEN
""",
)
TEST_ROUNDING_LENIENT = _sub(
    TEST_ROUNDING,
    """

def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown rounding mode"):
        quantize(Decimal("1.005"), 2, "bankers")
""",
    "",
)
TEST_ROUNDING_LENIENT = _sub(TEST_ROUNDING_LENIENT, "import pytest\n\n", "")
BUG_ROUNDING = "rounding: fall back to half_even on unknown modes instead of failing the quote"

HIDDEN_ROUNDING = r"""from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from pricekit.money import Money
from pricekit.rounding import quantize, round_money, rounding_mode


def test_unknown_mode_falls_back_to_half_even():
    assert rounding_mode("commercial") == ROUND_HALF_EVEN
    assert quantize(Decimal("2.345"), 2, "commercial") == Decimal("2.34")
    assert round_money(Money.of("119.985", "EUR"), "bankers") == Money.of("119.98", "EUR")


def test_known_modes_unchanged():
    assert rounding_mode("half_up") == ROUND_HALF_UP
    assert quantize(Decimal("2.345"), 2, "half_up") == Decimal("2.35")
"""

# --- case: none-attribute (format_money) ---------------------------------------------------------

FMT_TRAILING_BUGGY = _sub(
    _sub(
        FMT,
        """def format_money(money: Money, locale: str = "en_US", *, use_code: bool = False) -> str:""",
        """def format_money(
    money: Money, locale: str = "en_US", *, use_code: bool = False, symbol: str | None = None
) -> str:""",
    ),
    """    label = currency.code if use_code or currency.symbol is None else currency.symbol
    gap = NBSP if style.space or len(label) > 1 else ""
    text = f"{label}{gap}{number}" if style.symbol_first else f"{number}{gap}{label}"
""",
    """    if use_code:
        label, trailing = currency.code, not style.symbol_first
    else:
        # Alphabetic symbols (kr, zł) go after the amount in every locale, as banks print them.
        label = symbol or currency.symbol
        trailing = not style.symbol_first or label.isalpha()
    gap = NBSP if style.space or len(label) > 1 else ""
    text = f"{number}{gap}{label}" if trailing else f"{label}{gap}{number}"
""",
)
FMT_TRAILING_FIXED = _sub(
    FMT_TRAILING_BUGGY,
    "    if use_code:\n        label, trailing = currency.code, not style.symbol_first\n",
    "    if use_code or (symbol or currency.symbol) is None:\n"
    "        label, trailing = currency.code, not style.symbol_first\n",
)
TEST_FMT_TRAILING = (
    TEST_FMT
    + r"""

def test_alphabetic_symbols_and_overrides():
    assert format_money(Money.of("99", "SEK"), "en_US") == f"99.00{NBSP}kr"
    assert format_money(Money.of("5", "USD"), "en_US", symbol="US$") == f"US${NBSP}5.00"
"""
)
BUG_FMT = "fmt: symbol override; alphabetic symbols go after the amount"

HIDDEN_FMT = r"""from pricekit.fmt import NBSP, format_money
from pricekit.money import Money


def test_currency_without_symbol_uses_its_code_in_place():
    assert format_money(Money.of("1234.5", "CHF"), "de_CH") == f"CHF{NBSP}1'234.50"
    assert format_money(Money.of("2.5", "KWD"), "de_DE") == f"2,500{NBSP}KWD"
    assert format_money(Money.of("-7", "CHF"), "en_US") == f"-CHF{NBSP}7.00"


def test_symbols_unchanged():
    assert format_money(Money.of("99", "SEK"), "en_US") == f"99.00{NBSP}kr"
    assert format_money(Money.of("1234.5", "USD")) == "$1,234.50"
    assert format_money(Money.of("3", "USD"), use_code=True) == f"USD{NBSP}3.00"
"""

# --- triggers -------------------------------------------------------------------------------------

TRIGGER_CLI = r"""#!/usr/bin/python3
# Finance's nightly job wrapper: {comment}
import sys

from pricekit.cli import main

if __name__ == "__main__":
    sys.exit(main({argv}))
"""


def _cli_trigger(comment: str, argv: list[str]) -> str:
    return TRIGGER_CLI.replace("{comment}", comment).replace("{argv}", repr(argv))


def _gold(file: str, function: str, message: str) -> Gold:
    return Gold(file=file, function=function, commit_message=message)


CASES: list[CaseSpec] = [
    CaseSpec(
        id="pricekit-wrong-operator",
        title="Money <= is false for equal amounts after dropping total_ordering",
        app="library",
        bug_class="wrong-operator",
        kind="wrong-value",
        history=(
            *BASE,
            Commit(
                message=BUG_ORDERING,
                author=TOM,
                date="2026-02-17T09:12:00+01:00",
                files={"src/pricekit/money.py": MONEY_EXPLICIT_BUGGY},
            ),
            LATER_CI,
        ),
        failing_tests=("tests/test_money.py::test_ordering_within_currency",),
        gold=_gold("src/pricekit/money.py", "Money.__le__", BUG_ORDERING),
        fix={"src/pricekit/money.py": MONEY_EXPLICIT_FIXED},
        hidden={"tests/test_hidden_ordering.py": HIDDEN_ORDERING},
        project=PROJECT,
        deploy_path="/opt/pricekit/current",
    ),
    CaseSpec(
        id="pricekit-off-by-one",
        title="allocate hands out one leftover cent too many",
        app="library",
        bug_class="off-by-one",
        kind="wrong-value",
        history=(
            *BASE,
            Commit(
                message=BUG_ALLOCATE,
                author=PRIYA,
                date="2026-02-19T14:31:00+05:30",
                files={
                    "src/pricekit/allocate.py": ALLOCATE_LARGEST_BUGGY,
                    "tests/test_allocate.py": TEST_ALLOCATE_LARGEST,
                },
            ),
            LATER_README,
        ),
        failing_tests=(
            "tests/test_allocate.py::test_leftover_goes_to_largest_share",
            "tests/test_allocate.py::test_split_three_ways_keeps_every_cent",
            "tests/test_cli.py::test_quote_and_split",
        ),
        gold=_gold("src/pricekit/allocate.py", "allocate", BUG_ALLOCATE),
        fix={"src/pricekit/allocate.py": ALLOCATE_LARGEST_FIXED},
        hidden={"tests/test_hidden_allocation.py": HIDDEN_ALLOCATE},
        project=PROJECT,
        deploy_path="/opt/pricekit/current",
    ),
    CaseSpec(
        id="pricekit-runaway-recursion",
        title="RecursionError evaluating a credit-note rule with unary minus",
        app="library",
        bug_class="runaway-recursion",
        history=(
            *BASE,
            Commit(
                message=BUG_UNARY,
                author=ANA,
                date="2026-02-23T17:45:00+01:00",
                files={"src/pricekit/rules.py": RULES_UNARY_BUGGY},
            ),
            LATER_CURRENCIES,
            LATER_LOCALES,
        ),
        trigger=_cli_trigger(
            "credit-note quotes for returned orders",
            ["quote", "120.00 EUR", "--rule", "max(subtotal * -0.1, -20)"],
        ),
        gold=_gold("src/pricekit/rules.py", "_Parser.unary", BUG_UNARY),
        fix={"src/pricekit/rules.py": RULES_UNARY_FIXED},
        hidden={"tests/test_hidden_unary_minus.py": HIDDEN_UNARY},
        project=PROJECT,
        deploy_path="/opt/pricekit/current",
    ),
    CaseSpec(
        id="pricekit-mutable-default",
        title="RuleSets created without rules share one list",
        app="library",
        bug_class="mutable-default",
        kind="wrong-value",
        history=(
            *BASE,
            Commit(
                message=BUG_RULESET,
                author=TOM,
                date="2026-02-25T11:03:00+01:00",
                files={
                    "src/pricekit/rules.py": RULESET_BUGGY,
                    "tests/test_rules.py": TEST_RULES_LIVE,
                },
            ),
            LATER_CI,
            LATER_LOCALES,
        ),
        failing_tests=("tests/test_rules.py::test_rule_sets_do_not_share_rules",),
        gold=_gold("src/pricekit/rules.py", "RuleSet.__init__", BUG_RULESET),
        fix={"src/pricekit/rules.py": RULESET_FIXED},
        hidden={"tests/test_hidden_ruleset_defaults.py": HIDDEN_RULESET},
        project=PROJECT,
        deploy_path="/app",
    ),
    CaseSpec(
        id="pricekit-wrong-variable",
        title="CurrencyMismatch summing converted amounts: convert keeps the source currency",
        app="library",
        bug_class="wrong-variable",
        history=(
            *BASE,
            Commit(
                message=BUG_EXCHANGE,
                author=TOM,
                date="2026-02-26T15:58:00+01:00",
                files={"src/pricekit/exchange.py": EXCHANGE_VIA_BASE_BUGGY},
            ),
            LATER_README,
        ),
        trigger=_cli_trigger(
            "EUR totals of the day's marketplace payouts",
            [
                "total",
                "12.00 USD",
                "5.00 EUR",
                "3.00 GBP",
                "--to",
                "EUR",
                "--rate",
                "USD=1.0842",
                "--rate",
                "GBP=0.8571",
            ],
        ),
        gold=_gold("src/pricekit/exchange.py", "RateTable.convert", BUG_EXCHANGE),
        fix={"src/pricekit/exchange.py": EXCHANGE_VIA_BASE_FIXED},
        hidden={"tests/test_hidden_convert_currency.py": HIDDEN_EXCHANGE},
        shape="sentry_webhook",
        project=PROJECT,
        deploy_path="/home/deploy/pricekit/releases/20260301",
    ),
    CaseSpec(
        id="pricekit-unbound-local",
        title="UnboundLocalError quoting with a market's unknown rounding mode",
        app="library",
        bug_class="unbound-local",
        history=(
            *BASE,
            Commit(
                message=BUG_ROUNDING,
                author=PRIYA,
                date="2026-03-02T10:27:00+05:30",
                files={
                    "src/pricekit/rounding.py": ROUNDING_LENIENT_BUGGY,
                    "tests/test_rounding.py": TEST_ROUNDING_LENIENT,
                },
            ),
            LATER_CURRENCIES,
        ),
        trigger=_cli_trigger(
            "DE market price list (market config says rounding = commercial)",
            [
                "--locale",
                "de_DE",
                "quote",
                "100.00 EUR",
                "--rule",
                "subtotal * 1.19",
                "--rounding",
                "commercial",
            ],
        ),
        gold=_gold("src/pricekit/rounding.py", "rounding_mode", BUG_ROUNDING),
        fix={"src/pricekit/rounding.py": ROUNDING_LENIENT_FIXED},
        hidden={"tests/test_hidden_rounding_fallback.py": HIDDEN_ROUNDING},
        project=PROJECT,
        deploy_path="/app",
    ),
    CaseSpec(
        id="pricekit-none-attribute",
        title="AttributeError formatting CHF: currency without a symbol",
        app="library",
        bug_class="none-attribute",
        history=(
            *BASE,
            Commit(
                message=BUG_FMT,
                author=PRIYA,
                date="2026-03-03T13:14:00+05:30",
                files={
                    "src/pricekit/fmt.py": FMT_TRAILING_BUGGY,
                    "tests/test_fmt.py": TEST_FMT_TRAILING,
                },
            ),
            LATER_CI,
        ),
        trigger=_cli_trigger(
            "instalment plans for the Swiss shop",
            ["--locale", "de_CH", "split", "1234.50 CHF", "3"],
        ),
        gold=_gold("src/pricekit/fmt.py", "format_money", BUG_FMT),
        fix={"src/pricekit/fmt.py": FMT_TRAILING_FIXED},
        hidden={"tests/test_hidden_format_codes.py": HIDDEN_FMT},
        shape="sentry_api",
        project=PROJECT,
        deploy_path="/srv/pricekit",
    ),
]

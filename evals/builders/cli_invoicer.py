"""invoicer: the billing team's command-line tool (app `cli`).

It reads line items (the sales CSV export or the shop's JSON), prices them (volume discounts,
per-region VAT, cent rounding), renders invoices and reminders, and exports them to the output
directory. One base history; each case adds its own bug commit and a later unrelated commit or two.
"""

from __future__ import annotations

from evals.builders.kit import CaseSpec, Commit, Gold

MARTA = "Marta Kowalczyk <marta.kowalczyk@lindqvist-supply.eu>"
DANIEL = "Daniel Okafor <daniel.okafor@lindqvist-supply.eu>"
PRIYA = "Priya Raman <priya@raman.dev>"
PROJECT = "4507311"


def _patch(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"patch anchor found {text.count(old)} times: {old[:60]!r}")
    return text.replace(old, new)


# --- base application ---------------------------------------------------------------------

PYPROJECT = """[project]
name = "invoicer"
version = "1.3.0"
description = "Invoices and payment reminders from sales exports"
requires-python = ">=3.11"

[project.scripts]
invoicer = "invoicer.cli:main"

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

README = """# invoicer

Invoices and payment reminders for Lindqvist Supply, from the sales team's CSV export or the
shop's JSON order dump.

    invoicer render var/inbox/acme-2026-03.csv --customer "ACME GmbH" --region DE
    invoicer totals var/inbox/acme-2026-03.csv --region FR
    invoicer export var/inbox/acme-2026-03.csv --customer "ACME GmbH" --format csv
    invoicer remind var/inbox/acme-2026-03.csv --customer "ACME GmbH"

Exports go to `$INVOICER_OUTPUT_DIR/<yyyy-mm>/` (default `./out`).
Run the tests with `python -m pytest`.
"""

GITIGNORE = """__pycache__/
*.pyc
.pytest_cache/
out/
var/
"""

INIT = '''"""invoicer: invoices and reminders from sales exports."""

__version__ = "1.3.0"
'''

MONEY = '''"""Money helpers: everything is a Decimal, rounded half-up to the cent at the end of a step."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(value: Decimal, rate: Decimal) -> Decimal:
    """`rate` percent of `value`, rounded to the cent."""
    return round_money(value * rate / 100)


def format_money(value: Decimal) -> str:
    """1234.5 -> '1,234.50'; the currency is the caller's business."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(round_money(value)):,.2f}"
'''

ITEMS = '''"""Line items, from the sales team's CSV export or the shop's JSON order dump."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

REQUIRED = ("sku", "description", "quantity", "unit_price")
CURRENCY_MARKS = ("EUR", "USD", "GBP", "\\u20ac", "$", "\\u00a3")


class ItemError(ValueError):
    """A line item that cannot be read."""


@dataclass(frozen=True)
class LineItem:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    category: str = "standard"


def load_items(path: str | Path) -> list[LineItem]:
    path = Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data["items"] if isinstance(data, dict) else data
    else:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    return [parse_item(row, number) for number, row in enumerate(rows, start=1)]


def parse_item(row: dict, number: int = 0) -> LineItem:
    missing = [name for name in REQUIRED if row.get(name) in (None, "")]
    if missing:
        raise ItemError(f"item {number}: missing {', '.join(missing)}")
    return LineItem(
        sku=str(row["sku"]).strip(),
        description=str(row["description"]).strip(),
        quantity=parse_quantity(row["quantity"]),
        unit_price=parse_price(row["unit_price"]),
        category=(row.get("category") or "standard").strip().lower(),
    )


def parse_quantity(raw: str | int) -> int:
    quantity = int(str(raw).strip())
    if quantity <= 0:
        raise ItemError(f"quantity must be positive, got {raw!r}")
    return quantity


def parse_price(raw: str | int | float) -> Decimal:
    """'1,250.00', 'EUR 12.50', ' 3.5 ' -> Decimal; the sales export formats amounts for people."""
    return Decimal(_clean_amount(raw))


def _clean_amount(raw: str | int | float) -> str:
    text = str(raw).strip()
    for mark in CURRENCY_MARKS:
        text = text.replace(mark, "")
    return text.replace(",", "").replace(" ", "")
'''

PRICING = '''"""Volume discounts: ordering more of one SKU lowers its price."""

from __future__ import annotations

from decimal import Decimal

# (minimum quantity, percent off), ascending.
VOLUME_TIERS = (
    (1, Decimal("0")),
    (10, Decimal("5")),
    (50, Decimal("10")),
    (100, Decimal("15")),
)


def volume_discount(quantity: int) -> Decimal:
    """Percent off for `quantity` units of one SKU."""
    for threshold, percent_off in reversed(VOLUME_TIERS):
        if quantity >= threshold:
            return percent_off
    return Decimal("0")
'''

TAX = '''"""VAT rates per region (percent). Reduced-rate categories fall back to the standard rate where
a region has no reduced rate."""

from __future__ import annotations

from decimal import Decimal

RATES: dict[str, dict[str, Decimal]] = {
    "DE": {"standard": Decimal("19"), "reduced": Decimal("7")},
    "FR": {"standard": Decimal("20"), "reduced": Decimal("5.5")},
    "NL": {"standard": Decimal("21"), "reduced": Decimal("9")},
    "PL": {"standard": Decimal("23"), "reduced": Decimal("8")},
    "DK": {"standard": Decimal("25")},
}
REDUCED_CATEGORIES = frozenset({"books", "food", "reduced"})


class UnknownRegion(KeyError):
    """No VAT rates for this region."""


def rate_for(region: str, category: str = "standard") -> Decimal:
    try:
        rates = RATES[region.upper()]
    except KeyError:
        raise UnknownRegion(region) from None
    if category in REDUCED_CATEGORIES:
        return rates.get("reduced", rates["standard"])
    return rates["standard"]
'''

INVOICE = '''"""An invoice: priced lines, VAT, fees and totals."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from invoicer.items import LineItem
from invoicer.money import ZERO, percent, round_money
from invoicer.pricing import volume_discount
from invoicer.tax import rate_for


@dataclass(frozen=True)
class Line:
    item: LineItem
    net: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class Invoice:
    number: str
    customer: str
    region: str
    issued: date
    lines: tuple[Line, ...]
    fees: tuple[tuple[str, Decimal], ...] = ()

    @property
    def subtotal(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def fee_total(self) -> Decimal:
        return sum((amount for _, amount in self.fees), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total + self.fee_total

    def with_fee(self, label: str, amount: Decimal) -> Invoice:
        return replace(self, fees=(*self.fees, (label, amount)))


def build_line(item: LineItem, region: str) -> Line:
    list_total = item.unit_price * item.quantity
    discount = percent(list_total, volume_discount(item.quantity))
    net = round_money(list_total - discount)
    rate = rate_for(region, item.category)
    return Line(item=item, net=net, discount=discount, tax_rate=rate, tax=percent(net, rate))


def build_invoice(
    items: list[LineItem], customer: str, region: str, issued: date, number: str | None = None
) -> Invoice:
    lines = tuple(build_line(item, region) for item in items)
    return Invoice(
        number=number or default_number(customer, issued),
        customer=customer,
        region=region.upper(),
        issued=issued,
        lines=lines,
    )


def default_number(customer: str, issued: date) -> str:
    slug = re.sub(r"[^A-Z0-9]+", "", customer.upper())[:6] or "CUST"
    return f"INV-{issued:%Y%m}-{slug}"
'''

RENDER = '''"""Plain-text and CSV renderings of an invoice."""

from __future__ import annotations

import csv
import io

from invoicer import money
from invoicer.invoice import Invoice

WIDTH = 72


def render_text(invoice: Invoice, currency: str = "EUR") -> str:
    out = [
        f"INVOICE {invoice.number}",
        f"Customer: {invoice.customer:<40} Issued: {invoice.issued.isoformat()}",
        "-" * WIDTH,
        f"{'SKU':<10}{'Description':<30}{'Qty':>6}{'Unit':>12}{'Net':>14}",
    ]
    for line in invoice.lines:
        item = line.item
        out.append(
            f"{item.sku:<10}{item.description[:29]:<30}{item.quantity:>6}"
            f"{money.format_money(item.unit_price):>12}{money.format_money(line.net):>14}"
        )
        if line.discount:
            out.append(f"{'':<10}{'  volume discount':<48}{'-' + money.format_money(line.discount):>14}")
    out.append("-" * WIDTH)
    out.extend(_totals(invoice, currency))
    return "\\n".join(out) + "\\n"


def _totals(invoice: Invoice, currency: str) -> list[str]:
    rows = [("Subtotal", invoice.subtotal), ("VAT", invoice.tax_total)]
    rows += list(invoice.fees)
    rows.append(("Total due", invoice.total))
    return [f"{label:<58}{money.format_money(amount):>10} {currency}" for label, amount in rows]


def render_csv(invoice: Invoice) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\\n")
    writer.writerow(["invoice", "sku", "description", "quantity", "unit_price", "net", "vat_rate", "vat"])
    for line in invoice.lines:
        writer.writerow(
            [
                invoice.number,
                line.item.sku,
                line.item.description,
                line.item.quantity,
                money.format_money(line.item.unit_price),
                money.format_money(line.net),
                str(line.tax_rate),
                money.format_money(line.tax),
            ]
        )
    return buffer.getvalue()


def render_reminder(invoice: Invoice, days_overdue: int, currency: str = "EUR") -> str:
    return (
        f"Dear {invoice.customer},\\n\\n"
        f"our invoice {invoice.number} of {invoice.issued.isoformat()} is {days_overdue} days overdue.\\n"
        f"Amount due: {money.format_money(invoice.total)} {currency}\\n\\n"
        "Kind regards,\\nLindqvist Supply accounts\\n"
    )
'''

OUTPUT = '''"""Where exported invoices go: `$INVOICER_OUTPUT_DIR/<yyyy-mm>/<number>.<ext>`."""

from __future__ import annotations

import os
from pathlib import Path

from invoicer.invoice import Invoice


def output_dir() -> Path:
    return Path(os.environ.get("INVOICER_OUTPUT_DIR", "out"))


def write_invoice(invoice: Invoice, text: str, suffix: str = ".txt", root: Path | None = None) -> Path:
    directory = (root or output_dir()) / f"{invoice.issued:%Y-%m}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{invoice.number}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path
'''

CLI = '''"""`invoicer` command line: render, totals, export, remind."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from invoicer import money
from invoicer.invoice import Invoice, build_invoice
from invoicer.items import ItemError, load_items
from invoicer.output import write_invoice
from invoicer.render import render_csv, render_reminder, render_text
from invoicer.tax import UnknownRegion


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invoicer", description="Invoices from sales exports.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("render", "print the invoice"),
        ("totals", "print subtotal, VAT and total"),
        ("export", "write the invoice to the output directory"),
        ("remind", "print a payment reminder"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("items", type=Path, help="CSV or JSON line items")
        command.add_argument("--customer", default="Customer")
        command.add_argument("--region", default="DE")
        command.add_argument("--number")
        command.add_argument("--issued", type=date.fromisoformat, default=None)
        command.add_argument("--currency", default="EUR")
        if name == "export":
            command.add_argument("--format", choices=("text", "csv"), default="text")
            command.add_argument("--out-dir", type=Path, default=None)
        if name == "remind":
            command.add_argument("--days-overdue", type=int, default=14)
    return parser


def load_invoice(args: argparse.Namespace) -> Invoice:
    items = load_items(args.items)
    issued = args.issued or date.today()
    return build_invoice(items, args.customer, args.region, issued, args.number)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        invoice = load_invoice(args)
    except (ItemError, UnknownRegion) as error:
        print(f"invoicer: {error}", file=sys.stderr)
        return 2
    if args.command == "render":
        print(render_text(invoice, args.currency), end="")
    elif args.command == "totals":
        for label, amount in (
            ("subtotal", invoice.subtotal),
            ("vat", invoice.tax_total),
            ("total", invoice.total),
        ):
            print(f"{label:<10}{money.format_money(amount):>14} {args.currency}")
    elif args.command == "export":
        if args.format == "csv":
            path = write_invoice(invoice, render_csv(invoice), ".csv", args.out_dir)
        else:
            path = write_invoice(invoice, render_text(invoice, args.currency), ".txt", args.out_dir)
        print(path)
    elif args.command == "remind":
        print(render_reminder(invoice, args.days_overdue, args.currency), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

MAIN = """from invoicer.cli import main

raise SystemExit(main())
"""

CONFTEST = """import pytest


@pytest.fixture
def items_csv(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "sku,description,quantity,unit_price,category\\n"
        "WID-10,Widget 10mm,4,12.50,standard\\n"
        "BRK-2,Bracket steel,12,3.20,standard\\n",
        encoding="utf-8",
    )
    return path
"""

TEST_MONEY = """from decimal import Decimal

from invoicer.money import format_money, percent, round_money


def test_round_money_is_half_up():
    assert round_money(Decimal("2.345")) == Decimal("2.35")
    assert round_money(Decimal("2.344")) == Decimal("2.34")


def test_percent():
    assert percent(Decimal("100.00"), Decimal("19")) == Decimal("19.00")
    assert percent(Decimal("33.33"), Decimal("5.5")) == Decimal("1.83")


def test_format_money_groups_thousands():
    assert format_money(Decimal("1234.5")) == "1,234.50"
    assert format_money(Decimal("-3")) == "-3.00"
"""

TEST_ITEMS = """from decimal import Decimal

import pytest

from invoicer.items import ItemError, load_items, parse_item


def test_load_csv(items_csv):
    items = load_items(items_csv)
    assert [item.sku for item in items] == ["WID-10", "BRK-2"]
    assert items[0].unit_price == Decimal("12.50")
    assert items[1].quantity == 12


def test_load_json(tmp_path):
    path = tmp_path / "order.json"
    path.write_text('{"items": [{"sku": "A", "description": "a", "quantity": 2, "unit_price": 4.5}]}')
    (item,) = load_items(path)
    assert item.unit_price == Decimal("4.5")
    assert item.category == "standard"


def test_missing_field_is_reported():
    with pytest.raises(ItemError, match="item 3: missing unit_price"):
        parse_item({"sku": "A", "description": "a", "quantity": "1"}, 3)
"""

TEST_INVOICE = """from datetime import date
from decimal import Decimal

from invoicer.invoice import build_invoice
from invoicer.items import LineItem


def item(quantity, price="10.00", category="standard"):
    return LineItem("SKU", "thing", quantity, Decimal(price), category)


def test_standard_rate_and_totals():
    invoice = build_invoice([item(2)], "ACME GmbH", "de", date(2026, 3, 1))
    assert invoice.subtotal == Decimal("20.00")
    assert invoice.tax_total == Decimal("3.80")
    assert invoice.total == Decimal("23.80")
    assert invoice.region == "DE"


def test_volume_discount_applies_from_ten_units():
    (line,) = build_invoice([item(10)], "ACME", "FR", date(2026, 3, 1)).lines
    assert line.discount == Decimal("5.00")
    assert line.net == Decimal("95.00")


def test_default_number_from_customer_and_month():
    invoice = build_invoice([item(1)], "ACME GmbH", "NL", date(2026, 3, 9))
    assert invoice.number == "INV-202603-ACMEGM"
"""

TEST_CLI = """from invoicer.cli import main


def test_totals(items_csv, capsys):
    assert main(["totals", str(items_csv), "--region", "DE"]) == 0
    out = capsys.readouterr().out.split("\\n")
    assert out[0].split() == ["subtotal", "86.48", "EUR"]
    assert out[2].split() == ["total", "102.91", "EUR"]


def test_render_lists_every_line(items_csv, capsys):
    assert main(["render", str(items_csv), "--customer", "ACME GmbH", "--issued", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "INVOICE INV-202603-ACMEGM" in out
    assert "WID-10" in out and "BRK-2" in out
    assert "volume discount" in out


def test_unknown_region_is_a_usage_error(items_csv, capsys):
    assert main(["totals", str(items_csv), "--region", "XX"]) == 2
    assert "XX" in capsys.readouterr().err


def test_export_text(items_csv, tmp_path, capsys):
    out_dir = tmp_path / "out"
    argv = ["export", str(items_csv), "--customer", "ACME", "--issued", "2026-03-01"]
    assert main([*argv, "--out-dir", str(out_dir)]) == 0
    written = out_dir / "2026-03" / "INV-202603-ACME.txt"
    assert written.read_text().startswith("INVOICE INV-202603-ACME")
"""

BASE = (
    Commit(
        message="invoicer: line items from the sales export, VAT, text invoices",
        author=MARTA,
        date="2026-01-12T09:40:00+01:00",
        files={
            "pyproject.toml": PYPROJECT,
            "README.md": README,
            ".gitignore": GITIGNORE,
            "invoicer/__init__.py": INIT,
            "invoicer/__main__.py": MAIN,
            "invoicer/money.py": MONEY,
            "invoicer/items.py": ITEMS,
            "invoicer/pricing.py": PRICING,
            "invoicer/tax.py": TAX.replace('    "DK": {"standard": Decimal("25")},\n', ""),
            "invoicer/invoice.py": INVOICE,
            "invoicer/render.py": RENDER,
            "invoicer/output.py": OUTPUT,
            "invoicer/cli.py": CLI,
            "tests/conftest.py": CONFTEST,
            "tests/test_money.py": TEST_MONEY,
            "tests/test_items.py": TEST_ITEMS,
            "tests/test_invoice.py": TEST_INVOICE,
        },
    ),
    Commit(
        message="tax: Danish customers (no reduced rate)",
        author=DANIEL,
        date="2026-01-20T14:05:00+01:00",
        files={"invoicer/tax.py": TAX},
    ),
    Commit(
        message="cli: tests for totals, render and export",
        author=PRIYA,
        date="2026-02-03T17:22:00+05:30",
        files={"tests/test_cli.py": TEST_CLI},
        tag="v1.3.0",
    ),
    Commit(
        message="README: how exports are laid out",
        author=MARTA,
        date="2026-02-09T10:12:00+01:00",
        files={
            "README.md": README
            + "\nReleases are tagged `vX.Y.Z`; the changelog lives in the wiki.\n"
        },
    ),
)


def _later(message: str, author: str, when: str, files: dict[str, str]) -> Commit:
    return Commit(message=message, author=author, date=when, files=files)


LATER_DOCS = _later(
    "README: the remind subcommand",
    PRIYA,
    "2026-03-04T11:30:00+05:30",
    {
        "README.md": README
        + "\nReleases are tagged `vX.Y.Z`; the changelog lives in the wiki.\n"
        + "\n`invoicer remind` prints the reminder text; accounts send it from their mailbox.\n"
    },
)
LATER_VERSION = _later(
    "Bump version to 1.4.0",
    DANIEL,
    "2026-03-06T09:00:00+01:00",
    {
        "pyproject.toml": PYPROJECT.replace('version = "1.3.0"', 'version = "1.4.0"'),
        "invoicer/__init__.py": INIT.replace("1.3.0", "1.4.0"),
    },
)
LATER_GITIGNORE = _later(
    "gitignore: editor and coverage files",
    MARTA,
    "2026-03-05T16:45:00+01:00",
    {".gitignore": GITIGNORE + ".coverage\n.idea/\n.vscode/\n"},
)


def _launcher(setup: str, call: str) -> str:
    """The production entry script: the inbox file the run reads, then `invoicer ...`."""
    return (
        "#!/usr/bin/python3\n"
        "# -*- coding: utf-8 -*-\n"
        "import sys\n"
        "from pathlib import Path\n\n"
        "from invoicer.cli import main\n\n"
        f"{setup}\n"
        "if __name__ == '__main__':\n"
        f"    sys.exit(main({call}))\n"
    )


INBOX_CSV = """inbox = Path("var/inbox")
inbox.mkdir(parents=True, exist_ok=True)
(inbox / "{name}").write_text({content!r}, encoding="utf-8")
"""


def _inbox(name: str, content: str) -> str:
    return INBOX_CSV.format(name=name, content=content)


ORDER_CSV = (
    "sku,description,quantity,unit_price,category\n"
    "WID-10,Widget 10mm,40,12.50,standard\n"
    "BRK-2,Bracket steel,12,3.20,standard\n"
    "SCR-4,Screw M4 (box of 100),8,6.90,standard\n"
)

# --- off-by-one: volume tiers as ranges -------------------------------------------------------

PRICING_RANGES = '''"""Volume discounts: ordering more of one SKU lowers its price."""

from __future__ import annotations

from decimal import Decimal

# (minimum quantity, percent off), ascending: tier i covers [minimum_i, minimum_i+1).
VOLUME_TIERS = (
    (1, Decimal("0")),
    (10, Decimal("5")),
    (50, Decimal("10")),
    (100, Decimal("15")),
)


def tier_index(quantity: int) -> int:
    """The tier `quantity` falls in; the invoice prints it next to the discount."""
    for index, (minimum, _) in enumerate(VOLUME_TIERS):
        if minimum <= quantity < VOLUME_TIERS[index + 1][0]:
            return index
    raise ValueError(f"quantity must be positive, got {quantity}")


def volume_discount(quantity: int) -> Decimal:
    """Percent off for `quantity` units of one SKU."""
    return VOLUME_TIERS[tier_index(quantity)][1]
'''

PRICING_RANGES_FIXED = _patch(
    PRICING_RANGES,
    """    for index, (minimum, _) in enumerate(VOLUME_TIERS):
        if minimum <= quantity < VOLUME_TIERS[index + 1][0]:
            return index
""",
    """    for index, (minimum, _) in enumerate(VOLUME_TIERS):
        upper = VOLUME_TIERS[index + 1][0] if index + 1 < len(VOLUME_TIERS) else None
        if minimum <= quantity and (upper is None or quantity < upper):
            return index
""",
)

TEST_PRICING = """from decimal import Decimal

from invoicer.pricing import tier_index, volume_discount


def test_tiers_are_half_open():
    assert tier_index(9) == 0
    assert tier_index(10) == 1
    assert volume_discount(49) == Decimal("5")
    assert volume_discount(50) == Decimal("10")
"""

RENDER_TIER = _patch(
    RENDER,
    """            out.append(f"{'':<10}{'  volume discount':<48}{'-' + money.format_money(line.discount):>14}")""",
    """            label = f"  volume discount (tier {tier_index(item.quantity)})"
            out.append(f"{'':<10}{label:<48}{'-' + money.format_money(line.discount):>14}")""",
)
RENDER_TIER = _patch(
    RENDER_TIER,
    "from invoicer.invoice import Invoice\n",
    "from invoicer.invoice import Invoice\nfrom invoicer.pricing import tier_index\n",
)

HIDDEN_PRICING = """from decimal import Decimal

from invoicer.pricing import tier_index, volume_discount


def test_top_tier_has_no_upper_bound():
    assert tier_index(100) == 3
    assert tier_index(250) == 3
    assert volume_discount(100) == Decimal("15")
    assert volume_discount(1200) == Decimal("15")


def test_lower_tiers_unchanged():
    assert volume_discount(1) == Decimal("0")
    assert volume_discount(99) == Decimal("10")
"""

BUG_TIERS = Commit(
    message="pricing: volume tiers as half-open ranges; print the tier on the invoice",
    author=DANIEL,
    date="2026-02-24T15:10:00+01:00",
    files={
        "invoicer/pricing.py": PRICING_RANGES,
        "invoicer/render.py": RENDER_TIER,
        "tests/test_pricing.py": TEST_PRICING,
    },
)

CASE_OFF_BY_ONE = CaseSpec(
    id="invoicer-off-by-one",
    title="invoicer totals crashes with IndexError for orders of 100+ units of one SKU",
    app="cli",
    bug_class="off-by-one",
    history=(*BASE, BUG_TIERS, LATER_DOCS),
    gold=Gold("invoicer/pricing.py", "tier_index", BUG_TIERS.message),
    trigger=_launcher(
        _inbox(
            "hansen-2026-03.csv",
            "sku,description,quantity,unit_price,category\n"
            "WID-10,Widget 10mm,120,12.50,standard\n"
            "BRK-2,Bracket steel,12,3.20,standard\n",
        ),
        '["totals", "var/inbox/hansen-2026-03.csv", "--customer", "Hansen Bygg ApS", "--region", "DK"]',
    ),
    fix={"invoicer/pricing.py": PRICING_RANGES_FIXED},
    hidden={"tests/test_hidden_pricing.py": HIDDEN_PRICING},
    shape="sentry_event",
    deploy_path="/opt/invoicer/current",
    project=PROJECT,
)

# --- unhandled-parse-error: JSON prices as numbers ---------------------------------------------

ITEMS_NUMERIC = _patch(
    ITEMS,
    '''def parse_price(raw: str | int | float) -> Decimal:
    """'1,250.00', 'EUR 12.50', ' 3.5 ' -> Decimal; the sales export formats amounts for people."""
    return Decimal(_clean_amount(raw))


def _clean_amount(raw: str | int | float) -> str:
    text = str(raw).strip()
    for mark in CURRENCY_MARKS:
        text = text.replace(mark, "")
    return text.replace(",", "").replace(" ", "")
''',
    '''def parse_price(raw: str | int | float) -> Decimal:
    """A unit price. The shop's JSON gives numbers: go through repr() so 0.1 stays 0.1, not
    0.1000000000000000055511151231257827."""
    if isinstance(raw, float):
        raw = repr(raw)
    return Decimal(str(raw).strip())
''',
)
ITEMS_NUMERIC = _patch(
    ITEMS_NUMERIC,
    'CURRENCY_MARKS = ("EUR", "USD", "GBP", "\\u20ac", "$", "\\u00a3")\n',
    "",
)
ITEMS_NUMERIC_FIXED = _patch(
    ITEMS_NUMERIC,
    """    if isinstance(raw, float):
        raw = repr(raw)
    return Decimal(str(raw).strip())
""",
    '''    if isinstance(raw, float):
        raw = repr(raw)
    return Decimal(_clean_amount(raw))


def _clean_amount(raw: str | int) -> str:
    """The sales CSV formats amounts for people: '1,250.00', 'EUR 12.50'."""
    text = str(raw).strip()
    for mark in CURRENCY_MARKS:
        text = text.replace(mark, "")
    return text.replace(",", "").replace(" ", "")
''',
)
ITEMS_NUMERIC_FIXED = _patch(
    ITEMS_NUMERIC_FIXED,
    'REQUIRED = ("sku", "description", "quantity", "unit_price")\n',
    'REQUIRED = ("sku", "description", "quantity", "unit_price")\n'
    'CURRENCY_MARKS = ("EUR", "USD", "GBP", "\\u20ac", "$", "\\u00a3")\n',
)

TEST_ITEMS_FLOAT = (
    TEST_ITEMS
    + """

def test_json_float_price_is_exact(tmp_path):
    path = tmp_path / "order.json"
    path.write_text('[{"sku": "A", "description": "a", "quantity": 1, "unit_price": 0.1}]')
    (item,) = load_items(path)
    assert item.unit_price == Decimal("0.1")
"""
)

HIDDEN_PRICES = """from decimal import Decimal

from invoicer.items import load_items, parse_price


def test_formatted_prices_from_the_sales_export():
    assert parse_price("1,250.00") == Decimal("1250.00")
    assert parse_price("EUR 12.50") == Decimal("12.50")
    assert parse_price(" 3.5 ") == Decimal("3.5")


def test_numbers_from_json_still_exact():
    assert parse_price(0.1) == Decimal("0.1")
    assert parse_price(7) == Decimal("7")


def test_csv_with_thousands_separator(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text('sku,description,quantity,unit_price\\nSRV-1,Server rack,1,"1,250.00"\\n')
    (item,) = load_items(path)
    assert item.unit_price == Decimal("1250.00")
"""

BUG_PRICES = Commit(
    message="items: keep JSON float prices exact",
    author=PRIYA,
    date="2026-02-26T12:48:00+05:30",
    files={"invoicer/items.py": ITEMS_NUMERIC, "tests/test_items.py": TEST_ITEMS_FLOAT},
)

CASE_PARSE = CaseSpec(
    id="invoicer-unhandled-parse-error",
    title="invoicer render crashes with decimal.InvalidOperation on a price with a thousands separator",
    app="cli",
    bug_class="unhandled-parse-error",
    history=(*BASE, BUG_PRICES, LATER_GITIGNORE, LATER_VERSION),
    gold=Gold("invoicer/items.py", "parse_price", BUG_PRICES.message),
    trigger=_launcher(
        _inbox(
            "nordlicht-2026-03.csv",
            "sku,description,quantity,unit_price,category\n"
            'SRV-1,Server rack 42U,1,"1,250.00",standard\n'
            "BRK-2,Bracket steel,12,3.20,standard\n",
        ),
        '["render", "var/inbox/nordlicht-2026-03.csv", "--customer", "Nordlicht AG", "--region", "DE"]',
    ),
    fix={"invoicer/items.py": ITEMS_NUMERIC_FIXED},
    hidden={"tests/test_hidden_prices.py": HIDDEN_PRICES},
    shape="sentry_webhook",
    deploy_path="/srv/invoicer",
    project=PROJECT,
)

# --- type-mixup: --late-fee parsed as float ---------------------------------------------------

CLI_LATE_FEE = _patch(
    CLI,
    """            command.add_argument("--days-overdue", type=int, default=14)
""",
    """            command.add_argument("--days-overdue", type=int, default=14)
            command.add_argument("--late-fee", type=float, default=None, help="e.g. 40.00")
""",
)
CLI_LATE_FEE = _patch(
    CLI_LATE_FEE,
    """    elif args.command == "remind":
        print(render_reminder(invoice, args.days_overdue, args.currency), end="")
""",
    """    elif args.command == "remind":
        if args.late_fee:
            invoice = invoice.with_fee("Late payment fee", args.late_fee)
        print(render_reminder(invoice, args.days_overdue, args.currency), end="")
""",
)
CLI_LATE_FEE_FIXED = _patch(
    CLI_LATE_FEE,
    """command.add_argument("--late-fee", type=float, default=None, help="e.g. 40.00")""",
    """command.add_argument("--late-fee", type=Decimal, default=None, help="e.g. 40.00")""",
)
CLI_LATE_FEE_FIXED = _patch(
    CLI_LATE_FEE_FIXED,
    "from datetime import date\n",
    "from datetime import date\nfrom decimal import Decimal\n",
)

HIDDEN_LATE_FEE = """from invoicer.cli import main

ITEMS = "sku,description,quantity,unit_price\\nWID-10,Widget 10mm,4,12.50\\n"


def remind(tmp_path, capsys, *extra):
    path = tmp_path / "items.csv"
    path.write_text(ITEMS)
    argv = ["remind", str(path), "--customer", "ACME", "--issued", "2026-02-01", *extra]
    assert main(argv) == 0
    return capsys.readouterr().out


def test_late_fee_is_added_to_the_amount_due(tmp_path, capsys):
    assert "Amount due: 99.50 EUR" in remind(tmp_path, capsys, "--late-fee", "40.00")


def test_late_fee_in_cents(tmp_path, capsys):
    assert "Amount due: 59.60 EUR" in remind(tmp_path, capsys, "--late-fee", "0.10")


def test_reminder_without_fee(tmp_path, capsys):
    assert "Amount due: 59.50 EUR" in remind(tmp_path, capsys)
"""

BUG_LATE_FEE = Commit(
    message="remind: optional --late-fee added to the amount due",
    author=MARTA,
    date="2026-02-27T09:55:00+01:00",
    files={"invoicer/cli.py": CLI_LATE_FEE},
)

CASE_TYPE_MIXUP = CaseSpec(
    id="invoicer-type-mixup",
    title="invoicer remind --late-fee crashes adding a float fee to Decimal totals",
    app="cli",
    bug_class="type-mixup",
    history=(*BASE, BUG_LATE_FEE, LATER_VERSION),
    gold=Gold("invoicer/cli.py", "build_parser", BUG_LATE_FEE.message),
    trigger=_launcher(
        _inbox("bauhaus-2026-01.csv", ORDER_CSV),
        '["remind", "var/inbox/bauhaus-2026-01.csv", "--customer", "Bauhaus Werkstatt GmbH",\n'
        '                   "--issued", "2026-01-31", "--days-overdue", "30", "--late-fee", "40.00"]',
    ),
    fix={"invoicer/cli.py": CLI_LATE_FEE_FIXED},
    hidden={"tests/test_hidden_late_fee.py": HIDDEN_LATE_FEE},
    shape="sentry_api",
    deploy_path="/home/deploy/invoicer/releases/20260301",
    project=PROJECT,
)

# --- wrong-variable: VAT on the list price -------------------------------------------------------

INVOICE_LIST = _patch(
    INVOICE,
    """def build_line(item: LineItem, region: str) -> Line:
    list_total = item.unit_price * item.quantity
    discount = percent(list_total, volume_discount(item.quantity))
    net = round_money(list_total - discount)
    rate = rate_for(region, item.category)
    return Line(item=item, net=net, discount=discount, tax_rate=rate, tax=percent(net, rate))
""",
    """def build_line(item: LineItem, region: str) -> Line:
    list_total = round_money(item.unit_price * item.quantity)
    discount = percent(list_total, volume_discount(item.quantity))
    rate = rate_for(region, item.category)
    tax = percent(list_total, rate)
    return Line(
        item=item,
        list_total=list_total,
        net=list_total - discount,
        discount=discount,
        tax_rate=rate,
        tax=tax,
    )
""",
)
INVOICE_LIST = _patch(
    INVOICE_LIST,
    """class Line:
    item: LineItem
    net: Decimal
""",
    """class Line:
    item: LineItem
    list_total: Decimal
    net: Decimal
""",
)
INVOICE_LIST_FIXED = _patch(
    INVOICE_LIST,
    "    tax = percent(list_total, rate)\n",
    "    tax = percent(list_total - discount, rate)\n",
)

TEST_INVOICE_DISCOUNTED = (
    TEST_INVOICE
    + """

def test_vat_is_charged_on_the_discounted_net():
    invoice = build_invoice([item(50, "2.00")], "ACME", "DE", date(2026, 3, 1))
    (line,) = invoice.lines
    assert line.list_total == Decimal("100.00")
    assert line.net == Decimal("90.00")
    assert line.tax == Decimal("17.10")
    assert invoice.total == Decimal("107.10")
"""
)

HIDDEN_VAT = """from datetime import date
from decimal import Decimal

from invoicer.invoice import build_invoice
from invoicer.items import LineItem


def test_vat_on_discounted_lines():
    invoice = build_invoice(
        [LineItem("A", "a", 120, Decimal("1.00")), LineItem("B", "b", 12, Decimal("10.00"), "books")],
        "ACME",
        "FR",
        date(2026, 3, 1),
    )
    first, second = invoice.lines
    assert first.net == Decimal("102.00") and first.tax == Decimal("20.40")
    assert second.net == Decimal("114.00") and second.tax == Decimal("6.27")
    assert invoice.total == Decimal("242.67")


def test_vat_without_discount():
    (line,) = build_invoice([LineItem("A", "a", 3, Decimal("10.00"))], "ACME", "NL", date(2026, 3, 1)).lines
    assert line.tax == Decimal("6.30")
"""

BUG_LIST_TOTAL = Commit(
    message="invoice: keep the list total on each line for the discount column",
    author=DANIEL,
    date="2026-02-25T10:20:00+01:00",
    files={"invoicer/invoice.py": INVOICE_LIST},
)
TEST_DISCOUNTED = Commit(
    message="tests: VAT on a discounted line",
    author=PRIYA,
    date="2026-03-09T18:05:00+05:30",
    files={"tests/test_invoice.py": TEST_INVOICE_DISCOUNTED},
)

CASE_WRONG_VARIABLE = CaseSpec(
    id="invoicer-wrong-variable",
    title="VAT is charged on the pre-discount list total (main is red: test_totals, test_vat_is_charged_on_the_discounted_net)",
    app="cli",
    bug_class="wrong-variable",
    kind="wrong-value",
    history=(*BASE, BUG_LIST_TOTAL, LATER_GITIGNORE, TEST_DISCOUNTED),
    gold=Gold("invoicer/invoice.py", "build_line", BUG_LIST_TOTAL.message),
    failing_tests=(
        "tests/test_cli.py::test_totals",
        "tests/test_invoice.py::test_vat_is_charged_on_the_discounted_net",
    ),
    fix={"invoicer/invoice.py": INVOICE_LIST_FIXED},
    hidden={"tests/test_hidden_vat.py": HIDDEN_VAT},
    project=PROJECT,
)

# --- missing-return: reduced-rate fallback lost its return --------------------------------------

TAX_LOGGED = _patch(
    TAX,
    """    if category in REDUCED_CATEGORIES:
        return rates.get("reduced", rates["standard"])
    return rates["standard"]
""",
    """    if category not in REDUCED_CATEGORIES:
        return rates["standard"]
    if "reduced" in rates:
        rate = rates["reduced"]
    else:
        log.info("%s has no reduced VAT rate; charging %s%% on %s", region, rates["standard"], category)
        rate = rates["standard"]
""",
)
TAX_LOGGED = _patch(
    TAX_LOGGED,
    "from decimal import Decimal\n",
    "import logging\nfrom decimal import Decimal\n\nlog = logging.getLogger(__name__)\n",
)
TAX_LOGGED_FIXED = _patch(
    TAX_LOGGED,
    """        rate = rates["standard"]
""",
    """        rate = rates["standard"]
    return rate
""",
)

TEST_TAX = """from decimal import Decimal

import pytest

from invoicer.tax import UnknownRegion, rate_for


def test_standard_rates():
    assert rate_for("de") == Decimal("19")
    assert rate_for("DK", "standard") == Decimal("25")


def test_unknown_region():
    with pytest.raises(UnknownRegion):
        rate_for("XX")
"""

HIDDEN_TAX = """from datetime import date
from decimal import Decimal

from invoicer.invoice import build_invoice
from invoicer.items import LineItem
from invoicer.tax import rate_for


def test_reduced_rate():
    assert rate_for("FR", "books") == Decimal("5.5")
    assert rate_for("DE", "food") == Decimal("7")


def test_reduced_falls_back_to_standard():
    assert rate_for("DK", "books") == Decimal("25")


def test_invoice_with_reduced_lines():
    invoice = build_invoice(
        [LineItem("BK-1", "Handbook", 2, Decimal("20.00"), "books"), LineItem("W", "w", 1, Decimal("10.00"))],
        "ACME",
        "DE",
        date(2026, 3, 1),
    )
    assert invoice.tax_total == Decimal("4.70")
"""

BUG_TAX_LOG = Commit(
    message="tax: log when a reduced-rate item is charged the standard rate",
    author=DANIEL,
    date="2026-02-23T11:35:00+01:00",
    files={"invoicer/tax.py": TAX_LOGGED, "tests/test_tax.py": TEST_TAX},
)

CASE_MISSING_RETURN = CaseSpec(
    id="invoicer-missing-return",
    title="invoicer render crashes multiplying by None for reduced-rate (books) items",
    app="cli",
    bug_class="missing-return",
    history=(*BASE, BUG_TAX_LOG, LATER_DOCS, LATER_VERSION),
    gold=Gold("invoicer/tax.py", "rate_for", BUG_TAX_LOG.message),
    trigger=_launcher(
        """inbox = Path("var/inbox")
inbox.mkdir(parents=True, exist_ok=True)
(inbox / "shop-order-88213.json").write_text(
    '{"order": 88213, "items": ['
    '{"sku": "BK-7", "description": "Welding handbook", "quantity": 3, "unit_price": 34.9, "category": "books"},'
    '{"sku": "GLV-L", "description": "Gloves L", "quantity": 10, "unit_price": 4.5}]}'
)
""",
        '["render", "var/inbox/shop-order-88213.json", "--customer", "Atelier Roux", "--region", "FR"]',
    ),
    fix={"invoicer/tax.py": TAX_LOGGED_FIXED},
    hidden={"tests/test_hidden_tax.py": HIDDEN_TAX},
    shape="sentry_event",
    deploy_path="/app",
    project=PROJECT,
)

# --- broken-rename: format_money -> format_amount ------------------------------------------------

MONEY_RENAMED = MONEY.replace("def format_money(", "def format_amount(")
RENDER_RENAMED = RENDER.replace("money.format_money(", "money.format_amount(")
# the CSV export was missed: it still calls the old name
RENDER_RENAMED = _patch(
    RENDER_RENAMED,
    """                money.format_amount(line.item.unit_price),
                money.format_amount(line.net),
                str(line.tax_rate),
                money.format_amount(line.tax),""",
    """                money.format_money(line.item.unit_price),
                money.format_money(line.net),
                str(line.tax_rate),
                money.format_money(line.tax),""",
)
CLI_RENAMED = CLI.replace("money.format_money(", "money.format_amount(")
TEST_MONEY_RENAMED = TEST_MONEY.replace("format_money", "format_amount")
RENDER_RENAMED_FIXED = RENDER_RENAMED.replace("money.format_money(", "money.format_amount(")

HIDDEN_CSV = """import csv
import io
from datetime import date
from decimal import Decimal

from invoicer.cli import main
from invoicer.invoice import build_invoice
from invoicer.items import LineItem
from invoicer.render import render_csv


def test_csv_rows():
    invoice = build_invoice(
        [LineItem("SRV-1", "Server rack", 1, Decimal("1250.00")), LineItem("B", "b", 12, Decimal("3.20"))],
        "ACME",
        "DE",
        date(2026, 3, 1),
        "INV-1",
    )
    header, first, second = list(csv.reader(io.StringIO(render_csv(invoice))))
    assert header[0] == "invoice"
    assert first == ["INV-1", "SRV-1", "Server rack", "1", "1,250.00", "1,250.00", "19", "237.50"]
    assert second[5] == "36.48"


def test_export_csv(tmp_path, capsys):
    items = tmp_path / "items.csv"
    items.write_text("sku,description,quantity,unit_price\\nA,a,2,10.00\\n")
    argv = ["export", str(items), "--customer", "ACME", "--issued", "2026-03-01", "--format", "csv"]
    assert main([*argv, "--out-dir", str(tmp_path / "out")]) == 0
    written = (tmp_path / "out" / "2026-03" / "INV-202603-ACME.csv").read_text()
    assert "INV-202603-ACME,A,a,2,10.00,20.00,19,3.80" in written
"""

BUG_RENAME = Commit(
    message="money: rename format_money to format_amount (it never adds a currency)",
    author=PRIYA,
    date="2026-02-28T13:15:00+05:30",
    files={
        "invoicer/money.py": MONEY_RENAMED,
        "invoicer/render.py": RENDER_RENAMED,
        "invoicer/cli.py": CLI_RENAMED,
        "tests/test_money.py": TEST_MONEY_RENAMED,
    },
)

CASE_RENAME = CaseSpec(
    id="invoicer-broken-rename",
    title="invoicer export --format csv fails: module 'invoicer.money' has no attribute 'format_money'",
    app="cli",
    bug_class="broken-rename",
    history=(*BASE, BUG_RENAME, LATER_GITIGNORE),
    gold=Gold("invoicer/render.py", "render_csv", BUG_RENAME.message),
    trigger=_launcher(
        _inbox("vanderberg-2026-03.csv", ORDER_CSV),
        '["export", "var/inbox/vanderberg-2026-03.csv", "--customer", "Van der Berg BV",\n'
        '                   "--region", "NL", "--format", "csv"]',
    ),
    fix={"invoicer/render.py": RENDER_RENAMED_FIXED},
    hidden={"tests/test_hidden_csv_export.py": HIDDEN_CSV},
    shape="sentry_webhook",
    deploy_path="/opt/invoicer/current",
    project=PROJECT,
)

# --- escalate / infrastructure: the release directory is read-only -----------------------------

# Production runs the exporter in a container with every capability dropped, from a release
# directory the deploy made read-only; the deploy's env points the output *into* the release
# (`releases/20260301/out`) instead of the shared volume. The code is fine.
INFRA_TRIGGER = '''#!/usr/bin/python3
# -*- coding: utf-8 -*-
# invoicer export job, as the container runs it (capabilities dropped, release dir read-only).
import ctypes
import logging
import os
import sys
from pathlib import Path

from invoicer.cli import main


def _drop_capabilities():
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def prepare_container() -> Path:
    """What the image's entrypoint does before the job: the day's inbox file, the env from the
    deploy manifest, an immutable release directory, no capabilities."""
    release = Path.cwd()
    inbox = release / "var" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "lindgren-2026-03.csv").write_text(
        "sku,description,quantity,unit_price,category\\n"
        "WID-10,Widget 10mm,40,12.50,standard\\n"
        "BRK-2,Bracket steel,12,3.20,standard\\n",
        encoding="utf-8",
    )
    os.environ["INVOICER_OUTPUT_DIR"] = str(release / "out")
    os.chmod(release, 0o555)
    _drop_capabilities()
    return inbox


def run(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("invoicer").info("export job starting: %s", " ".join(argv))
    return main(argv)


if __name__ == "__main__":
    inbox = prepare_container()
    sys.exit(run(["export", str(inbox / "lindgren-2026-03.csv"), "--customer", "Lindgren & Son AB",
                  "--region", "DE", "--issued", "2026-03-01"]))
'''

CASE_INFRA = CaseSpec(
    id="invoicer-escalate-infrastructure",
    title="invoicer export: PermissionError creating the output directory inside the read-only release",
    app="cli",
    bug_class="infrastructure",
    expect="escalate",
    history=(*BASE, LATER_DOCS),
    gold=None,
    trigger=INFRA_TRIGGER,
    shape="sentry_event",
    deploy_path="/home/deploy/invoicer/releases/20260301",
    project=PROJECT,
)

CASES: list[CaseSpec] = [
    CASE_OFF_BY_ONE,
    CASE_PARSE,
    CASE_TYPE_MIXUP,
    CASE_WRONG_VARIABLE,
    CASE_MISSING_RETURN,
    CASE_RENAME,
    CASE_INFRA,
]

from datetime import date
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

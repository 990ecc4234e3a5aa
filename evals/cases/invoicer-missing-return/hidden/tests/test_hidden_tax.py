from datetime import date
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

import csv
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
    items.write_text("sku,description,quantity,unit_price\nA,a,2,10.00\n")
    argv = ["export", str(items), "--customer", "ACME", "--issued", "2026-03-01", "--format", "csv"]
    assert main([*argv, "--out-dir", str(tmp_path / "out")]) == 0
    written = (tmp_path / "out" / "2026-03" / "INV-202603-ACME.csv").read_text()
    assert "INV-202603-ACME,A,a,2,10.00,20.00,19,3.80" in written

from invoicer.cli import main

ITEMS = "sku,description,quantity,unit_price\nWID-10,Widget 10mm,4,12.50\n"


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

from decimal import Decimal

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
    path.write_text('sku,description,quantity,unit_price\nSRV-1,Server rack,1,"1,250.00"\n')
    (item,) = load_items(path)
    assert item.unit_price == Decimal("1250.00")

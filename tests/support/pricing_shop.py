"""A small shop whose pricing lost its fallback price, and the worker log of the crash it causes."""

from __future__ import annotations

PRICING_V1 = """\
PRICES = {"SKU-1": 5, "SKU-2": 7}
FALLBACK = 0


def unit_price(sku):
    if sku not in PRICES:
        return FALLBACK
    return PRICES[sku]


def order_total(lines):
    return sum(unit_price(sku) * qty for sku, qty in lines)
"""


PRICING_V2 = PRICING_V1.replace("    if sku not in PRICES:\n        return FALLBACK\n", "")


TASKS = """\
from shop.pricing import order_total


def price_order(order):
    total = order_total(order["lines"])
    return {"id": order["id"], "total": total}
"""


TRACEBACK = """\
2026-11-23 01:02:03,456 ERROR [worker] pricing failed for order 3
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/rq/job.py", line 1201, in perform
    self._result = self._execute()
  File "/app/shop/tasks.py", line 5, in price_order
    total = order_total(order["lines"])
            ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/shop/pricing.py", line 10, in order_total
    return sum(unit_price(sku) * qty for sku, qty in lines)
  File "/app/shop/pricing.py", line 10, in <genexpr>
    return sum(unit_price(sku) * qty for sku, qty in lines)
               ^^^^^^^^^^^^^^^
  File "/app/shop/pricing.py", line 6, in unit_price
    return PRICES[sku]
           ~~~~~~^^^^^
KeyError: 'SKU-9'
2026-11-23 01:02:03,460 INFO [worker] job 3 moved to the failed queue
"""

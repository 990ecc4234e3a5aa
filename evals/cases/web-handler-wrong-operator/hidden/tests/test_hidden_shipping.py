from orders_api import pricing


def test_threshold_is_net_of_discounts():
    assert pricing.shipping_cents(5200, 500) == pricing.FLAT_SHIPPING_CENTS
    assert pricing.shipping_cents(5600, 500) == 0
    assert pricing.shipping_cents(5000, 0) == 0
    assert pricing.shipping_cents(4999) == pricing.FLAT_SHIPPING_CENTS


def test_quote_through_the_api(client):
    items = [{"sku": "CAP-02", "quantity": 2}, {"sku": "POSTER-A2", "quantity": 2}]
    _, order = client.post("/orders", {"items": items, "coupon": "SPRING5"})
    status, quote = client.get(f"/orders/{order['id']}/quote")
    assert status == 200
    assert quote["shipping_cents"] == 495
    assert quote["total_cents"] == (5400 - 500 + 495) * 119 // 100

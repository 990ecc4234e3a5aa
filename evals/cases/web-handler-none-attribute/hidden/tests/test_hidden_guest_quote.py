def test_guest_order_quote_has_no_tier_discount(client):
    _, order = client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 2}], "coupon": "WELCOME10"})
    status, quote = client.get(f"/orders/{order['id']}/quote", "country=AT")
    assert status == 200
    assert quote["subtotal_cents"] == 2900
    assert quote["discount_cents"] == 290


def test_silver_and_gold_customers_keep_their_tier_discount(client, repo):
    from orders_api.repository import Customer

    repo.add_customer(Customer("c-300", "s@example.com", tier="silver"))
    for customer_id, discount in (("c-300", 87), ("c-200", 145)):
        _, order = client.post("/orders", {"customer_id": customer_id, "items": [{"sku": "MUG-01", "quantity": 2}]})
        status, quote = client.get(f"/orders/{order['id']}/quote")
        assert status == 200
        assert quote["discount_cents"] == discount

def test_non_numeric_limit_is_a_bad_request(client):
    client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "CAP-02", "quantity": 1}]})
    status, body = client.get("/customers/c-100/orders", "limit=undefined")
    assert status == 400
    assert "limit" in body["error"]


def test_numeric_limit_still_applies(client):
    for _ in range(4):
        client.post("/orders", {"customer_id": "c-100", "items": [{"sku": "CAP-02", "quantity": 1}]})
    status, body = client.get("/customers/c-100/orders", "limit=3")
    assert status == 200
    assert [order["id"] for order in body["orders"]] == [1002, 1003, 1004]

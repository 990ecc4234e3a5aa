def test_receipt_of_paid_order(client):
    _, order = client.post("/orders", {"items": [{"sku": "POSTER-A2", "quantity": 2}]})
    _, paid = client.post(f"/orders/{order['id']}/pay", {"country": "FR"})
    status, receipt = client.get(f"/orders/{order['id']}/receipt")
    assert status == 200
    assert receipt["lines"] == [{"sku": "POSTER-A2", "name": "Poster A2", "quantity": 2, "total_cents": 1800}]
    assert receipt["total_cents"] == paid["total_cents"] == (1800 + 495) * 120 // 100
    assert receipt["tax_cents"] == (1800 + 495) * 20 // 100


def test_receipt_of_open_order_is_409(client):
    _, order = client.post("/orders", {"items": [{"sku": "POSTER-A2", "quantity": 1}]})
    assert client.get(f"/orders/{order['id']}/receipt")[0] == 409

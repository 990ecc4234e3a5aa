def test_item_without_quantity_counts_as_one(client):
    status, order = client.post("/orders", {"items": [{"sku": "TEE-BLK-M"}, {"sku": "CAP-02", "quantity": 2}]})
    assert status == 201
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("TEE-BLK-M", 1), ("CAP-02", 2)]


def test_repeated_sku_without_quantity_is_merged(client):
    status, order = client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 2}, {"sku": "MUG-01"}]})
    assert status == 201
    assert [(i["sku"], i["quantity"]) for i in order["items"]] == [("MUG-01", 3)]


def test_zero_quantity_is_still_rejected(client):
    assert client.post("/orders", {"items": [{"sku": "MUG-01", "quantity": 0}]})[0] == 400

from conftest import NOW, receipt_payload

from mailer import templates


def test_language_fallback():
    assert templates.pick_template("receipt", "de-AT") == templates.TEMPLATES["receipt.de"]
    assert templates.pick_template("receipt", "de") == templates.TEMPLATES["receipt.de"]
    assert templates.pick_template("receipt", "fr-CA") == templates.TEMPLATES["receipt.en"]


def test_austrian_receipt_is_german(worker, queue, transport):
    queue.enqueue("send_receipt", receipt_payload(locale="de-AT"), run_at=NOW)
    queue.enqueue("send_receipt", receipt_payload(locale="en-GB"), run_at=NOW)
    worker.run()
    assert [m.subject for m in transport.sent] == [
        "Beleg zur Rechnung INV-2026-0042",
        "Receipt for invoice INV-2026-0042",
    ]

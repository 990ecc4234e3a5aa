from conftest import NOW, digest_payload

from mailer import digest

NOTICE = "Tasklane will be read-only on Sunday for maintenance."


def test_announcements_stay_whole():
    entry = {"project": "Web", "text": "Shipped"}
    assert digest.flatten([NOTICE, (entry,), [[entry]]]) == [NOTICE, entry, entry]


def test_digest_with_announcement_is_sent(worker, queue, transport):
    entries = [NOTICE, ({"project": "Web", "text": "Shipped"},)]
    queue.enqueue("send_digest", digest_payload(entries=entries), run_at=NOW)
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    [message] = transport.sent
    assert f"* {NOTICE}" in message.body
    assert "- [Web] Shipped" in message.body
    assert "2 updates" in message.subject

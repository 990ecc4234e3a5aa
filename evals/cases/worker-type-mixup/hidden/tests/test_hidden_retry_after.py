from datetime import timedelta

from conftest import NOW

MESSAGE = {"sender": "a@tasklane.io", "to": "b@outlook.com", "subject": "Hi", "body": "x"}


def _job(queue, minutes_ago, retry_after):
    payload = {
        "message": MESSAGE,
        "remote": "mx.outlook.com",
        "deferred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "headers": {"Retry-After": retry_after},
    }
    return queue.enqueue("redeliver", payload, run_at=NOW)


def test_retry_after_header_is_honoured(worker, queue, transport):
    job = _job(queue, minutes_ago=5, retry_after="600")
    reported = []
    worker.run(report=reported.append)
    assert reported == [] and transport.sent == []
    assert job.status == "queued"


def test_sent_once_retry_after_has_passed(worker, queue, transport):
    job = _job(queue, minutes_ago=11, retry_after="600")
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    assert job.status == "done"
    assert [m.to for m in transport.sent] == ["b@outlook.com"]

from datetime import timedelta

from conftest import NOW

from mailer import backoff


def test_past_the_schedule_waits_the_longest_delay():
    assert backoff.delay_seconds(6) == 1800
    assert backoff.delay_seconds(7) == 1800
    assert backoff.delay_seconds(2) == 300


def test_sixth_attempt_is_rescheduled(worker, queue):
    payload = {"message": {}, "remote": "mx.web.de", "not_before": (NOW + timedelta(hours=1)).isoformat()}
    job = queue.enqueue("redeliver", payload, run_at=NOW, attempts=5)
    worker.run()
    assert job.status == "queued"
    assert job.run_at == NOW + timedelta(seconds=1800)

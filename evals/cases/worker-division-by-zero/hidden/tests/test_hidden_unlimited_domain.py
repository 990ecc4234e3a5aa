import pytest

from conftest import NOW, digest_payload
from mailer.throttle import Throttle, Throttled


def test_zero_means_no_limit():
    throttle = Throttle({"tasklane.io": 0, "gmail.com": 60}, clock=lambda: 0.0)
    for _ in range(3):
        throttle.acquire("tasklane.io")
    throttle.acquire("gmail.com")
    with pytest.raises(Throttled):
        throttle.acquire("gmail.com")


def test_digest_to_own_domain_is_sent(worker, queue, transport):
    queue.enqueue("send_digest", digest_payload(email="sam@tasklane.io"), run_at=NOW)
    queue.enqueue("send_digest", digest_payload(email="elif@tasklane.io"), run_at=NOW)
    reported = []
    worker.run(report=reported.append)
    assert reported == []
    assert [m.to for m in transport.sent] == ["sam@tasklane.io", "elif@tasklane.io"]

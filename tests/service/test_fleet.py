"""Scale-out on Celery with Redis: leases, hand-over to the broker, per-queue metrics, and a
worker killed with SIGKILL mid-run whose incident another worker finishes, on the real Redis,
real Celery workers, and SQLite or PostgreSQL."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from agent import wiring
from agent.service.fleet.app import make_app
from agent.service.fleet.carry import Wait, carry
from agent.service.fleet.metrics import broker_depths
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from evals.runner import EvalOptions, run_eval
from tests.support import signed
from tests.support.cli import fixloop
from tests.support.eval_cases import write_rates_case
from tests.support.fleet import REDIS, fleet_env, redis_prefix, repos_setting, worker_process
from tests.support.live_server import live_server
from tests.support.local_client import local_client
from tests.support.payloads import alert
from tools.leases import SqlLeases
from tools.store.database import Database, open_database
from tools.store.tables import pull_requests, tickets


@pytest.fixture
def prefix() -> Iterator[str]:
    yield from redis_prefix()


def _settings(home: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "home": home,
        "database_url": database_url,
        "sentry_client_secret": SecretStr(signed.SENTRY_SECRET),
        "pagerduty_webhook_secrets": [SecretStr(signed.PAGERDUTY_SECRET)],
        "worker": False,
        "test_timeout": 120,
    }
    return Settings(**(fields | overrides))


def _page(client: TestClient, incident: str = "PT4KHLK") -> str:
    body, headers = signed.pagerduty(signed.page(incident=incident))
    return str(
        client.post("/webhooks/pagerduty", content=body, headers=headers).json()["incident_id"]
    )


def _job_state(settings: Settings, job_id: int) -> tuple[str, int]:
    found = wiring.inbox(settings).job(job_id)
    assert found is not None
    return found[0], found[1].attempts


def test_a_lease_has_one_holder_until_it_expires_or_is_released(inbox_db: Database) -> None:
    now = [1000.0]
    leases = SqlLeases(inbox_db, clock=lambda: now[0])

    assert leases.acquire("incident:a", "w1", 60)
    assert not leases.acquire("incident:a", "w2", 60)
    assert leases.acquire("incident:a", "w1", 60), "its holder renews it"
    assert leases.acquire("incident:b", "w2", 60), "another name is another lease"
    now[0] += 59
    assert leases.holder("incident:a") == "w1"
    assert not leases.acquire("incident:a", "w2", 60)
    now[0] += 2
    assert leases.holder("incident:a") is None
    assert leases.acquire("incident:a", "w2", 60), "an expired lease is taken over"
    leases.release("incident:a", "w1")
    assert leases.holder("incident:a") == "w2", "only the holder releases"
    leases.release("incident:a", "w2")
    assert leases.acquire("incident:a", "w3", 60)


def test_only_jobs_whose_workers_lease_expired_are_requeued(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = _settings(tmp_path / "state", database_url, worker=True)
    with local_client(create_app(settings, worker=False)) as client:
        _page(client, "PT1")
        _page(client, "PT2")
    inbox = wiring.inbox(settings)
    carried = inbox.claim(holder="other-host:1", lease_seconds=600)
    dying = inbox.claim(holder="other-host:2", lease_seconds=0.05)
    assert carried is not None and dying is not None
    time.sleep(0.1)

    # A second server starts: its worker takes back the dead worker's job, not the live one's.
    worker = Worker(settings, inbox, poll_seconds=0.05)
    worker.start()
    deadline = time.monotonic() + 60
    while _job_state(settings, dying.id)[0] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop(30)

    assert _job_state(settings, carried.id) == ("running", 1)
    assert _job_state(settings, dying.id) == ("done", 2)


def test_a_job_waits_while_its_incident_or_repository_is_held_and_runs_once(
    tmp_path: Path, database_url: str | None, demo_repo: Path
) -> None:
    settings = _settings(
        tmp_path / "state", database_url, repos={"4504": demo_repo}, max_concurrent_runs=1
    )
    with local_client(create_app(settings)) as client:
        incident_id = _page(client)
        signed.post_sentry(client, alert())
    leases = wiring.leases(settings)
    page_job, run_job = 1, 2

    assert leases.acquire(f"incident:{incident_id}", "other-host:1", 600)
    waited = carry(settings, page_job)
    assert isinstance(waited, Wait) and "another worker carries" in waited.why
    assert _job_state(settings, page_job) == ("queued", 0)
    leases.release(f"incident:{incident_id}", "other-host:1")
    assert carry(settings, page_job) == "escalated: ticket FIX-1"
    assert carry(settings, page_job) == "settled before", "a redelivered message runs nothing"
    assert _job_state(settings, page_job) == ("done", 1)
    assert leases.holder(f"incident:{incident_id}") is None, "released when done"

    assert leases.acquire("repo:4504:0", "other-host:1", 600)
    waited = carry(settings, run_job)
    assert isinstance(waited, Wait) and "max_concurrent_runs" in waited.why
    assert _job_state(settings, run_job) == ("queued", 0)


def test_the_server_hands_jobs_to_their_queues_and_reports_them(
    tmp_path: Path, prefix: str
) -> None:
    settings = _settings(
        tmp_path / "state", broker_url=SecretStr(REDIS), broker_prefix=prefix, worker=True
    )
    with local_client(create_app(settings)) as client:
        signed.post_sentry(client, alert())
        signed.post_sentry(client, alert(function="another_handler"))
        _page(client)
        deadline = time.monotonic() + 30
        while wiring.inbox(settings).stats()["jobs_sent"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        metrics = client.get("/metrics").text

    assert 'fixloop_queue_depth{queue="heavy"} 2' in metrics
    assert 'fixloop_queue_depth{queue="light"} 1' in metrics
    assert 'fixloop_queue_jobs{queue="heavy",state="sent"} 2' in metrics
    assert 'fixloop_queue_jobs{queue="light",state="sent"} 1' in metrics
    assert "fixloop_broker_up 1" in metrics
    assert 'fixloop_runs{status="open"} 3' in metrics
    oldest = [line for line in metrics.splitlines() if line.startswith("fixloop_queue_oldest")]
    assert len(oldest) == 2 and all(float(line.split()[-1]) > 0 for line in oldest)


def test_the_dispatch_task_resends_the_job_of_a_dead_worker(tmp_path: Path, prefix: str) -> None:
    settings = _settings(tmp_path / "state", broker_url=SecretStr(REDIS), broker_prefix=prefix)
    with local_client(create_app(settings)) as client:
        _page(client)
    app = make_app(settings)
    inbox = wiring.inbox(settings)
    assert inbox.claim(holder="dead-host:1", lease_seconds=0.05) is not None
    time.sleep(0.1)

    assert app.tasks["fixloop.dispatch"]() == 1
    assert broker_depths(app) == {"light": 1, "heavy": 0}
    assert _job_state(settings, 1) == ("sent", 1)
    assert app.conf.beat_schedule["verify-pending"]["schedule"] == settings.verify_poll_seconds


def test_a_worker_without_a_broker_or_with_an_unknown_queue_exits_with_the_reason(
    tmp_path: Path,
) -> None:
    no_broker = fixloop(tmp_path / "state", "worker")
    assert no_broker.returncode == 2
    assert no_broker.stderr.strip().startswith("fixloop: no broker: set broker_url")

    env_home = tmp_path / "state"
    bad_queue = fixloop(env_home, "worker", "--queues", "light,urgent")
    assert bad_queue.returncode == 2 and "Traceback" not in bad_queue.stderr


def test_a_real_worker_retries_a_job_whose_incident_another_holds_then_runs_it_once(
    tmp_path: Path, prefix: str
) -> None:
    settings = _settings(
        tmp_path / "state", broker_url=SecretStr(REDIS), broker_prefix=prefix, lease_seconds=3.0
    )
    with local_client(create_app(settings)) as client:
        incident_id = _page(client)
    leases = wiring.leases(settings)
    assert leases.acquire(f"incident:{incident_id}", "other-host:1", 600)
    make_app(settings).send_task("fixloop.carry", args=[1], queue="light")
    env = fleet_env(settings.home, prefix, None, lease_seconds="3")
    log = tmp_path / "worker.log"
    with worker_process(env, log, "--queues", "light"):
        deadline = time.monotonic() + 120
        while "Retry in" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Retry in" in log.read_text(), log.read_text()[-2000:]
        assert _job_state(settings, 1) == ("queued", 0), "not started while another holds it"
        leases.release(f"incident:{incident_id}", "other-host:1")
        while _job_state(settings, 1)[0] != "done" and time.monotonic() < deadline + 120:
            time.sleep(0.2)

    assert _job_state(settings, 1) == ("done", 1)
    assert wiring.inbox(settings).incident(incident_id)["outcome"] == "escalated: ticket FIX-1"


def _records(settings: Settings) -> tuple[int, int]:
    url = settings.database_url
    records = open_database(
        settings.home / "records.db" if url is None else url.get_secret_value(), "records"
    )
    with records.transaction() as db:
        return (
            db.execute(select(func.count()).select_from(tickets)).scalar_one(),
            db.execute(select(func.count()).select_from(pull_requests)).scalar_one(),
        )


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing_another_finishes_with_one_ticket_and_pr(
    tmp_path: Path, demo_repo: Path, database_url: str | None, prefix: str
) -> None:
    lease = "3"
    settings = _settings(
        tmp_path / "state",
        database_url,
        repos={"4504": demo_repo},
        broker_url=SecretStr(REDIS),
        broker_prefix=prefix,
        lease_seconds=float(lease),
        worker=True,
    )
    env = fleet_env(
        settings.home,
        prefix,
        database_url,
        repos=repos_setting({"4504": demo_repo}),
        lease_seconds=lease,
        test_timeout="120",
    )
    log = tmp_path / "workers.log"
    with live_server(create_app(settings)) as url:
        body, headers = signed.sentry(alert())
        incident_id = httpx.post(f"{url}/webhooks/sentry", content=body, headers=headers).json()[
            "incident_id"
        ]
        with worker_process(env, log) as first:
            deadline = time.monotonic() + 300
            while _records(settings)[0] == 0 and time.monotonic() < deadline:
                assert first.poll() is None, log.read_text()
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            assert first.wait() == -signal.SIGKILL
        assert _records(settings) == (1, 0), "killed after the ticket, before the PR"
        assert _job_state(settings, 1)[0] == "running"

        with worker_process(env, log):
            deadline = time.monotonic() + 600
            while _job_state(settings, 1)[0] != "done" and time.monotonic() < deadline:
                time.sleep(0.2)
        record = httpx.get(f"{url}/incidents/{incident_id}").json()

    assert record["run"]["status"] == "awaiting_review", log.read_text()[-3000:]
    assert _records(settings) == (1, 1)
    assert _job_state(settings, 1) == ("done", 2), "taken over once, by the second worker"
    assert [n["node"] for n in record["run"]["audit"]].count("ticket") == 1


@pytest.mark.slow
@pytest.mark.nightly
def test_eval_with_a_broker_replays_the_cases_on_the_workers(tmp_path: Path, prefix: str) -> None:
    corpus = tmp_path / "corpus"
    write_rates_case(corpus)
    twin = corpus / "handwritten-rates-twin"
    shutil.copytree(corpus / "handwritten-rates", twin)
    toml = (twin / "case.toml").read_text()
    (twin / "case.toml").write_text(toml.replace("handwritten-rates", "handwritten-rates-twin"))
    settings = _settings(tmp_path / "state", broker_url=SecretStr(REDIS), broker_prefix=prefix)
    env = fleet_env(tmp_path / "worker-state", prefix, None)
    with worker_process(env, tmp_path / "workers.log", "--concurrency", "2"):
        options = EvalOptions(
            engines=["templates"], jobs=2, workdir=tmp_path / "work", fleet=make_app(settings)
        )
        report = run_eval([corpus], options)

    cases = {case["id"]: case for case in report["cases"]}
    assert sorted(cases) == ["handwritten-rates", "handwritten-rates-twin"]
    for case in cases.values():
        assert (case["proven"], case["correct"]) == (True, True), case.get("error")
        assert case["worker"].split(":")[-1].isdigit(), "replayed by a worker process"
    assert (tmp_path / "worker-state" / "evals" / "cases").is_dir()

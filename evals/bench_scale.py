"""Benchmark the fleet: incidents carried by W Celery workers, with or without one killed.

    python -m evals.bench_scale --workers 2 --incidents 4 --repos 2 [--kill-one] [--json OUT]
    python -m evals.bench_scale ... --postgres postgresql://127.0.0.1:5432/test

Loopback only, bounded by `--timeout`, and it cleans up after itself: it builds R copies of the
sample service, crashes one under sentry-sdk to get a real event, starts `fixloop serve` with a
broker (the Redis at `--redis`, under a key prefix of its own, deleted after) and W `fixloop
worker` processes, and sends N events of distinct incidents (each its own Sentry project, the
projects spread over the R repositories). With `--kill-one` the first worker is killed with
SIGKILL once it carries a run, and a new one started in its place. It reports incidents per
minute, per-incident latency (event sent to job settled, p50/p95), the CPU seconds of all
fixloop processes (server, workers, their test runs) per incident, and lost (sent, never an
incident), duplicated (a second ticket or PR for one incident) and stuck (not settled by the
deadline) incidents.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from agent import wiring
from agent.demo.sample_repo import build_demo_repo
from agent.demo.trigger import trigger_incident
from agent.settings import Settings
from evals.postgres import scratch_schema
from tools.store.tables import jobs, pull_requests, tickets

DSN_KEY = "bench-scale-key"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_scale")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--incidents", type=int, default=4)
    parser.add_argument("--repos", type=int, default=2)
    parser.add_argument("--kill-one", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds, at most")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", metavar="URL", help="stores in this PostgreSQL database")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args(argv)
    if min(args.workers, args.incidents, args.repos) < 1:
        parser.error("--workers, --incidents and --repos must be at least 1")
    schema = scratch_schema(args.postgres) if args.postgres else nullcontext(None)
    prefix = f"fixloop-bench-{uuid.uuid4().hex[:12]}:"
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-scale-") as scratch, schema as url:
        try:
            figures = _bench(Path(scratch), url, prefix, args)
        finally:
            _delete_keys(args.redis, prefix)
    print(json.dumps(figures, indent=2))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures, indent=2))
    return 0 if figures["lost"] == figures["duplicated"] == figures["stuck"] == 0 else 1


def _bench(root: Path, url: str | None, prefix: str, args: argparse.Namespace) -> dict[str, Any]:
    repos = [build_demo_repo(root / f"work{n}") for n in range(args.repos)]
    event = _real_event(root, repos[0])
    projects = [str(9000 + k) for k in range(args.incidents)]
    tables = {
        f"repo{n}": {"checkout": str(repo), "projects": projects[n :: args.repos]}
        for n, repo in enumerate(repos)
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXLOOP_")}
    env |= {
        "FIXLOOP_HOME": str(root / "state"),
        "FIXLOOP_BROKER_URL": args.redis,
        "FIXLOOP_BROKER_PREFIX": prefix,
        "FIXLOOP_LEASE_SECONDS": "10",
        "FIXLOOP_INGEST_KEYS": json.dumps([DSN_KEY]),
        "FIXLOOP_REPOS": json.dumps(tables),
    }
    if url is not None:
        env["FIXLOOP_DATABASE_URL"] = url
    settings = Settings(home=root / "state", database_url=url)
    port = _free_port()
    cpu_before = _children_cpu()
    with ExitStack() as processes:
        server = processes.enter_context(
            _process(env, root / "server.log", "serve", "--port", str(port))
        )
        base = f"http://127.0.0.1:{port}"
        _wait_until(lambda: _answers(base), 120, "the server did not start")
        workers = [
            processes.enter_context(_process(env, root / f"worker{n}.log", "worker"))
            for n in range(args.workers)
        ]
        sent_at = _send(base, event, projects)
        deadline = time.monotonic() + args.timeout
        killed = False
        while time.monotonic() < deadline and _unsettled(settings) > 0:
            if args.kill_one and not killed and _running(settings) > 0:
                time.sleep(2)  # well into the run
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                killed = True
                processes.enter_context(_process(env, root / "worker-replacement.log", "worker"))
            time.sleep(0.5)
        assert server.poll() is None, (root / "server.log").read_text()[-2000:]
        figures = _figures(settings, sent_at, args, killed)
    figures["cpu_seconds_per_incident"] = round((_children_cpu() - cpu_before) / args.incidents, 2)
    figures["load_average"] = [round(n, 1) for n in os.getloadavg()]
    return figures


def _real_event(root: Path, repo: Path) -> dict[str, Any]:
    """The event the sample service's sentry-sdk reports when it crashes."""
    settings = Settings(home=root / "crash")
    store = wiring.error_store(settings)
    with wiring.sentry_intake(settings, port=0) as intake:
        event_id = trigger_incident(
            repo, intake.dsn(project_id="1"), delivered=lambda eid: store.get(eid) is not None
        )
    payload = store.get(event_id)
    assert payload is not None
    return payload


def _send(base: str, event: dict[str, Any], projects: list[str]) -> dict[str, float]:
    """One event per project (each its own incident): when each was answered."""
    sent = {}
    with httpx.Client(timeout=30) as client:
        for project in projects:
            body = event | {"event_id": uuid.uuid4().hex}
            answer = client.post(
                f"{base}/api/{project}/store/", json=body, params={"sentry_key": DSN_KEY}
            )
            answer.raise_for_status()
            sent[project] = time.time()
    return sent


def _figures(
    settings: Settings, sent_at: dict[str, float], args: argparse.Namespace, killed: bool
) -> dict[str, Any]:
    inbox = wiring.inbox(settings)
    records = wiring.records_db(settings)
    runs = {}
    for record in inbox.incidents(limit=10_000):
        runs[record["project"]] = record
    with wiring.database(settings, "inbox").transaction() as db:
        settled = {
            row.incident_id: row.updated_at
            for row in db.execute(
                select(jobs.c.incident_id, jobs.c.updated_at).where(
                    jobs.c.kind == "run", jobs.c.state.in_(("done", "failed"))
                )
            )
        }
    with records.transaction() as db:
        ticket_count = db.execute(
            select(tickets.c.incident_id, func.count()).group_by(tickets.c.incident_id)
        ).all()
        pr_count = db.execute(
            select(pull_requests.c.branch, func.count()).group_by(pull_requests.c.branch)
        ).all()
    latencies = sorted(
        settled[record["id"]] - sent_at[project]
        for project, record in runs.items()
        if record["id"] in settled and project in sent_at
    )
    first, last = min(sent_at.values()), max(settled.values(), default=time.time())
    outcomes: dict[str, int] = {}
    for record in runs.values():
        outcomes[str(record["outcome"])] = outcomes.get(str(record["outcome"]), 0) + 1
    return {
        "workers": args.workers,
        "incidents": args.incidents,
        "repos": args.repos,
        "killed_one": killed,
        "store": "postgresql" if settings.database_url else "sqlite",
        "incidents_per_minute": round(len(settled) / max(last - first, 1e-9) * 60, 2),
        "latency_p50_s": round(statistics.median(latencies), 1) if latencies else None,
        "latency_p95_s": round(_p95(latencies), 1) if latencies else None,
        "outcomes": outcomes,
        "lost": len(sent_at) - len(runs),
        "duplicated": sum(1 for _, n in ticket_count if n > 1)
        + sum(1 for _, n in pr_count if n > 1),
        "stuck": len(runs) - len(settled),
    }


def _p95(values: list[float]) -> float:
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def _unsettled(settings: Settings) -> int:
    stats = wiring.inbox(settings).stats()
    return stats["jobs_queued"] + stats["jobs_sent"] + stats["jobs_running"]


def _running(settings: Settings) -> int:
    return wiring.inbox(settings).stats()["jobs_running"]


class _process:
    """A `fixloop` command in its own process; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.command = [sys.executable, "-m", "agent.service.cli", *args]
        self.env = env
        self.log = log

    def __enter__(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        return self.process

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until(check: Any, seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_scale: {failure}")
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _delete_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


if __name__ == "__main__":
    sys.exit(main())

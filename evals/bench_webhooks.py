"""Benchmark `fixloop serve`: signed-webhook throughput and latency, and a storm of one error.

    python -m evals.bench_webhooks                     # 20,000 mixed + 10,000 of one error
    python -m evals.bench_webhooks --requests 5000 --storm 2000 --json
    python -m evals.bench_webhooks --postgres postgresql://127.0.0.1:5432/test

Starts `fixloop serve` (uvicorn, the worker on) in a subprocess on a loopback port with a fresh
state directory, then sends pre-signed Sentry `event_alert` webhooks over keep-alive HTTP/1.1
connections from one asyncio client (with `--postgres URL`, the server's stores in a schema of
their own in that database, dropped after):

1. mixed: `--requests` events of `--bugs` different errors (distinct event ids);
2. storm: `--storm` events of one new error.

Reports requests/s and latency percentiles for each phase, and checks against `/incidents` and
`/metrics` that none was lost: every request answered 200, every event counted, the storm one
incident whose count is the number of events sent. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx

from agent.intake.payloads import parse_payload
from agent.intake.webhooks import sign
from evals.postgres import scratch_schema
from evals.serving import wait_until_healthy

SECRET = "bench-secret"
REQUEST_TIMEOUT = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_webhooks")
    parser.add_argument("--requests", type=int, default=20_000, help="mixed-phase requests")
    parser.add_argument("--bugs", type=int, default=50, help="distinct errors in the mixed phase")
    parser.add_argument("--storm", type=int, default=10_000, help="events of one error")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--postgres", metavar="URL", help="the server's stores in PostgreSQL")
    args = parser.parse_args(argv)

    schema = scratch_schema(args.postgres) if args.postgres else nullcontext(None)
    with tempfile.TemporaryDirectory(prefix="fixloop-bench-") as scratch, schema as url:
        port = _free_port()
        server = _start_server(Path(scratch), port, url)
        try:
            figures = asyncio.run(_bench(port, server.pid, args))
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        print(json.dumps(figures))
    else:
        for phase in ("mixed", "storm"):
            f = figures[phase]
            print(
                f"{phase}: {f['requests']} requests in {f['seconds']} s = {f['rps']} req/s; "
                f"latency p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms; "
                f"non-200: {f['non_200']}; server CPU {f['server_cpu_ms_per_request']} ms/request"
            )
        checks = figures["checks"]
        print(
            f"checks: {checks['incidents']} incidents (expected {checks['expected_incidents']}), "
            f"storm count {checks['storm_count']} of {args.storm}, "
            f"events counted {checks['events']} of {checks['sent']}"
        )
    return 0 if figures["checks"]["ok"] else 1


async def _bench(port: int, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    mixed = [_request(port, _event(f"handler_{n % args.bugs}")) for n in range(args.requests)]
    storm_events = [_event("storm_handler") for _ in range(args.storm)]
    storm = [_request(port, event) for event in storm_events]
    storm_fingerprint = parse_payload(storm_events[0]).fingerprint
    figures: dict[str, Any] = {
        "mixed": await _phase(port, server_pid, mixed, args.connections),
        "storm": await _phase(port, server_pid, storm, args.connections),
        "connections": args.connections,
        "store": "postgresql" if args.postgres else "sqlite",
        "cpus": os.cpu_count(),
    }
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        incidents = (await client.get("/incidents", params={"limit": 1000})).json()["incidents"]
    storm_incidents = [i for i in incidents if i["fingerprint"] == storm_fingerprint]
    sent = args.requests + args.storm
    events = sum(i["count"] for i in incidents)
    checks = {
        "sent": sent,
        "events": events,
        "incidents": len(incidents),
        "expected_incidents": min(args.bugs, args.requests) + 1,
        "storm_count": storm_incidents[0]["count"] if len(storm_incidents) == 1 else None,
    }
    checks["ok"] = (
        events == sent
        and checks["incidents"] == checks["expected_incidents"]
        and checks["storm_count"] == args.storm
        and figures["mixed"]["non_200"] == 0
        and figures["storm"]["non_200"] == 0
    )
    figures["checks"] = checks
    return figures


async def _phase(
    port: int, server_pid: int, requests: list[bytes], connections: int
) -> dict[str, Any]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    latencies: list[float] = []
    statuses: list[int] = []
    server_cpu = _cpu_seconds(server_pid)
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, queue, latencies, statuses) for _ in range(connections))
    )
    seconds = time.perf_counter() - started
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    ordered = sorted(latencies)
    return {
        "requests": len(requests),
        "seconds": round(seconds, 2),
        "rps": round(len(requests) / seconds),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 2),
        "max_ms": round(1000 * ordered[-1], 2),
        "non_200": sum(1 for status in statuses if status != 200),
        "server_cpu_ms_per_request": round(1000 * server_cpu / len(requests), 3),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _connection(
    port: int, queue: asyncio.Queue[bytes], latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while not queue.empty():
            request = queue.get_nowait()
            sent = time.perf_counter()
            writer.write(request)
            status = await asyncio.wait_for(_response(reader), REQUEST_TIMEOUT)
            latencies.append(time.perf_counter() - sent)
            statuses.append(status)
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return status


def _request(port: int, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        "POST /webhooks/sentry HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Sentry-Hook-Resource: event_alert\r\n"
        f"Sentry-Hook-Signature: {sign(SECRET, body)}\r\n"
        f"Sentry-Hook-Timestamp: {int(time.time())}\r\n"
        f"Request-ID: {uuid.uuid4()}\r\n"
        "\r\n"
    )
    return head.encode() + body


def _event(function: str) -> dict[str, Any]:
    """An `event_alert` webhook body: a ZeroDivisionError three frames deep, as Sentry sends."""
    frames = [
        _frame("app/web.py", "app.web", "dispatch", 41, "return handler(request)"),
        _frame("app/handlers.py", "app.handlers", function, 17, "return report(orders)"),
        _frame("app/reports.py", "app.reports", "average_basket", 9, "return total / len(orders)"),
    ]
    return {
        "action": "triggered",
        "data": {
            "event": {
                "event_id": uuid.uuid4().hex,
                "project": 4504,
                "platform": "python",
                "level": "error",
                "release": "shop@1.4.0",
                "environment": "production",
                "timestamp": time.time(),
                "culprit": f"app.handlers in {function}",
                "exception": {
                    "values": [
                        {
                            "type": "ZeroDivisionError",
                            "value": "division by zero",
                            "stacktrace": {"frames": frames},
                        }
                    ]
                },
                "tags": [["environment", "production"], ["server_name", "web-1"]],
            },
            "triggered_rule": "Any new error",
        },
    }


def _frame(filename: str, module: str, function: str, lineno: int, line: str) -> dict[str, Any]:
    return {
        "filename": filename,
        "abs_path": f"/srv/shop/{filename}",
        "module": module,
        "function": function,
        "lineno": lineno,
        "context_line": f"    {line}",
        "pre_context": ["", f"def {function}(request):"],
        "post_context": ["", ""],
        "vars": {"request": "<Request 'GET /report'>", "orders": "[]"},
        "in_app": True,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(scratch: Path, port: int, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIXLOOP_")} | {
        "FIXLOOP_HOME": str(scratch / "state"),
        "FIXLOOP_SENTRY_CLIENT_SECRET": SECRET,
        "FIXLOOP_WEBHOOK_MAX_AGE": "3600",
    }
    if database_url is not None:
        env["FIXLOOP_DATABASE_URL"] = database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "agent.service.cli", "serve", "--port", str(port)],
        env=env,
        cwd=scratch,
        stdout=subprocess.DEVNULL,
    )
    return wait_until_healthy(server, port)


if __name__ == "__main__":
    sys.exit(main())
